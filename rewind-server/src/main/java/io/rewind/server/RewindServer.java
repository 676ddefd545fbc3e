package io.rewind.server;

import io.rewind.server.config.Endpoints;
import io.rewind.server.config.ServerConfig;
import io.rewind.server.config.ServerVersion;
import io.rewind.server.http.HealthEndpoint;
import io.rewind.server.http.PrometheusMetrics;
import io.rewind.server.http.ServerMetrics;
import io.rewind.server.storage.Cleanup;
import io.rewind.server.storage.EventStorage;
import io.rewind.server.storage.InMemoryStorage;
import io.rewind.server.storage.RocksDbStorage;
import io.rewind.server.replication.RaftReplication;
import io.rewind.server.replication.ClusterView;
import io.rewind.server.transport.ZeroMqServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running Rewind server: its storage engine and its ZeroMQ side, wired from a configuration. */
public final class RewindServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RewindServer.class);

    private final ServerConfig config;
    private final EventStorage storage;
    private final ZeroMqServer zeromq;
    private final HealthEndpoint health;
    /** This member of a replicated group; null when the server runs alone. */
    private final RaftReplication raft;
    /** The background cleanup of a RocksDB store; null for the in-memory engine. */
    private final Cleanup cleanup;
    private boolean closed;

    private RewindServer(ServerConfig config, EventStorage storage, ZeroMqServer zeromq, HealthEndpoint health,
            RaftReplication raft, Cleanup cleanup) {
        this.health = health;
        this.cleanup = cleanup;
        this.raft = raft;
        this.config = config;
        this.storage = storage;
        this.zeromq = zeromq;
    }

    /**
     * Binds the health endpoint (when configured), opens the storage, binds the ZeroMQ endpoints and
     * starts serving; the health endpoint says ready only then.
     */
    public static RewindServer start(ServerConfig config) {
        HealthEndpoint health = config.httpEndpoint() == null ? null
                : HealthEndpoint.start(config.httpEndpoint().host(), config.httpEndpoint().port());
        EventStorage storage;
        ZeroMqServer zeromq;
        RaftReplication raft = null;
        try {
            storage = switch (config.storage()) {
                case ROCKSDB -> RocksDbStorage.open(config.dataDir(), config.minFreeSpace());
                case MEMORY -> memoryStorage(config.memoryLimit());
            };
            ServerMetrics metrics = ServerMetrics.NONE;
            PrometheusMetrics prometheus = null;
            if (health != null) {
                prometheus = new PrometheusMetrics(storage);
                prometheus.includeJvmMetrics();
                health.serveMetrics(prometheus);
                metrics = prometheus;
            }
            zeromq = new ZeroMqServer(config, storage, ServerVersion.get(), metrics);
            try {
                if (config.replicated()) {
                    // Started before the endpoints, so that the first request already sees the group; what it
                    // applies meanwhile waits for the command thread.
                    raft = RaftReplication.start(config.cluster(), config.dataDir(), (RocksDbStorage) storage,
                            config.limits().maxAppendBytes() + (long) config.limits().maxEventsPerAppend() * 64,
                            zeromq.replicatedCommits(), metrics::undecodableEntry);
                    zeromq.attach(raft);
                    if (prometheus != null) {
                        prometheus.includeReplication(raft);
                    }
                }
                zeromq.start();
            } catch (RuntimeException e) {
                if (raft != null) {
                    raft.close();
                }
                storage.close();
                throw e;
            }
        } catch (RuntimeException e) {
            if (health != null) {
                health.close();
            }
            throw e;
        }
        Cleanup cleanup = null;
        if (storage instanceof RocksDbStorage rocks) {
            RaftReplication member = raft;
            cleanup = new Cleanup(rocks, config.cleanup().interval(), config.cleanup().eventsPerSecond(),
                    config.replicated(), member == null ? null : () -> member.eraseFromLog(rocks)).start();
        }
        RewindServer server = new RewindServer(config, storage, zeromq, health, raft, cleanup);
        warnIfExposed(config, zeromq, health);
        if (health != null) {
            RaftReplication member = raft;
            health.warnWhen(zeromq.access()::reloadWarning);
            health.ready(member == null ? () -> null : () -> member.status().leaderId().isEmpty()
                    ? "no leader is known to member '" + member.nodeId() + "' (an election is under way)" : null);
        }
        String role = raft == null ? "" : ", " + describeMembership(raft);
        String legacy = zeromq.legacyQueryEndpoint() == null && zeromq.legacyStreamEndpoint() == null ? ""
                : ", legacy query on " + zeromq.legacyQueryEndpoint() + ", legacy stream on "
                        + zeromq.legacyStreamEndpoint() + " (stream '" + config.legacy().stream() + "')";
        log.info("Rewind {} ready: commands on {}, live feed on {}, storage {}{}, fsync {}{}{}", ServerVersion.get(),
                zeromq.commandEndpoint(), zeromq.streamEndpoint(), storage.engine(),
                config.storage() == ServerConfig.StorageEngine.ROCKSDB ? " in " + config.dataDir() : "",
                raft == null ? config.fsync().name().toLowerCase() : "always (the replicated log)", role,
                legacy + (health == null ? "" : ", health on http://" + health.boundAddress() + "/health/ready"));
        return server;
    }

    /**
     * Says what anyone beyond this host could reach: plain-text ZeroMQ endpoints (every event, any append), the HTTP
     * endpoint (metrics and health, never protected), and a plain-text Raft port (the group's writes).
     */
    private static void warnIfExposed(ServerConfig config, ZeroMqServer zeromq, HealthEndpoint health) {
        if (config.curve() != null) {
            log.info("CURVE on every endpoint: server public key {}, client keys from {}",
                    config.curve().keys().publicKey(), config.curve().authorizedKeys());
            if (config.backupRoot() == null) {
                log.info("Backups: an admin key may have one written into any directory this server's user may write;"
                        + " --backup-root limits them to one");
            }
        } else {
            List<String> exposed = new ArrayList<>();
            for (String endpoint : new String[] {zeromq.commandEndpoint(), zeromq.streamEndpoint(),
                    zeromq.legacyQueryEndpoint(), zeromq.legacyStreamEndpoint()}) {
                if (endpoint != null && !Endpoints.isLocalOnly(endpoint)) {
                    exposed.add(endpoint);
                }
            }
            if (!exposed.isEmpty()) {
                log.warn("Plain text on {}, reachable beyond this host: anyone who can connect may read every event"
                        + " and append to any stream. Turn on CURVE with --curve-secret-key-file and --authorized-keys,"
                        + " or bind to 127.0.0.1", String.join(", ", exposed));
            }
        }
        if (health != null && !Endpoints.isLoopbackHost(config.httpEndpoint().host())) {
            log.warn("HTTP on {}, reachable beyond this host, without authentication or TLS: anyone who can connect"
                    + " reads /metrics (head position, rates, stream and key counts) and /health. Bind"
                    + " --http-endpoint to 127.0.0.1 or put it behind a proxy that authenticates",
                    health.boundAddress());
        }
        if (config.replicated() && config.cluster().tls() == null && !config.cluster().loopbackOnly()) {
            log.warn("Raft port {} in plain text beyond this host (--raft-network-is-private): anyone who reaches it"
                    + " can read the group's events and change its membership. Give every member --raft-tls",
                    config.cluster().self().raftAddress());
        }
    }

    /** The member's id and role, once it knows one: waits up to two election timeouts for a leader. */
    private static String describeMembership(RaftReplication raft) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
        ClusterView.Status status = raft.status();
        while (status.leaderId().isEmpty() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            status = raft.status();
        }
        return "member '" + raft.nodeId() + "' of " + raft.members().size() + ", role " + status.role()
                + (status.leaderId().isEmpty() ? ", no leader yet" : ", leader '" + status.leaderId() + "'")
                + ", term " + status.term();
    }

    private static EventStorage memoryStorage(long limit) {
        long heap = Runtime.getRuntime().maxMemory();
        if (limit > heap * 3 / 4) {
            log.warn("--memory-limit {} MiB is more than three quarters of the {} MiB heap: the server may run out of"
                    + " memory before the limit refuses appends, and then it exits", limit >> 20, heap >> 20);
        }
        log.info("In-memory store: up to {} MiB of events ({} MiB heap)", limit >> 20, heap >> 20);
        return new InMemoryStorage(limit);
    }

    public String commandEndpoint() {
        return zeromq.commandEndpoint();
    }

    public String streamEndpoint() {
        return zeromq.streamEndpoint();
    }

    public ServerConfig config() {
        return config;
    }

    /** Stops taking requests, commits and acknowledges every queued append, then closes the storage. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        log.info("Shutting down");
        if (health != null) {
            health.stopping();
        }
        zeromq.close();
        if (cleanup != null) {
            cleanup.close();
        }
        if (raft != null) {
            raft.close();
        }
        storage.close();
        if (health != null) {
            health.close();
        }
        log.info("Stopped");
    }
}
