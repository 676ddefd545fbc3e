package io.rewind.server.transport;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/**
 * A thread that owns one ROUTER socket. It splits each message into its envelope (routing ids up
 * to the empty delimiter) and body, lets a {@link FrameHandler} answer it, and forwards the replies
 * that arrive later on its inproc replies socket (appends are answered once committed). Serves the
 * command protocol and the legacy protocol alike.
 */
final class RouterEndpoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RouterEndpoint.class);
    private static final byte[] EMPTY = new byte[0];
    /** Requests handled before the loop turns to forward replies, so neither side starves. */
    private static final int BURST = 256;

    /** Answers the messages of one protocol. */
    interface FrameHandler {
        /**
         * Answers one message.
         *
         * @param envelope the routing frames up to and including the empty delimiter
         * @param body     the frames after the delimiter
         * @return the reply frames to send after the envelope now, or null when the reply comes later
         *     through the replies socket
         */
        byte[][] handle(byte[][] envelope, List<byte[]> body);

        /** The reply to a message without an empty delimiter frame. */
        byte[][] missingDelimiter();
    }

    private final ZContext context;
    private final String option;
    private final String endpoint;
    private final String repliesAddress;
    private final long maxMessageSize;
    private final FrameHandler handler;
    private final Thread thread;
    private final CompletableFuture<String> bound = new CompletableFuture<>();
    private volatile boolean accepting = true;
    private volatile boolean running = true;

    /**
     * @param threadName     name of the socket's thread
     * @param option         the option that configured the endpoint, for error messages
     * @param repliesAddress inproc address where later replies arrive, as [envelope...][reply frames...]
     *                       preceded by one 4-byte frame holding the number of envelope frames
     */
    RouterEndpoint(ZContext context, String threadName, String option, String endpoint, String repliesAddress,
            long maxMessageSize, FrameHandler handler) {
        this.context = context;
        this.option = option;
        this.endpoint = endpoint;
        this.repliesAddress = repliesAddress;
        this.maxMessageSize = maxMessageSize;
        this.handler = handler;
        this.thread = new Thread(this::run, threadName);
    }

    /** Starts the thread and returns the endpoint it bound, or throws why it could not. */
    String start() {
        thread.start();
        try {
            return bound.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot bind " + option + " " + endpoint + ": "
                    + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding " + endpoint, e);
        }
    }

    private void run() {
        ZMQ.Socket router;
        ZMQ.Socket replies;
        try {
            router = context.createSocket(SocketType.ROUTER);
            router.setMsgAllocator(new FrameSizeGuard(option + " " + endpoint, maxMessageSize));
            router.setRouterMandatory(true);
            router.setMaxMsgSize(maxMessageSize);
            router.setSndHWM(100_000);
            router.setRcvHWM(100_000);
            router.setLinger(2_000);
            router.bind(endpoint);
            replies = context.createSocket(SocketType.PULL);
            replies.setRcvHWM(0);
            replies.bind(repliesAddress);
        } catch (ZMQException e) {
            bound.completeExceptionally(new IllegalStateException(e.getMessage() + " (errno " + e.getErrorCode() + ")",
                    e));
            return;
        } catch (RuntimeException e) {
            bound.completeExceptionally(e);
            return;
        }
        bound.complete(router.getLastEndpoint());
        // One selector for the endpoint's life: ZMQ.Poller re-registers its channels on every poll.
        try (Selector selector = Selector.open()) {
            router.getFD().register(selector, SelectionKey.OP_READ);
            replies.getFD().register(selector, SelectionKey.OP_READ);
            List<byte[]> frames = new ArrayList<>();
            while (running) {
                forwardReplies(replies, router, frames);
                if (accepting) {
                    handleRequests(router, frames);
                }
                // Socket descriptors only signal changes: block only when neither socket has input.
                if ((replies.getEvents() & ZMQ.Poller.POLLIN) != 0
                        || accepting && (router.getEvents() & ZMQ.Poller.POLLIN) != 0) {
                    continue;
                }
                selector.select(100);
                selector.selectedKeys().clear();
            }
            forwardReplies(replies, router, frames);
        } catch (IOException | RuntimeException e) {
            log.error("Endpoint {} ({}) failed", endpoint, option, e);
        } finally {
            replies.close();
            router.close();
        }
    }

    private void handleRequests(ZMQ.Socket router, List<byte[]> frames) {
        for (int i = 0; i < BURST && receive(router, frames); i++) {
            try {
                handle(router, frames);
            } catch (RuntimeException e) {
                log.error("Unexpected failure handling a request of {} frames", frames.size(), e);
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
        byte[][] reply = handler.handle(envelope, frames.subList(delimiter + 1, frames.size()));
        if (reply != null) {
            send(router, envelope, reply);
        }
    }

    /** Reads one whole message without blocking; false when none is waiting. */
    private static boolean receive(ZMQ.Socket socket, List<byte[]> frames) {
        frames.clear();
        byte[] frame = socket.recv(ZMQ.DONTWAIT);
        if (frame == null) {
            return false;
        }
        frames.add(frame);
        while (socket.hasReceiveMore()) {
            frames.add(socket.recv());
        }
        return true;
    }

    private void forwardReplies(ZMQ.Socket replies, ZMQ.Socket router, List<byte[]> frames) {
        while (receive(replies, frames)) {
            int envelopeFrames = java.nio.ByteBuffer.wrap(frames.get(0)).getInt();
            send(router, frames.subList(1, 1 + envelopeFrames).toArray(new byte[0][]),
                    frames.subList(1 + envelopeFrames, frames.size()).toArray(new byte[0][]));
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

    /** Queues a later reply for this endpoint's thread to send: used by the thread that owns {@code push}. */
    static void sendLater(ZMQ.Socket push, byte[][] envelope, byte[]... reply) {
        push.sendMore(java.nio.ByteBuffer.allocate(Integer.BYTES).putInt(envelope.length).array());
        for (byte[] frame : envelope) {
            push.sendMore(frame);
        }
        for (int i = 0; i < reply.length; i++) {
            if (i < reply.length - 1) {
                push.sendMore(reply[i]);
            } else {
                push.send(reply[i]);
            }
        }
    }

    /** Stops reading requests; replies keep flowing until {@link #close()}. */
    void stopAccepting() {
        accepting = false;
    }

    @Override
    public void close() {
        accepting = false;
        running = false;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
