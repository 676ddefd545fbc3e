package io.rewind.server.transport;

import io.rewind.protocol.v1.WireFormat;
import io.rewind.server.core.AppendOutcome;
import io.rewind.server.security.ZapHandler;
import io.rewind.server.storage.StoredEvent;
import java.util.List;
import java.util.UUID;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/**
 * The live-feed PUB sockets. Every committed event is published as
 * {@code [stream name + 0x00][EventRecord]} (and, when the legacy feed is on, as
 * {@code [id][previous id][data]}), in commit order, before its append is answered. Not thread-safe:
 * the committing thread opens, uses and closes it.
 */
final class FeedPublisher implements AutoCloseable {
    /**
     * Largest message a subscriber may send (subscriptions are a topic prefix): without a cap, one
     * garbage frame size makes ZeroMQ's I/O thread allocate gigabytes.
     */
    private static final long MAX_SUBSCRIBER_MESSAGE = 64 << 10;

    private final ZContext context;
    private final String endpoint;
    private final String legacyEndpoint;
    private final int highWaterMark;
    /** CURVE for both feeds, or null for plain text. */
    private final CurveServer curve;
    /** The id of the event published last, which the legacy feed sends as the next one's previous id. */
    private byte[] previousId;
    private ZMQ.Socket pub;
    private ZMQ.Socket legacyPub;
    private volatile String boundEndpoint;
    private volatile String boundLegacyEndpoint;

    /**
     * @param legacyEndpoint where the legacy PUB binds, or null for none
     * @param lastEventId    the newest stored event's id, or null: the first legacy previous id
     * @param curve          CURVE for both feeds, or null for plain text
     */
    FeedPublisher(ZContext context, String endpoint, int highWaterMark, String legacyEndpoint, UUID lastEventId,
            CurveServer curve) {
        this.context = context;
        this.curve = curve;
        this.endpoint = endpoint;
        this.highWaterMark = highWaterMark;
        this.legacyEndpoint = legacyEndpoint;
        this.previousId = lastEventId == null ? new byte[0] : LegacyHandler.ascii(lastEventId.toString());
    }

    /** Binds the PUB sockets; throws naming the option whose endpoint could not be bound. */
    void open() {
        pub = bind("--stream-endpoint", endpoint);
        boundEndpoint = pub.getLastEndpoint();
        if (legacyEndpoint != null) {
            legacyPub = bind("--legacy-stream-endpoint", legacyEndpoint);
            boundLegacyEndpoint = legacyPub.getLastEndpoint();
        }
    }

    private ZMQ.Socket bind(String option, String address) {
        ZMQ.Socket socket = context.createSocket(SocketType.PUB);
        try {
            // Subscribers send frames too (subscriptions): the same guard as the command sockets.
            socket.setMsgAllocator(new FrameSizeGuard(option + " " + address, MAX_SUBSCRIBER_MESSAGE));
            socket.setMaxMsgSize(MAX_SUBSCRIBER_MESSAGE);
            socket.setSndHWM(highWaterMark);
            socket.setLinger(1_000);
            if (curve != null) {
                // Only keys that read every stream: PUB cannot filter what each subscriber gets.
                curve.apply(socket, ZapHandler.FEED);
            }
            socket.bind(address);
            return socket;
        } catch (ZMQException e) {
            socket.close();
            throw new IllegalStateException("cannot bind " + option + " " + address + ": "
                    + RouterEndpoint.describe(e), e);
        } catch (RuntimeException e) {
            socket.close();
            throw new IllegalStateException("cannot bind " + option + " " + address + ": " + e, e);
        }
    }

    /** The bound live-feed endpoint, once {@link #open()} has returned. */
    String boundEndpoint() {
        return boundEndpoint;
    }

    /** The bound legacy feed endpoint, or null when off. */
    String boundLegacyEndpoint() {
        return boundLegacyEndpoint;
    }

    /**
     * Drops every subscriber's connection, on both feeds, so that each must make its CURVE handshake again: the way
     * to cut a key that lost the feed, since a PUB socket checks keys only in the handshake and cannot drop one
     * peer. Each endpoint is unbound, which closes the connections it accepted, and bound again at once at the same
     * address; subscribers that still may read reconnect by themselves (ZeroMQ's reconnect interval, 100 ms by
     * default) and resubscribe, and catch-up subscriptions repair the gap from history. What is published while
     * they are away is not queued for them.
     */
    void cutConnections() {
        rebind(pub, boundEndpoint, "--stream-endpoint");
        if (legacyPub != null) {
            rebind(legacyPub, boundLegacyEndpoint, "--legacy-stream-endpoint");
        }
    }

    private static void rebind(ZMQ.Socket socket, String address, String option) {
        if (!socket.unbind(address)) {
            throw new IllegalStateException("cannot unbind " + option + " " + address + " to cut its connections: "
                    + socket.errno());
        }
        // The listener closes on ZeroMQ's I/O thread: until it has, the port may still be taken.
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (true) {
            try {
                socket.bind(address);
                return;
            } catch (ZMQException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("cannot bind " + option + " " + address + " again after cutting"
                            + " its connections: " + RouterEndpoint.describe(e), e);
                }
                java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
            }
        }
    }

    /** Publishes the events of a committed group, in commit order. */
    void publish(List<AppendOutcome<ReplyTo>> group) {
        for (AppendOutcome<ReplyTo> outcome : group) {
            for (StoredEvent event : outcome.committed()) {
                pub.sendMore(WireFormat.topic(event.stream()));
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


    @Override
    public void close() {
        if (pub != null) {
            pub.close();
        }
        if (legacyPub != null) {
            legacyPub.close();
        }
    }
}
