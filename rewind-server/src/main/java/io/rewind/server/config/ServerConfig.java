package io.rewind.server.config;

import io.rewind.server.core.Limits;
import java.nio.file.Path;

/**
 * The server's resolved configuration.
 *
 * @param dataDir             RocksDB directory (unused by the memory engine)
 * @param maxMessageSize      largest ZeroMQ message the command socket accepts; larger ones are dropped unread
 * @param queueCapacity       most appends waiting for the writer before new ones get UNAVAILABLE
 * @param feedHighWaterMark   messages the live feed queues per subscriber before dropping for it
 */
public record ServerConfig(
        Path dataDir,
        StorageEngine storage,
        String commandEndpoint,
        String streamEndpoint,
        FsyncMode fsync,
        long maxMessageSize,
        Limits limits,
        int queueCapacity,
        int feedHighWaterMark) {

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
