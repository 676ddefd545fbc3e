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
 * The thread that owns the live-feed PUB socket. For each committed group, in commit order, it
 * publishes every event as {@code [stream name + 0x00][EventRecord]} and then sends each append's
 * reply to the command endpoint.
 */
final class FeedPublisher implements CommitSink<ReplyTo>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FeedPublisher.class);
    /** Marks the end of the commits; a unique instance, compared by identity. */
    private static final List<AppendOutcome<ReplyTo>> STOP = java.util.Collections.unmodifiableList(new java.util.ArrayList<>());

    private final ZContext context;
    private final String endpoint;
    private final int highWaterMark;
    private final BlockingQueue<List<AppendOutcome<ReplyTo>>> groups = new ArrayBlockingQueue<>(1024);
    private final Thread thread;
    private final CompletableFuture<String> bound = new CompletableFuture<>();

    FeedPublisher(ZContext context, String endpoint, int highWaterMark) {
        this.context = context;
        this.endpoint = endpoint;
        this.highWaterMark = highWaterMark;
        this.thread = new Thread(this::run, "rewind-feed");
    }

    /** Starts the thread and returns the endpoint it bound, or throws why it could not. */
    String start() {
        thread.start();
        try {
            return bound.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot bind --stream-endpoint " + endpoint + ": "
                    + e.getCause().getMessage(), e.getCause());
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
        ZMQ.Socket pub;
        ZMQ.Socket replies;
        try {
            pub = context.createSocket(SocketType.PUB);
            pub.setSndHWM(highWaterMark);
            pub.setLinger(1_000);
            pub.bind(endpoint);
            replies = context.createSocket(SocketType.PUSH);
            replies.setSndHWM(0);
            replies.connect(CommandEndpoint.REPLIES);
        } catch (ZMQException e) {
            bound.completeExceptionally(new IllegalStateException(e.getMessage() + " (errno " + e.getErrorCode() + ")",
                    e));
            return;
        } catch (RuntimeException e) {
            bound.completeExceptionally(e);
            return;
        }
        bound.complete(pub.getLastEndpoint());
        try {
            while (true) {
                List<AppendOutcome<ReplyTo>> group = groups.take();
                if (group == STOP) {
                    break;
                }
                publish(pub, replies, group);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            context.destroySocket(replies);
            context.destroySocket(pub);
        }
    }

    private static void publish(ZMQ.Socket pub, ZMQ.Socket replies, List<AppendOutcome<ReplyTo>> group) {
        for (AppendOutcome<ReplyTo> outcome : group) {
            for (StoredEvent event : outcome.committed()) {
                pub.sendMore(topic(event.stream()));
                pub.send(ProtoCodec.toRecord(event).toByteArray());
            }
        }
        for (AppendOutcome<ReplyTo> outcome : group) {
            ReplyTo to = outcome.attachment();
            for (byte[] frame : to.envelope()) {
                replies.sendMore(frame);
            }
            replies.send((outcome.succeeded() ? ProtoCodec.toResponse(to.requestId(), outcome.result())
                    : ProtoCodec.toResponse(to.requestId(), outcome.error())).toByteArray());
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
