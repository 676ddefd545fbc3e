package io.rewind.server.transport;

import io.rewind.protocol.v1.Response;
import io.rewind.server.core.ErrorCode;
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
 * The thread that owns the command ROUTER socket. It answers reads at once, hands appends to the
 * writer, and forwards the replies that the feed publisher sends it over {@value #REPLIES} once
 * appends are committed.
 */
final class CommandEndpoint implements AutoCloseable {
    static final String REPLIES = "inproc://rewind-replies";
    private static final Logger log = LoggerFactory.getLogger(CommandEndpoint.class);
    private static final byte[] EMPTY = new byte[0];
    /** Requests handled before the loop turns to forward replies, so neither side starves. */
    private static final int BURST = 256;

    private final ZContext context;
    private final String endpoint;
    private final long maxMessageSize;
    private final RequestHandler handler;
    private final Thread thread;
    private final CompletableFuture<String> bound = new CompletableFuture<>();
    private volatile boolean accepting = true;
    private volatile boolean running = true;

    CommandEndpoint(ZContext context, String endpoint, long maxMessageSize, RequestHandler handler) {
        this.context = context;
        this.endpoint = endpoint;
        this.maxMessageSize = maxMessageSize;
        this.handler = handler;
        this.thread = new Thread(this::run, "rewind-commands");
    }

    /** Starts the thread and returns the endpoint it bound, or throws why it could not. */
    String start() {
        thread.start();
        try {
            return bound.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot bind --command-endpoint " + endpoint + ": "
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
            router.setRouterMandatory(true);
            router.setMaxMsgSize(maxMessageSize);
            router.setSndHWM(100_000);
            router.setRcvHWM(100_000);
            router.setLinger(2_000);
            router.bind(endpoint);
            replies = context.createSocket(SocketType.PULL);
            replies.setRcvHWM(0);
            replies.bind(REPLIES);
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
            log.error("Command endpoint {} failed", endpoint, e);
        } finally {
            context.destroySocket(replies);
            context.destroySocket(router);
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
            send(router, new byte[][] {frames.get(0), EMPTY}, ProtoCodec.error(0, ErrorCode.INVALID_REQUEST,
                    "the message has no empty delimiter frame: send [empty frame][Request] (REQ sockets add the"
                            + " delimiter themselves, DEALER sockets must send it)"));
            return;
        }
        byte[][] envelope = frames.subList(0, delimiter + 1).toArray(new byte[0][]);
        int bodyFrames = frames.size() - delimiter - 1;
        if (bodyFrames != 1) {
            send(router, envelope, ProtoCodec.error(0, ErrorCode.INVALID_REQUEST,
                    "expected exactly one Request frame after the empty delimiter, got " + bodyFrames));
            return;
        }
        Response response = handler.handle(frames.get(delimiter + 1), envelope);
        if (response != null) {
            send(router, envelope, response);
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
            sendFrames(router, frames.subList(0, frames.size() - 1).toArray(new byte[0][]),
                    frames.get(frames.size() - 1));
        }
    }

    private void send(ZMQ.Socket router, byte[][] envelope, Response response) {
        sendFrames(router, envelope, response.toByteArray());
    }

    private void sendFrames(ZMQ.Socket router, byte[][] envelope, byte[] body) {
        try {
            for (byte[] frame : envelope) {
                if (!router.send(frame, ZMQ.SNDMORE | ZMQ.DONTWAIT)) {
                    log.warn("Dropped a reply: the client's queue is full ({} frames envelope)", envelope.length);
                    return;
                }
            }
            router.send(body, ZMQ.DONTWAIT);
        } catch (ZMQException e) {
            // Router-mandatory: the peer disconnected before its reply was ready.
            log.debug("Reply to a disconnected client dropped: {}", e.getMessage());
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
