package io.rewind.client.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rewind.client.ClientClosedException;
import io.rewind.client.RequestTimeoutException;
import io.rewind.client.RewindException;
import io.rewind.client.ServerUnavailableException;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.Response;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * One DEALER connection to the command endpoint, served by the JVM's shared {@link IoLoop}. Any
 * thread may {@link #send}: the request goes into a queue and the connection is scheduled on the
 * loop, which sends it as {@code [empty][Request]} and completes the caller's future when the reply
 * with the same request id arrives. Replies complete futures on the loop's thread.
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

    private record Pending(CompletableFuture<Response> future, long deadlineNanos, Duration timeout) {}

    private record Outgoing(long id, byte[] frame) {}

    /**
     * Requests ZeroMQ may queue for the server; beyond it (the server is gone or far behind) a request
     * fails at once instead of growing the queue or blocking the I/O thread.
     */
    private static final int SEND_HIGH_WATER_MARK = 100_000;

    /** Rounds of sending and receiving one connection gets before the loop serves the others. */
    private static final int ROUNDS = 8;
    /** Replies one round takes. */
    private static final int RECEIVE_BATCH = 1_024;

    private final String endpoint;
    private final Duration timeout;
    private final IoLoop loop;
    private final Queue<Outgoing> outbox = new ConcurrentLinkedQueue<>();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong requestIds = new AtomicLong();
    /** Whether the connection waits in the loop's schedule: one entry there serves any number of requests. */
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile boolean running = true;
    /** Owned by the loop's thread. */
    private ZMQ.Socket dealer;
    /** Whether the loop's thread is inside {@link #exchange()}; read only on that thread. */
    private boolean exchanging;
    private SelectionKey key;

    /**
     * @param endpoint the server's command endpoint, e.g. tcp://127.0.0.1:9090
     * @param timeout  how long a request may wait for its reply
     */
    public Connection(String endpoint, Duration timeout) {
        this.endpoint = endpoint;
        this.timeout = timeout;
        this.loop = IoLoop.acquire();
        scheduled.set(true);
        loop.schedule(this);
    }

    /** Sends the request (its request id is set here) and returns its reply. */
    public CompletableFuture<Response> send(Request.Builder request) {
        return send(request, timeout);
    }

    /** Like {@link #send(Request.Builder)}, waiting for the reply at most {@code replyTimeout}. */
    public CompletableFuture<Response> send(Request.Builder request, Duration replyTimeout) {
        CompletableFuture<Response> future = new CompletableFuture<>();
        if (!running) {
            future.completeExceptionally(new ClientClosedException("the client is closed"));
            return future;
        }
        long id = requestIds.incrementAndGet();
        byte[] frame = request.setRequestId(id).build().toByteArray();
        pending.put(id, new Pending(future, System.nanoTime() + replyTimeout.toNanos(), replyTimeout));
        outbox.add(new Outgoing(id, frame));
        if (!running) {
            // Closed meanwhile: the loop may already have failed what was pending.
            fail(id, new ClientClosedException("the client is closed"));
            return future;
        }
        // Sent from a reply callback of this connection: the exchange under way sends it in its next round.
        if (loop.isLoopThread() && exchanging) {
            return future;
        }
        if (scheduled.compareAndSet(false, true)) {
            loop.schedule(this);
        }
        return future;
    }

    /** Fails the requests whose deadline has passed; cheaper than a timer task per request. */
    void expireOverdue(long now) {
        for (Map.Entry<Long, Pending> entry : pending.entrySet()) {
            if (now - entry.getValue().deadlineNanos() > 0) {
                fail(entry.getKey(), new RequestTimeoutException("no reply from " + endpoint + " within "
                        + entry.getValue().timeout().toMillis() + " ms; the request may or may not have taken effect"));
            }
        }
    }

    private void fail(long id, RewindException error) {
        Pending p = pending.remove(id);
        if (p != null) {
            p.future().completeExceptionally(error);
        }
    }

    /**
     * The ZeroMQ context of the shared loop, for the client's other sockets (subscriptions): one
     * ZeroMQ I/O thread serves them all. Sockets made with it must close before this connection.
     */
    public ZContext context() {
        return loop.context();
    }

    boolean isSocketOpen() {
        return dealer != null;
    }

    boolean isClosing() {
        return !running;
    }

    /** On the loop's thread: connects the DEALER and registers it with the loop's selector. */
    void openSocket() {
        dealer = loop.context().createSocket(SocketType.DEALER);
        dealer.setLinger(0);
        dealer.setSndHWM(SEND_HIGH_WATER_MARK);
        dealer.setRcvHWM(0);
        dealer.setReconnectIVL(100);
        dealer.setReconnectIVLMax(2_000);
        dealer.setHandshakeIvl(HANDSHAKE_MILLIS);
        dealer.connect(endpoint);
        try {
            key = dealer.getFD().register(loop.selector(), SelectionKey.OP_READ, this);
        } catch (ClosedChannelException e) {
            throw new IllegalStateException("the client's selector is closed", e);
        }
    }

    /**
     * On the loop's thread: sends what is queued and receives what has arrived, until neither is
     * left. ZeroMQ's descriptor only signals changes, so this leaves nothing the selector would miss.
     */
    void exchange() {
        exchanging = true;
        try {
            exchangeRounds();
        } finally {
            exchanging = false;
        }
    }

    private void exchangeRounds() {
        for (int round = 0; round < ROUNDS; round++) {
            scheduled.set(false);
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
            receive();
            if (!running || outbox.isEmpty() && (dealer.getEvents() & ZMQ.Poller.POLLIN) == 0) {
                return;
            }
        }
        // Still busy: the other connections get their turn first, then this one goes on.
        if (scheduled.compareAndSet(false, true)) {
            loop.schedule(this);
        }
    }

    private void receive() {
        byte[] first;
        for (int i = 0; i < RECEIVE_BATCH && running && (first = dealer.recv(ZMQ.DONTWAIT)) != null; i++) {
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

    /** On the loop's thread: closes the socket and fails whatever is still pending. */
    void closeSocket() {
        if (key != null) {
            key.cancel();
        }
        if (dealer != null) {
            dealer.close();
        }
        failAll();
    }

    private void failAll() {
        for (Long id : pending.keySet()) {
            fail(id, new ClientClosedException("the client was closed before the reply from " + endpoint + " came"));
        }
    }

    @Override
    public void close() {
        if (!running) {
            return;
        }
        running = false;
        loop.schedule(this);
        failAll();
        IoLoop.release(loop);
    }
}
