package io.rewind.server.transport;

import io.rewind.server.config.ServerConfig;
import io.rewind.server.core.AppendWriter;
import io.rewind.server.storage.EventStorage;
import org.zeromq.ZContext;

/**
 * The ZeroMQ side of the server: the command endpoint, the live feed, and the writer between them.
 * Shuts down in the order that loses nothing: stop taking requests, commit what is queued, publish
 * and reply to it, then close the sockets.
 */
public final class Transport implements AutoCloseable {
    private final ZContext context = new ZContext(1);
    private final FeedPublisher feed;
    private final AppendWriter<ReplyTo> writer;
    private final CommandEndpoint commands;
    private String boundCommandEndpoint;
    private String boundStreamEndpoint;

    public Transport(ServerConfig config, EventStorage storage, String version) {
        feed = new FeedPublisher(context, config.streamEndpoint(), config.feedHighWaterMark());
        writer = new AppendWriter<>(storage, config.fsync() == ServerConfig.FsyncMode.ALWAYS,
                config.queueCapacity(), 10_000, feed);
        commands = new CommandEndpoint(context, config.commandEndpoint(), config.maxMessageSize(),
                new RequestHandler(storage, writer, config.limits(), version));
    }

    /** Binds both endpoints and starts serving; throws naming the endpoint that could not be bound. */
    public void start() {
        try {
            // The command endpoint binds the inproc reply socket that the feed connects to.
            boundCommandEndpoint = commands.start();
            boundStreamEndpoint = feed.start();
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

    @Override
    public void close() {
        commands.stopAccepting();
        writer.close();
        feed.close();
        commands.close();
        context.close();
    }
}
