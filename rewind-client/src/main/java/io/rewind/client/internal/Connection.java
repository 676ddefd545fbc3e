package io.rewind.client.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rewind.client.AuthenticationException;
import io.rewind.client.ClientClosedException;
import io.rewind.client.RequestTimeoutException;
import io.rewind.client.RewindException;
import io.rewind.client.ServerUnavailableException;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.Response;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
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

    private static final AtomicLong MONITORS = new AtomicLong();
    /**
     * The events the connection watches. JeroMQ 0.6.0 reports a refused key (HANDSHAKE_FAILED_AUTH) and a
     * finished greeting (HANDSHAKE_PROTOCOL), but never a finished handshake (HANDSHAKE_SUCCEEDED), and a
     * mismatched security mechanism only as a disconnection before the greeting finished. After either
     * failure it never connects again: the socket must be made anew.
     */
    private static final int HANDSHAKE_EVENTS = zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
            | zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_PROTOCOL
            | zmq.ZMQ.ZMQ_EVENT_CONNECTED | zmq.ZMQ.ZMQ_EVENT_DISCONNECTED | zmq.ZMQ.ZMQ_EVENT_CONNECT_RETRIED;
    /**
     * How long a connection that ended before its greeting finished may take to try again. A server going
     * down and JeroMQ's handshake stall (see {@link #HANDSHAKE_MILLIS}) end it the same way, but then JeroMQ
     * schedules a new attempt at once (CONNECT_RETRIED); after a mismatched mechanism it never does (libzmq
     * would say ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH).
     */
    static final long SILENT_FAILURE_NANOS = TimeUnit.MILLISECONDS.toNanos(1_500);
    /** The first wait, after a refused handshake, before the socket is made anew and tries again. */
    static final long FIRST_RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** The longest such wait. */
    static final long LAST_RETRY_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final String endpoint;
    private final Duration timeout;
    /** CURVE keys, or null for plain text. */
    private final CurveClient curve;
    /** Why the server refused the last handshake; requests fail with it at once until the socket is made anew. */
    private volatile String refusal;
    /** When the socket is made anew after a refusal; loop thread only. */
    private long retryAtNanos;
    /** The wait before the next retry after a refusal; loop thread only. */
    private long retryWaitNanos = FIRST_RETRY_NANOS;
    /** When a connection ended before its greeting, while no new one has come since; 0 for none. Loop thread. */
    private long silentEndNanos;
    /** The DEALER's monitor: handshake events. Owned by the loop's thread. */
    private ZMQ.Socket monitor;
    private SelectionKey monitorKey;
    /** Whether the current TCP connection finished its greeting (same mechanism on both sides); loop thread only. */
    private boolean greeted;
    /**
     * Whether a reply came since the last connection began: its handshake was over then, so a protocol failure
     * now broke a working connection (a message that did not decode) rather than refused one. Loop thread only.
     */
    private boolean repliedSinceConnect;
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

    /** A plain-text connection: see {@link #Connection(String, Duration, CurveClient)}. */
    public Connection(String endpoint, Duration timeout) {
        this(endpoint, timeout, null);
    }

    /**
     * @param endpoint the server's command endpoint, e.g. tcp://127.0.0.1:9090
     * @param timeout  how long a request may wait for its reply
     * @param curve    CURVE keys, or null for plain text
     */
    public Connection(String endpoint, Duration timeout, CurveClient curve) {
        this.endpoint = endpoint;
        this.timeout = timeout;
        this.curve = curve;
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
        // Until the socket is made anew: JeroMQ's refused socket would neither send nor connect again.
        String refused = refusal;
        if (refused != null) {
            future.completeExceptionally(new AuthenticationException(refused));
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

    /** Fails the requests whose deadline has passed; cheaper than a timer task per request. Loop thread. */
    void expireOverdue(long now) {
        checkHandshakeTimers(now);
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
        if (curve != null) {
            curve.apply(dealer);
        }
        // Before connecting, so that the first handshake's events are seen.
        String monitorEndpoint = "inproc://rewind-client-monitor-" + MONITORS.incrementAndGet();
        dealer.monitor(monitorEndpoint, HANDSHAKE_EVENTS);
        monitor = loop.context().createSocket(SocketType.PAIR);
        monitor.setLinger(0);
        monitor.connect(monitorEndpoint);
        dealer.connect(endpoint);
        try {
            key = dealer.getFD().register(loop.selector(), SelectionKey.OP_READ, this);
            monitorKey = monitor.getFD().register(loop.selector(), SelectionKey.OP_READ, this);
        } catch (ClosedChannelException e) {
            throw new IllegalStateException("the client's selector is closed", e);
        }
    }

    /**
     * On the loop's thread: reads the handshake events. A refused handshake fails every pending request
     * at once, and each new one until the socket, made anew, tries again after a wait (1 s, doubling up to
     * 5 s): JeroMQ never reconnects after a refusal, and a new socket also drops whatever was queued on the
     * old one, so no request reaches the server later unasked.
     */
    private void watchHandshakes() {
        ZMQ.Event event;
        while ((event = ZMQ.Event.recv(monitor, ZMQ.DONTWAIT)) != null) {
            int kind = event.getEvent();
            if (kind == zmq.ZMQ.ZMQ_EVENT_CONNECTED || kind == zmq.ZMQ.ZMQ_EVENT_CONNECT_RETRIED) {
                greeted = false;
                repliedSinceConnect = false;
                silentEndNanos = 0;
            } else if (kind == zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_PROTOCOL) {
                greeted = true;
            } else if (kind == zmq.ZMQ.ZMQ_EVENT_DISCONNECTED) {
                if (!greeted) {
                    silentEndNanos = System.nanoTime();
                }
                greeted = false;
            } else if (kind == zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL && repliedSinceConnect) {
                broken(event);
                return;
            } else if (kind == zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                    || kind == zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
                refuse(describeRefusal(event));
            }
        }
    }

    /**
     * On the loop's thread: a working connection broke on a protocol error (JeroMQ reports a message that does not
     * decode, e.g. a CURVE box that does not open, as a failed handshake). The requests sent may or may not have
     * taken effect: they fail as timed out. Those not yet handed to ZeroMQ go on the socket, made anew at once (JeroMQ
     * does not reconnect after a protocol error).
     */
    private void broken(ZMQ.Event event) {
        Object value = event.getValue();
        String why = "the connection to " + endpoint + " broke (ZeroMQ protocol error 0x"
                + Integer.toHexString(value instanceof Integer code ? code : 0) + " after the handshake)";
        log.warn("{}; the requests in flight may or may not have taken effect; connecting again", why);
        Set<Long> queued = new HashSet<>();
        outbox.forEach(outgoing -> queued.add(outgoing.id()));
        for (Long id : pending.keySet()) {
            if (!queued.contains(id)) {
                fail(id, new RequestTimeoutException(why + " before the reply came; the request may or may not have"
                        + " taken effect"));
            }
        }
        repliedSinceConnect = false;
        closeSockets();
        openSocket();
    }

    /** On the loop's thread, every sweep: a silent end that was not followed by a new connection, and retries. */
    private void checkHandshakeTimers(long now) {
        if (silentEndNanos != 0 && now - silentEndNanos > SILENT_FAILURE_NANOS) {
            silentEndNanos = 0;
            refuse("the handshake with " + endpoint + " failed before the greeting was over: most likely one side"
                    + " speaks CURVE and the other does not (the server runs " + (curve == null
                            ? "with --curve-secret-key-file: give the client the server's public key and a key pair,"
                                    + " RewindClient.builder().curveServerKey(...).curveKeyPair(...))"
                            : "without --curve-secret-key-file)") + "; nothing was sent");
        }
        if (refusal != null && dealer != null && now - retryAtNanos >= 0) {
            // Made anew, the socket connects again; the next refusal (or none) decides.
            refusal = null;
            closeSockets();
            openSocket();
        }
    }

    private void refuse(String why) {
        long now = System.nanoTime();
        if (!why.equals(refusal)) {
            log.warn("{}", why);
        }
        refusal = why;
        retryAtNanos = now + retryWaitNanos;
        retryWaitNanos = Math.min(retryWaitNanos * 2, LAST_RETRY_NANOS);
        for (Long id : pending.keySet()) {
            fail(id, new AuthenticationException(why));
        }
        outbox.clear();
    }

    private String describeRefusal(ZMQ.Event event) {
        Object value = event.getValue();
        int code = value instanceof Integer number ? number : 0;
        if (event.getEvent() == zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            return "the server at " + endpoint + " refused this client's CURVE key (ZAP status " + code + "): it is"
                    + " not, or no longer, in the server's authorized keys, or this endpoint needs other permissions"
                    + " (a live feed needs read=*); nothing was sent";
        }
        if (code == zmq.ZMQ.ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
            return curve == null
                    ? "the server at " + endpoint + " speaks CURVE only: give the client the server's public key and"
                            + " a key pair (RewindClient.builder().curveServerKey(...).curveKeyPair(...)); nothing was"
                            + " sent"
                    : "the server at " + endpoint + " does not speak CURVE (it runs without"
                            + " --curve-secret-key-file); nothing was sent";
        }
        return "the handshake with " + endpoint + " failed (ZeroMQ protocol error 0x" + Integer.toHexString(code)
                + "); nothing was sent";
    }

    /**
     * On the loop's thread: sends what is queued and receives what has arrived, until neither is
     * left. ZeroMQ's descriptor only signals changes, so this leaves nothing the selector would miss.
     */
    void exchange() {
        exchanging = true;
        try {
            watchHandshakes();
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
                    fail(outgoing.id(), new ServerUnavailableException("ZeroMQ took no request for " + endpoint
                            + " (" + SEND_HIGH_WATER_MARK + " requests are already queued, or its connection ended"
                            + (silentEndNanos != 0 ? " before the handshake" : "") + "); nothing was sent, retry later"));
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
            retryWaitNanos = FIRST_RETRY_NANOS;
            repliedSinceConnect = true;
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
        closeSockets();
        failAll();
    }

    private void closeSockets() {
        if (key != null) {
            key.cancel();
        }
        if (monitorKey != null) {
            monitorKey.cancel();
        }
        if (dealer != null) {
            // The monitor is stopped before either socket closes: JeroMQ would otherwise send its last event to
            // a closed PAIR.
            dealer.monitor(null, 0);
        }
        if (monitor != null) {
            monitor.close();
        }
        if (dealer != null) {
            dealer.close();
        }
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
