package io.rewind.client.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rewind.client.ClientClosedException;
import io.rewind.client.RequestTimeoutException;
import io.rewind.client.RewindException;
import io.rewind.client.ServerUnavailableException;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * One DEALER connection to the command endpoint, owned by one I/O thread. Any thread may
 * {@link #send}: the request goes into a queue and a byte into a pipe wakes the I/O thread, which
 * sends it as {@code [empty][Request]} and completes the caller's future when the reply with the same
 * request id arrives. Replies complete futures on the I/O thread.
 */
public final class Connection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Connection.class);
    private static final byte[] EMPTY = new byte[0];
    /**
     * JeroMQ 0.6.0 occasionally stalls the handshake of a new outgoing connection until the handshake
     * interval (30 s by default) drops it and it reconnects (zeromq/jeromq#912). With a short interval
     * such a stall costs about a second instead of failing the first requests with a timeout.
     */
    public static final int HANDSHAKE_MILLIS = 1_000;

    private record Pending(CompletableFuture<Response> future, long deadlineNanos) {}

    private record Outgoing(long id, byte[] frame) {}

    /**
     * Requests ZeroMQ may queue for the server; beyond it (the server is gone or far behind) a request
     * fails at once instead of growing the queue or blocking the I/O thread.
     */
    private static final int SEND_HIGH_WATER_MARK = 100_000;

    /** How often the I/O thread looks for requests past their deadline. */
    private static final long SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final String endpoint;
    private final Duration timeout;
    private final ZContext context = new ZContext(1);
    private final Pipe wakeup;
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private final Queue<Outgoing> outbox = new ConcurrentLinkedQueue<>();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong requestIds = new AtomicLong();
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * @param endpoint the server's command endpoint, e.g. tcp://127.0.0.1:9090
     * @param timeout  how long a request may wait for its reply
     */
    public Connection(String endpoint, Duration timeout) {
        this.endpoint = endpoint;
        this.timeout = timeout;
        try {
            wakeup = Pipe.open();
            wakeup.source().configureBlocking(false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the client's wake-up pipe", e);
        }
        thread = new Thread(this::run, "rewind-client-io " + endpoint);
        thread.setDaemon(true);
        thread.start();
    }

    /** Sends the request (its request id is set here) and returns its reply. */
    public CompletableFuture<Response> send(Request.Builder request) {
        CompletableFuture<Response> future = new CompletableFuture<>();
        if (!running) {
            future.completeExceptionally(new ClientClosedException("the client is closed"));
            return future;
        }
        long id = requestIds.incrementAndGet();
        byte[] frame = request.setRequestId(id).build().toByteArray();
        pending.put(id, new Pending(future, System.nanoTime() + timeout.toNanos()));
        outbox.add(new Outgoing(id, frame));
        if (!running) {
            // Closed meanwhile: the I/O thread may already have failed what was pending.
            fail(id, new ClientClosedException("the client is closed"));
            return future;
        }
        if (wakeupPending.compareAndSet(false, true)) {
            try {
                wakeup.sink().write(ByteBuffer.wrap(new byte[] {1}));
            } catch (IOException e) {
                fail(id, new RewindException("cannot wake the client's I/O thread", e));
            }
        }
        return future;
    }

    /** Fails the requests whose deadline has passed; cheaper than a timer task per request. */
    private void expireOverdue(long now) {
        for (Map.Entry<Long, Pending> entry : pending.entrySet()) {
            if (now - entry.getValue().deadlineNanos() > 0) {
                fail(entry.getKey(), new RequestTimeoutException("no reply from " + endpoint + " within "
                        + timeout.toMillis() + " ms; the request may or may not have taken effect"));
            }
        }
    }

    private void fail(long id, RewindException error) {
        Pending p = pending.remove(id);
        if (p != null) {
            p.future().completeExceptionally(error);
        }
    }

    private void run() {
        ZMQ.Socket dealer = context.createSocket(SocketType.DEALER);
        dealer.setLinger(0);
        dealer.setSndHWM(SEND_HIGH_WATER_MARK);
        dealer.setRcvHWM(0);
        dealer.setReconnectIVL(100);
        dealer.setReconnectIVLMax(2_000);
        dealer.setHandshakeIvl(HANDSHAKE_MILLIS);
        dealer.connect(endpoint);
        ByteBuffer drain = ByteBuffer.allocate(256);
        // One selector for the life of the connection: ZMQ.Poller registers and deregisters its channels on
        // every poll, which cost more than the requests themselves under load.
        try (Selector selector = Selector.open()) {
            dealer.getFD().register(selector, SelectionKey.OP_READ);
            wakeup.source().register(selector, SelectionKey.OP_READ);
            long nextSweep = System.nanoTime() + SWEEP_NANOS;
            while (running) {
                long now = System.nanoTime();
                if (now - nextSweep > 0) {
                    expireOverdue(now);
                    nextSweep = now + SWEEP_NANOS;
                }
                Outgoing outgoing;
                while ((outgoing = outbox.poll()) != null) {
                    // A multipart message is queued whole or not at all, decided at its first frame.
                    if (!dealer.send(EMPTY, ZMQ.SNDMORE | ZMQ.DONTWAIT)) {
                        fail(outgoing.id(), new ServerUnavailableException(SEND_HIGH_WATER_MARK
                                + " requests are already queued for " + endpoint + "; nothing was sent, retry later"));
                        continue;
                    }
                    dealer.send(outgoing.frame(), ZMQ.DONTWAIT);
                }
                receive(dealer);
                // The socket's descriptor only signals changes: block only when nothing is pending.
                if (!outbox.isEmpty() || (dealer.getEvents() & ZMQ.Poller.POLLIN) != 0) {
                    continue;
                }
                selector.select(TimeUnit.NANOSECONDS.toMillis(SWEEP_NANOS));
                selector.selectedKeys().clear();
                drain.clear();
                while (wakeup.source().read(drain) > 0) {
                    drain.clear();
                }
                wakeupPending.set(false);
            }
        } catch (IOException | RuntimeException e) {
            if (running) {
                log.error("Client I/O thread for {} failed", endpoint, e);
            }
        } finally {
            dealer.close();
            running = false;
            failAll();
        }
    }

    private void receive(ZMQ.Socket dealer) {
        byte[] first;
        while ((first = dealer.recv(ZMQ.DONTWAIT)) != null) {
            byte[] body = dealer.hasReceiveMore() ? dealer.recv() : null;
            while (dealer.hasReceiveMore()) {
                dealer.recv();
            }
            if (first.length != 0 || body == null) {
                log.warn("Ignored a reply from {} that is not [empty][Response]", endpoint);
                continue;
            }
            Response response;
            try {
                response = Response.parseFrom(body);
            } catch (InvalidProtocolBufferException e) {
                log.warn("Ignored an unparsable reply from {}: {}", endpoint, e.getMessage());
                continue;
            }
            Pending p = pending.remove(response.getRequestId());
            if (p == null) {
                log.debug("Reply to request {} came after it timed out", response.getRequestId());
                continue;
            }
            p.future().complete(response);
        }
    }

    private void failAll() {
        for (Long id : pending.keySet()) {
            fail(id, new ClientClosedException("the client was closed before the reply from " + endpoint + " came"));
        }
    }

    @Override
    public void close() {
        running = false;
        try {
            wakeup.sink().write(ByteBuffer.wrap(new byte[] {1}));
        } catch (IOException ignored) {
            // The I/O thread notices within a second anyway.
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failAll();
        context.close();
        try {
            wakeup.sink().close();
            wakeup.source().close();
        } catch (IOException ignored) {
            // Nothing left to do with a pipe we are discarding.
        }
    }
}
