package io.rewind.server.transport;

import io.rewind.server.replication.ClusterView;
import io.rewind.server.FatalErrors;
import io.rewind.server.config.ServerConfig;
import io.rewind.server.core.AppendOutcome;
import io.rewind.server.core.AppendWriter;
import io.rewind.server.core.RequestError;
import io.rewind.server.http.ServerMetrics;
import io.rewind.server.replication.RaftReplication;
import io.rewind.server.replication.ReplicatedCommits;
import io.rewind.server.security.AccessControl;
import io.rewind.server.security.ZapHandler;
import io.rewind.server.storage.EventStorage;
import io.rewind.server.storage.ReadDirection;
import io.rewind.server.storage.StoredEvent;
import io.rewind.server.storage.Visibility;
import io.rewind.protocol.v1.Response;
import io.rewind.server.transport.RouterEndpoint.DeferredReply;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.ZContext;

/**
 * The ZeroMQ side of the server: the command endpoint, the live feed, the optional legacy
 * endpoints, and the writer between them.
 *
 * <p>The command endpoint's thread does the writing: after each burst of requests it commits the
 * appends queued (legacy PUBLISHes too), publishes the committed events and queues the replies, so
 * a command append crosses no thread inside the server.
 * Shuts down in the order that loses nothing: stop taking requests, commit what is queued, publish
 * and reply to it, then close the sockets.
 */
public final class ZeroMqServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ZeroMqServer.class);
    private static final byte[] PUBLISHED = LegacyHandler.ascii("PUBLISHED");

    private final ZContext context = new ZContext(1);
    private final FeedPublisher feed;
    private final AppendWriter<ReplyTo> writer;
    private final RouterEndpoint commands;
    private final RouterEndpoint legacy;
    private final Backups backups;
    private final ServerMetrics metrics;
    /** What each key may do; {@link AccessControl#OPEN} without CURVE. */
    private final AccessControl access;
    /** Answers every CURVE handshake; null without CURVE. */
    private final ZapHandler zap;
    /** In a replicated group: the leader's proposals and every member's applied entries; null alone. */
    private final ReplicatedCommits<ReplyTo> replicated;
    private volatile ClusterView cluster;
    /** Set by the authorized keys' reloader when a key lost the feeds; the command thread then cuts their connections. */
    private volatile boolean feedRevoked;
    private String boundCommandEndpoint;
    private String boundLegacyQueryEndpoint;

    /** For the replies to stream operations, which say what a read now returns of the stream. */
    private final EventStorage storage;

    public ZeroMqServer(ServerConfig config, EventStorage storage, String version, ServerMetrics metrics) {
        this.metrics = metrics;
        this.storage = storage;
        // JeroMQ's I/O threads hand their exceptions to these; by default they print to standard error.
        context.setUncaughtExceptionHandler(FatalErrors::uncaught);
        context.setNotificationExceptionHandler(FatalErrors::ioThreadError);
        CurveServer curve = null;
        if (config.curve() != null) {
            // The cipher JeroMQ will call is Rewind's, and right: or nothing starts.
            io.rewind.nacl.SelfTest.check();
            // Bound before any CURVE socket: JeroMQ lets every key in while no ZAP handler is bound.
            access = AccessControl.watch(config.curve().authorizedKeys());
            try {
                zap = ZapHandler.start(context, access, metrics);
            } catch (RuntimeException e) {
                access.close();
                context.close();
                throw e;
            }
            curve = new CurveServer(config.curve().keys().secretKey());
            access.onReloadFailure(metrics::authorizedKeysReloadFailed);
        } else {
            access = AccessControl.OPEN;
            zap = null;
        }
        ServerConfig.Legacy legacyConfig = config.legacy();
        // The legacy feed sends each event's previous id: it starts from the newest stored event.
        List<StoredEvent> newest = legacyConfig.streamEndpoint() == null ? List.of()
                : storage.readAll(storage.nextPosition() - 1, ReadDirection.BACKWARD, 1, 1);
        feed = new FeedPublisher(context, config.streamEndpoint(), config.feedHighWaterMark(),
                legacyConfig.streamEndpoint(), newest.isEmpty() ? null : newest.get(0).eventId(), curve);
        backups = new Backups(storage, config.dataDir(), config.backupRoot(), this::sendCommandReply);
        writer = new AppendWriter<>(storage, config.fsync() == ServerConfig.FsyncMode.ALWAYS,
                config.queueCapacity(), 10_000, this::committed, this::wakeCommitter);
        writer.observeGroups(metrics::committed);
        metrics.watchQueue(writer::queued);
        replicated = config.replicated() ? new ReplicatedCommits<>(config.cluster().nodeId(),
                RaftReplication.GROUP_BYTES, this::committed, this::wakeCommitter) : null;
        if (replicated != null) {
            writer.replicateThrough(replicated);
        }
        RequestHandler handler = new RequestHandler(storage, writer, config.limits(), version, feed::boundEndpoint,
                backups, metrics, () -> cluster, access);
        commands = new RouterEndpoint(context, "rewind-commands", "--command-endpoint", config.commandEndpoint(),
                config.maxMessageSize(), curve, handler,
                new RouterEndpoint.CommitStep() {
                    @Override
                    public void open() {
                        feed.open();
                    }

                    @Override
                    public void run() {
                        if (feedRevoked) {
                            feedRevoked = false;
                            try {
                                feed.cutConnections();
                            } catch (RuntimeException e) {
                                // Unbound and not bound again within 2 s: another process took the port. Serving
                                // on without a feed would leave every subscriber waiting for nothing.
                                FatalErrors.halt("cannot cut the live feed's connections: " + e.getMessage(), e);
                            }
                            log.info("A key lost the live feed: every feed connection was cut, and only keys that may"
                                    + " still read it get back in");
                        }
                        if (replicated != null) {
                            // Applied entries first: each frees a slot for the next proposal.
                            replicated.handOver();
                        }
                        writer.commitQueued();
                        List<DeferredReply> reads = handler.answerWaitingReads();
                        if (!reads.isEmpty()) {
                            commands.sendLater(reads);
                        }
                    }

                    @Override
                    public boolean pending() {
                        return feedRevoked || writer.canCommit() || replicated != null && replicated.pending();
                    }

                    @Override
                    public void close() {
                        feed.close();
                    }
                });
        legacy = legacyConfig.queryEndpoint() == null ? null
                : new RouterEndpoint(context, "rewind-legacy", "--legacy-query-endpoint", legacyConfig.queryEndpoint(),
                        config.maxMessageSize(), curve, new LegacyHandler(storage, writer, legacyConfig.stream(),
                                config.limits(), metrics, access), RouterEndpoint.NO_COMMITS);
        if (access.enabled()) {
            access.onFeedRevoked(() -> {
                feedRevoked = true;
                wakeCommitter();
            });
        }
    }

    /** A legacy PUBLISH was queued, or a command append by the committer itself (then this costs nothing). */
    private void wakeCommitter() {
        commands.wake();
    }

    /**
     * On the command thread, after each group's commit: publish it, then queue each append's reply. In a
     * replicated group, also each entry that another member (or an earlier process) proposed: those
     * outcomes have no one to answer.
     */
    private void committed(List<AppendOutcome<ReplyTo>> group) {
        feed.publish(group);
        long now = System.nanoTime();
        int published = 0;
        for (AppendOutcome<ReplyTo> outcome : group) {
            published += outcome.committed().size();
            if (outcome.attachment() != null) {
                metrics.appended(outcome.succeeded() ? null : outcome.error().code(),
                        outcome.succeeded() && outcome.result().duplicate(), outcome.committed().size(),
                        now - outcome.attachment().receivedNanos());
            }
        }
        metrics.published(published);
        List<DeferredReply> replies = new ArrayList<>(group.size());
        List<DeferredReply> legacyReplies = new ArrayList<>();
        for (AppendOutcome<ReplyTo> outcome : group) {
            ReplyTo to = outcome.attachment();
            if (to == null) {
                continue;
            }
            if (to.legacy()) {
                legacyReplies.add(new DeferredReply(to.envelope(), outcome.succeeded() ? PUBLISHED
                        : LegacyHandler.error(errorFor(to, outcome.error()).message())[0]));
            } else {
                Response response;
                if (!outcome.succeeded()) {
                    response = ProtoCodec.toResponse(to.requestId(), errorFor(to, outcome.error()));
                } else if (outcome.operation() != null) {
                    response = ProtoCodec.toResponse(to.requestId(), outcome.operation(),
                            Visibility.firstVisibleVersion(storage, outcome.operation().stream(), Visibility.nowMicros()));
                } else {
                    response = ProtoCodec.toResponse(to.requestId(), outcome.result());
                }
                replies.add(new DeferredReply(to.envelope(), response.toByteArray()));
            }
        }
        if (!replies.isEmpty()) {
            commands.sendLater(replies);
        }
        if (!legacyReplies.isEmpty()) {
            legacy.sendLater(legacyReplies);
        }
    }

    /** The error as this client may be told it: without what it tells of a stream the client's key may not read. */
    private RequestError errorFor(ReplyTo to, RequestError error) {
        return error.reveals() != null && !access.canRead(to.key(), error.reveals().stream()) ? error.withheld() : error;
    }

    /** What each key may do: its reload state is part of readiness. */
    public AccessControl access() {
        return access;
    }

    /** Where applied entries of the replicated log go; null when the server runs alone. */
    public ReplicatedCommits<ReplyTo> replicatedCommits() {
        return replicated;
    }

    /** Connects the started Raft member: ServerInfo tells its view, and the leader proposes through it. */
    public void attach(RaftReplication raft) {
        this.cluster = raft;
        replicated.attach(raft);
    }

    /** Sends a reply made on another thread (a finished backup) on the command endpoint. */
    private void sendCommandReply(DeferredReply reply) {
        commands.sendLater(List.of(reply));
    }

    /** Binds every endpoint and starts serving; throws naming the endpoint that could not be bound. */
    public void start() {
        try {
            boundCommandEndpoint = commands.start();
            if (legacy != null) {
                boundLegacyQueryEndpoint = legacy.start();
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public String commandEndpoint() {
        return boundCommandEndpoint;
    }

    public String streamEndpoint() {
        return feed.boundEndpoint();
    }

    /** The bound legacy query endpoint, or null when off. */
    public String legacyQueryEndpoint() {
        return boundLegacyQueryEndpoint;
    }

    /** The bound legacy stream endpoint, or null when off. */
    public String legacyStreamEndpoint() {
        return feed.boundLegacyEndpoint();
    }

    @Override
    public void close() {
        commands.stopAccepting();
        if (legacy != null) {
            legacy.stopAccepting();
        }
        // Refuses new appends; the command thread commits, publishes and answers the queued ones as it ends.
        writer.close();
        backups.close();
        commands.close();
        if (legacy != null) {
            legacy.close();
        }
        // Last, once no CURVE socket is left to let a key in while it is gone.
        if (zap != null) {
            zap.close();
        }
        access.close();
        context.close();
    }
}
