package io.rewind.server.config;

import io.rewind.server.core.Limits;
import io.rewind.server.security.CurveKeyPair;
import java.nio.file.Path;

/**
 * The server's resolved configuration.
 *
 * @param dataDir             RocksDB directory (unused by the memory engine)
 * @param minFreeSpace        bytes kept free on the data directory's disk: appends are refused below (0: off)
 * @param memoryLimit         most heap the memory engine's events may take
 * @param maxMessageSize      largest ZeroMQ message the command socket accepts; larger ones are dropped unread
 * @param queueCapacity       most appends waiting for the writer before new ones get UNAVAILABLE
 * @param feedHighWaterMark   messages the live feed queues per subscriber before dropping for it
 * @param legacy              the original Rewind protocol's endpoints, each null when off
 * @param httpEndpoint        where the health checks are served, or null for off
 * @param cluster             the replicated group this server is a member of, or null when it runs alone
 * @param curve               CURVE and permissions on every endpoint, or null for plain text
 */
public record ServerConfig(
        Path dataDir,
        StorageEngine storage,
        long minFreeSpace,
        long memoryLimit,
        String commandEndpoint,
        String streamEndpoint,
        FsyncMode fsync,
        long maxMessageSize,
        Limits limits,
        int queueCapacity,
        int feedHighWaterMark,
        Legacy legacy,
        HttpEndpoint httpEndpoint,
        ClusterConfig cluster,
        Curve curve,
        Cleanup cleanup,
        Path backupRoot) {

    /**
     * The background removal of what stream lifecycles hide (RocksDB only).
     *
     * @param interval       how often it looks for work
     * @param eventsPerSecond the most events it removes per second, so that appends keep their pace
     */
    public record Cleanup(java.time.Duration interval, long eventsPerSecond) {}

    /** Whether this server is a member of a replicated group. */
    public boolean replicated() {
        return cluster != null;
    }

    /**
     * CurveZMQ on every endpoint, with a ZAP handler that takes the keys of {@code authorizedKeys} only.
     *
     * @param secretKeyFile  the server's certificate, for messages
     * @param keys           the server's key pair, read from it
     * @param authorizedKeys the client keys and their permissions, read again when it changes
     */
    public record Curve(Path secretKeyFile, CurveKeyPair keys, Path authorizedKeys) {}

    /** A TCP address for HTTP; port 0 picks a free one. */
    public record HttpEndpoint(String host, int port) {}

    /**
     * The original Rewind protocol.
     *
     * @param queryEndpoint  where its request/reply socket binds, or null for off
     * @param streamEndpoint where its PUB socket binds, or null for off
     * @param stream         the stream a legacy PUBLISH appends to
     */
    public record Legacy(String queryEndpoint, String streamEndpoint, String stream) {}

    /** The storage engines. */
    public enum StorageEngine {
        ROCKSDB,
        MEMORY
    }

    /** When an append is acknowledged relative to the disk sync of its write. */
    public enum FsyncMode {
        /** After the write-ahead log is synced: survives a process or machine crash. */
        ALWAYS,
        /** After the write reaches the OS: survives a process crash, not a machine crash. */
        NEVER
    }
}
