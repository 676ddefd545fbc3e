package io.rewind.server.transport;

import io.rewind.server.core.AppendOutcome;
import io.rewind.server.core.AppendWriter.CommitSink;
import io.rewind.server.storage.StoredEvent;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/**
 * The thread that owns the live-feed PUB sockets. For each committed group, in commit order, it
 * publishes every event as {@code [stream name + 0x00][EventRecord]} (and, when the legacy feed is
 * on, as {@code [id][previous id][data]}), then sends each append's reply to the endpoint that asked.
 */
final class FeedPublisher implements CommitSink<ReplyTo>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FeedPublisher.class);
    /** Marks the end of the commits; a unique instance, compared by identity. */
    private static final byte[] PUBLISHED = LegacyHandler.ascii("PUBLISHED");
    private static final List<AppendOutcome<ReplyTo>> STOP = java.util.Collections.unmodifiableList(new java.util.ArrayList<>());

    /** Where command replies go; the command endpoint binds it. */
    static final String COMMAND_REPLIES = "inproc://rewind-replies";
    /** Where legacy PUBLISH replies go; the legacy query endpoint binds it. */
    static final String LEGACY_REPLIES = "inproc://rewind-legacy-replies";

    /**
     * Largest message a subscriber may send (subscriptions are a topic prefix): without a cap, one
     * garbage frame size makes ZeroMQ's I/O thread allocate gigabytes.
     */
    private static final long MAX_SUBSCRIBER_MESSAGE = 64 << 10;

    /** The endpoints bound: the legacy one is null when off. */
    record Bound(String stream, String legacyStream) {}

    private final ZContext context;
    private final String endpoint;
    private final String legacyEndpoint;
    private final boolean legacyReplies;
    private final int highWaterMark;
    /** The id of the event published last, which the legacy feed sends as the next one's previous id. */
    private byte[] previousId;
    private final BlockingQueue<List<AppendOutcome<ReplyTo>>> groups = new ArrayBlockingQueue<>(1024);
    private final Thread thread;
    private final CompletableFuture<Bound> bound = new CompletableFuture<>();

    /**
     * @param legacyEndpoint where the legacy PUB binds, or null for none
     * @param legacyReplies  whether legacy PUBLISH replies go to {@link #LEGACY_REPLIES}
     * @param lastEventId    the newest stored event's id, or null: the first legacy previous id
     */
    FeedPublisher(ZContext context, String endpoint, int highWaterMark, String legacyEndpoint, boolean legacyReplies,
            java.util.UUID lastEventId) {
        this.context = context;
        this.endpoint = endpoint;
        this.highWaterMark = highWaterMark;
        this.legacyEndpoint = legacyEndpoint;
        this.legacyReplies = legacyReplies;
        this.previousId = lastEventId == null ? new byte[0] : LegacyHandler.ascii(lastEventId.toString());
        this.thread = new Thread(this::run, "rewind-feed");
    }

    /** Starts the thread and returns the endpoints it bound, or throws why it could not. */
    Bound start() {
        thread.start();
        try {
            return bound.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding " + endpoint, e);
        }
    }

    /** Called by the writer thread; blocks when the publisher is behind, which slows the writer down. */
    @Override
    public void committed(List<AppendOutcome<ReplyTo>> outcomes) {
        try {
            groups.put(outcomes);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while handing a commit to the feed", e);
        }
    }

    private void run() {
        ZMQ.Socket pub = null;
        ZMQ.Socket legacyPub = null;
        ZMQ.Socket replies = null;
        ZMQ.Socket legacyPush = null;
        String option = "--stream-endpoint " + endpoint;
        try {
            pub = context.createSocket(SocketType.PUB);
            // Subscribers send frames too (subscriptions): the same guard as the command sockets.
            pub.setMsgAllocator(new FrameSizeGuard("--stream-endpoint " + endpoint, MAX_SUBSCRIBER_MESSAGE));
            pub.setMaxMsgSize(MAX_SUBSCRIBER_MESSAGE);
            pub.setSndHWM(highWaterMark);
            pub.setLinger(1_000);
            pub.bind(endpoint);
            if (legacyEndpoint != null) {
                option = "--legacy-stream-endpoint " + legacyEndpoint;
                legacyPub = context.createSocket(SocketType.PUB);
                legacyPub.setMsgAllocator(new FrameSizeGuard(option, MAX_SUBSCRIBER_MESSAGE));
                legacyPub.setMaxMsgSize(MAX_SUBSCRIBER_MESSAGE);
                legacyPub.setSndHWM(highWaterMark);
                legacyPub.setLinger(1_000);
                legacyPub.bind(legacyEndpoint);
            }
            replies = context.createSocket(SocketType.PUSH);
            replies.setSndHWM(0);
            replies.connect(COMMAND_REPLIES);
            if (legacyReplies) {
                legacyPush = context.createSocket(SocketType.PUSH);
                legacyPush.setSndHWM(0);
                legacyPush.connect(LEGACY_REPLIES);
            }
        } catch (ZMQException e) {
            bound.completeExceptionally(new IllegalStateException("cannot bind " + option + ": " + e.getMessage()
                    + " (errno " + e.getErrorCode() + ")", e));
            destroy(pub, legacyPub, replies, legacyPush);
            return;
        } catch (RuntimeException e) {
            bound.completeExceptionally(new IllegalStateException("cannot bind " + option + ": " + e, e));
            destroy(pub, legacyPub, replies, legacyPush);
            return;
        }
        bound.complete(new Bound(pub.getLastEndpoint(), legacyPub == null ? null : legacyPub.getLastEndpoint()));
        try {
            while (true) {
                List<AppendOutcome<ReplyTo>> group = groups.take();
                if (group == STOP) {
                    break;
                }
                publish(pub, legacyPub, group);
                reply(replies, legacyPush, group);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            destroy(pub, legacyPub, replies, legacyPush);
        }
    }

    private void destroy(ZMQ.Socket... sockets) {
        for (ZMQ.Socket socket : sockets) {
            if (socket != null) {
                socket.close();
            }
        }
    }

    private void publish(ZMQ.Socket pub, ZMQ.Socket legacyPub, List<AppendOutcome<ReplyTo>> group) {
        for (AppendOutcome<ReplyTo> outcome : group) {
            for (StoredEvent event : outcome.committed()) {
                pub.sendMore(topic(event.stream()));
                pub.send(ProtoCodec.toRecord(event).toByteArray());
                if (legacyPub != null) {
                    byte[] id = LegacyHandler.ascii(event.eventId().toString());
                    legacyPub.sendMore(id);
                    legacyPub.sendMore(previousId);
                    legacyPub.send(event.data());
                    previousId = id;
                }
            }
        }
    }

    private static void reply(ZMQ.Socket replies, ZMQ.Socket legacyPush, List<AppendOutcome<ReplyTo>> group) {
        for (AppendOutcome<ReplyTo> outcome : group) {
            ReplyTo to = outcome.attachment();
            if (to.legacy()) {
                RouterEndpoint.sendLater(legacyPush, to.envelope(), outcome.succeeded() ? PUBLISHED
                        : LegacyHandler.error(outcome.error().message())[0]);
            } else {
                RouterEndpoint.sendLater(replies, to.envelope(), (outcome.succeeded()
                        ? ProtoCodec.toResponse(to.requestId(), outcome.result())
                        : ProtoCodec.toResponse(to.requestId(), outcome.error())).toByteArray());
            }
        }
    }

    /** The live-feed topic of a stream: its UTF-8 name and a NUL, so "name\0" matches one stream exactly. */
    static byte[] topic(String stream) {
        byte[] name = stream.getBytes(StandardCharsets.UTF_8);
        byte[] topic = new byte[name.length + 1];
        System.arraycopy(name, 0, topic, 0, name.length);
        return topic;
    }

    /** Publishes every group already handed over, then stops. */
    @Override
    public void close() {
        try {
            groups.put(STOP);
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.debug("Feed publisher stopped");
    }
}
