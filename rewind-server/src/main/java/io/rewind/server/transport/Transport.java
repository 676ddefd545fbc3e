package io.rewind.server.transport;

import io.rewind.server.config.ServerConfig;
import io.rewind.server.core.AppendWriter;
import io.rewind.server.storage.EventStorage;
import io.rewind.server.storage.ReadDirection;
import io.rewind.server.storage.StoredEvent;
import java.util.List;
import org.zeromq.ZContext;

/**
 * The ZeroMQ side of the server: the command endpoint, the live feed, the optional legacy
 * endpoints, and the writer between them.
 * Shuts down in the order that loses nothing: stop taking requests, commit what is queued, publish
 * and reply to it, then close the sockets.
 */
public final class Transport implements AutoCloseable {
    private final ZContext context = new ZContext(1);
    private final FeedPublisher feed;
    private final AppendWriter<ReplyTo> writer;
    private final RouterEndpoint commands;
    private final RouterEndpoint legacy;
    private String boundCommandEndpoint;
    private String boundStreamEndpoint;
    private String boundLegacyQueryEndpoint;
    private String boundLegacyStreamEndpoint;

    public Transport(ServerConfig config, EventStorage storage, String version) {
        ServerConfig.Legacy legacyConfig = config.legacy();
        // The legacy feed sends each event's previous id: it starts from the newest stored event.
        List<StoredEvent> newest = legacyConfig.streamEndpoint() == null ? List.of()
                : storage.readAll(storage.nextPosition() - 1, ReadDirection.BACKWARD, 1, 1);
        feed = new FeedPublisher(context, config.streamEndpoint(), config.feedHighWaterMark(),
                legacyConfig.streamEndpoint(), legacyConfig.queryEndpoint() != null,
                newest.isEmpty() ? null : newest.get(0).eventId());
        writer = new AppendWriter<>(storage, config.fsync() == ServerConfig.FsyncMode.ALWAYS,
                config.queueCapacity(), 10_000, feed);
        commands = new RouterEndpoint(context, "rewind-commands", "--command-endpoint", config.commandEndpoint(),
                FeedPublisher.COMMAND_REPLIES, config.maxMessageSize(),
                new RequestHandler(storage, writer, config.limits(), version));
        legacy = legacyConfig.queryEndpoint() == null ? null
                : new RouterEndpoint(context, "rewind-legacy", "--legacy-query-endpoint", legacyConfig.queryEndpoint(),
                        FeedPublisher.LEGACY_REPLIES, config.maxMessageSize(),
                        new LegacyHandler(storage, writer, legacyConfig.stream(), config.limits()));
    }

    /** Binds every endpoint and starts serving; throws naming the endpoint that could not be bound. */
    public void start() {
        try {
            // The router endpoints bind the inproc reply sockets that the feed connects to.
            boundCommandEndpoint = commands.start();
            if (legacy != null) {
                boundLegacyQueryEndpoint = legacy.start();
            }
            FeedPublisher.Bound feeds = feed.start();
            boundStreamEndpoint = feeds.stream();
            boundLegacyStreamEndpoint = feeds.legacyStream();
            writer.start();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public String commandEndpoint() {
        return boundCommandEndpoint;
    }

    public String streamEndpoint() {
        return boundStreamEndpoint;
    }

    /** The bound legacy query endpoint, or null when off. */
    public String legacyQueryEndpoint() {
        return boundLegacyQueryEndpoint;
    }

    /** The bound legacy stream endpoint, or null when off. */
    public String legacyStreamEndpoint() {
        return boundLegacyStreamEndpoint;
    }

    @Override
    public void close() {
        commands.stopAccepting();
        if (legacy != null) {
            legacy.stopAccepting();
        }
        writer.close();
        feed.close();
        commands.close();
        if (legacy != null) {
            legacy.close();
        }
        context.close();
    }
}
