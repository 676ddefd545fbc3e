package io.rewind.server.transport;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import io.rewind.server.FatalErrors;
import io.rewind.server.security.ZapHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;
import zmq.Msg;
import zmq.io.Metadata;

/**
 * A thread that owns one ROUTER socket. It splits each message into its envelope (routing ids up
 * to the empty delimiter) and body, lets a {@link FrameHandler} answer it, and sends the replies
 * that other threads queue with {@link #sendLater} (appends are answered once committed). Serves the
 * command protocol and the legacy protocol alike.
 */
final class RouterEndpoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RouterEndpoint.class);
    private static final byte[] EMPTY = new byte[0];
    /**
     * Requests handled before the loop turns to its commit step and queued replies, so neither side starves.
     * The appends of a burst are committed as one group: the bigger, the fewer syncs.
     */
    private static final int BURST = 1024;
    /** A burst also ends after this long, so that its appends are committed soon whatever else it holds. */
    private static final long BURST_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    /** Answers the messages of one protocol. */
    interface FrameHandler {
        /**
         * Answers one message.
         *
         * @param envelope the routing frames up to and including the empty delimiter
         * @param body     the frames after the delimiter
         * @param key      the client's public key (Z85) when CURVE is on, else null
         * @return the reply frames to send after the envelope now, or null when another thread
         *     replies later through {@link #sendLater}
         */
        byte[][] handle(byte[][] envelope, List<byte[]> body, String key);

        /** The reply to a message without an empty delimiter frame. */
        byte[][] missingDelimiter();
    }

    /**
     * What the endpoint's thread does after each burst of requests: the command thread commits the
     * appends the burst queued, publishes them and queues their replies. Every method runs on the
     * endpoint's thread.
     */
    interface CommitStep {
        /** Prepares the step (binds the live feed) before the first request; throws to fail the endpoint's start. */
        void open();

        /** Does the work waiting; called after each burst of requests and whenever the thread wakes. */
        void run();

        /** Whether work is waiting: the thread does not sleep while it is. */
        boolean pending();

        /** Ends the step, after its last {@link #run()}. */
        void close();
    }

    /** A ZeroMQ error as words: JeroMQ's own message is often only "Errno 48". */
    static String describe(ZMQException e) {
        String meaning;
        try {
            meaning = ZMQ.Error.findByCode(e.getErrorCode()).getMessage();
        } catch (RuntimeException unknown) {
            meaning = e.getMessage();
        }
        return meaning + " (errno " + e.getErrorCode() + ")";
    }

    /** Why the endpoint did not start: its commit step could not open. */
    private static final class CommitStepFailure extends RuntimeException {
        CommitStepFailure(RuntimeException cause) {
            super(cause);
        }
    }

    /** No commit step: the endpoint only answers (the legacy endpoint, whose appends the command thread commits). */
    static final CommitStep NO_COMMITS = new CommitStep() {
        @Override
        public void open() {}

        @Override
        public void run() {}

        @Override
        public boolean pending() {
            return false;
        }

        @Override
        public void close() {}
    };

    /** A reply made on another thread: the envelope of the request it answers and the frames after it. */
    record DeferredReply(byte[][] envelope, byte[]... frames) {}

    private final ZContext context;
    private final String option;
    private final String endpoint;
    /** CURVE for this socket, or null for plain text. */
    private final CurveServer curve;
    /** The key of the message received last; null without CURVE. */
    private String key;
    private final long maxMessageSize;
    private final FrameHandler handler;
    private final CommitStep commitStep;
    private final Thread thread;
    private final CompletableFuture<String> bound = new CompletableFuture<>();
    /**
     * Replies queued by other threads. A plain queue and a selector wake-up, only when the thread
     * sleeps, cost far less per reply than an inproc socket's frames and signals.
     */
    private final Queue<DeferredReply> later = new ConcurrentLinkedQueue<>();
    private volatile Selector selector;
    private volatile boolean sleeping;
    private volatile boolean accepting = true;
    private volatile boolean running = true;

    /**
     * @param threadName name of the socket's thread
     * @param option     the option that configured the endpoint, for error messages
     * @param curve      CURVE for the socket, or null for plain text
     */
    RouterEndpoint(ZContext context, String threadName, String option, String endpoint, long maxMessageSize,
            CurveServer curve, FrameHandler handler, CommitStep commitStep) {
        this.context = context;
        this.curve = curve;
        this.option = option;
        this.endpoint = endpoint;
        this.maxMessageSize = maxMessageSize;
        this.handler = handler;
        this.commitStep = commitStep;
        this.thread = new Thread(this::run, threadName);
    }

    /** Starts the thread and returns the endpoint it bound, or throws why it could not. */
    String start() {
        thread.start();
        try {
            return bound.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CommitStepFailure failure) {
                // The commit step's own error names what it could not do, e.g. bind the live feed.
                throw new IllegalStateException(failure.getCause().getMessage(), failure.getCause());
            }
            throw new IllegalStateException("cannot bind " + option + " " + endpoint + ": "
                    + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding " + endpoint, e);
        }
    }

    private void run() {
        ZMQ.Socket router;
        try {
            router = context.createSocket(SocketType.ROUTER);
            router.setMsgAllocator(new FrameSizeGuard(option + " " + endpoint, maxMessageSize));
            router.setRouterMandatory(true);
            router.setMaxMsgSize(maxMessageSize);
            router.setSndHWM(100_000);
            router.setRcvHWM(100_000);
            router.setLinger(2_000);
            if (curve != null) {
                curve.apply(router, ZapHandler.COMMANDS);
            }
            router.bind(endpoint);
        } catch (ZMQException e) {
            bound.completeExceptionally(new IllegalStateException(describe(e), e));
            return;
        } catch (RuntimeException e) {
            bound.completeExceptionally(e);
            return;
        }
        try {
            commitStep.open();
        } catch (RuntimeException e) {
            router.close();
            bound.completeExceptionally(new CommitStepFailure(e));
            return;
        }
        // One selector for the endpoint's life: ZMQ.Poller re-registers its channels on every poll.
        try (Selector opened = Selector.open()) {
            selector = opened;
            router.getFD().register(opened, SelectionKey.OP_READ);
            bound.complete(router.getLastEndpoint());
            List<byte[]> frames = new ArrayList<>();
            while (running) {
                sendQueued(router);
                if (accepting) {
                    handleRequests(router, frames);
                }
                commitStep.run();
                // The socket's descriptor only signals changes: block only when there is nothing to do.
                if (!later.isEmpty() || commitStep.pending() || accepting && (router.getEvents() & ZMQ.Poller.POLLIN) != 0) {
                    continue;
                }
                sleeping = true;
                // Checked again after announcing the sleep: work queued before it did not wake us.
                if (later.isEmpty() && !commitStep.pending()) {
                    opened.select(100);
                }
                sleeping = false;
                opened.selectedKeys().clear();
            }
            commitStep.run();
            sendQueued(router);
        } catch (IOException | RuntimeException e) {
            bound.completeExceptionally(e);
            log.error("Endpoint {} ({}) failed", endpoint, option, e);
        } catch (VirtualMachineError e) {
            // Out of memory: halt now, not after closing the feed and sockets, which may need memory too.
            FatalErrors.halt(Thread.currentThread(), e);
        } finally {
            closeCommitStep();
            router.close();
        }
    }

    private void closeCommitStep() {
        try {
            commitStep.close();
        } catch (RuntimeException e) {
            log.warn("Could not end the work of endpoint {}: {}", endpoint, e.toString());
        }
    }

    private void handleRequests(ZMQ.Socket router, List<byte[]> frames) {
        long deadline = System.nanoTime() + BURST_NANOS;
        for (int i = 0; i < BURST && receive(router, frames); i++) {
            try {
                handle(router, frames);
            } catch (RuntimeException e) {
                log.error("Unexpected failure handling a request of {} frames", frames.size(), e);
            }
            // Reads are answered inline: a burst of large ones must not hold back the appends before them.
            if ((i & 15) == 15 && System.nanoTime() - deadline > 0) {
                break;
            }
        }
    }

    private void handle(ZMQ.Socket router, List<byte[]> frames) {
        int delimiter = 1;
        while (delimiter < frames.size() && frames.get(delimiter).length > 0) {
            delimiter++;
        }
        if (delimiter == frames.size()) {
            send(router, new byte[][] {frames.get(0), EMPTY}, handler.missingDelimiter());
            return;
        }
        byte[][] envelope = frames.subList(0, delimiter + 1).toArray(new byte[0][]);
        byte[][] reply = handler.handle(envelope, frames.subList(delimiter + 1, frames.size()), key);
        if (reply != null) {
            send(router, envelope, reply);
        }
    }

    /**
     * Reads one whole message without blocking; false when none is waiting. With CURVE, also the key of
     * its connection, which ZeroMQ attaches to the frames the peer sent as their User-Id.
     */
    private boolean receive(ZMQ.Socket socket, List<byte[]> frames) {
        frames.clear();
        byte[] frame = socket.recv(ZMQ.DONTWAIT);
        if (frame == null) {
            return false;
        }
        frames.add(frame);
        if (curve == null) {
            while (socket.hasReceiveMore()) {
                frames.add(socket.recv());
            }
            return true;
        }
        // The first frame is the routing id ROUTER made up; the peer's own frames carry the metadata.
        key = null;
        while (socket.hasReceiveMore()) {
            Msg msg = socket.recvMsg(0);
            if (key == null && msg.getMetadata() != null) {
                key = msg.getMetadata().get(Metadata.USER_ID);
            }
            frames.add(msg.data());
        }
        return true;
    }

    private void sendQueued(ZMQ.Socket router) {
        DeferredReply reply;
        while ((reply = later.poll()) != null) {
            send(router, reply.envelope(), reply.frames());
        }
    }

    /** Sends a reply to the peer named by the envelope; a peer that is gone or not reading loses it. */
    private void send(ZMQ.Socket router, byte[][] envelope, byte[][] reply) {
        try {
            for (byte[] frame : envelope) {
                if (!router.send(frame, ZMQ.SNDMORE | ZMQ.DONTWAIT)) {
                    log.warn("Dropped a reply on {}: the client's queue is full", endpoint);
                    return;
                }
            }
            for (int i = 0; i < reply.length; i++) {
                router.send(reply[i], (i < reply.length - 1 ? ZMQ.SNDMORE : 0) | ZMQ.DONTWAIT);
            }
        } catch (ZMQException e) {
            // Router-mandatory: the peer disconnected before its reply was ready.
            log.debug("Reply to a disconnected client of {} dropped: {}", endpoint, e.getMessage());
        }
    }

    /**
     * Queues replies for this endpoint's thread to send, in order, and wakes it if it sleeps. Any
     * thread may call it; replies queued before {@link #close()} are sent.
     */
    void sendLater(Collection<DeferredReply> replies) {
        later.addAll(replies);
        wake();
    }

    /** Wakes the endpoint's thread if it sleeps, e.g. because its {@link CommitStep} has work. Any thread. */
    void wake() {
        Selector waiting = selector;
        if (sleeping && waiting != null) {
            waiting.wakeup();
        }
    }

    /** Stops reading requests; queued replies keep flowing until {@link #close()}. */
    void stopAccepting() {
        accepting = false;
    }

    @Override
    public void close() {
        accepting = false;
        running = false;
        wake();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
