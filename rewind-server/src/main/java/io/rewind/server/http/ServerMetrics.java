package io.rewind.server.http;

import io.rewind.server.core.ErrorCode;
import java.util.function.IntSupplier;

/**
 * What the server counts, told by the threads that do the work. Without {@code --http-endpoint}
 * nobody reads it, and {@link #NONE} counts nothing: the metrics library is not even loaded.
 */
public interface ServerMetrics {
    /** Counts nothing. */
    ServerMetrics NONE = new ServerMetrics() {
        @Override
        public void watchQueue(IntSupplier queueDepth) {}

        @Override
        public void appended(ErrorCode error, boolean duplicate, int events, long nanos) {}

        @Override
        public void committed(int events, long writeNanos) {}

        @Override
        public void read(int events) {}

        @Override
        public void published(int events) {}

        @Override
        public void legacyRequest(String command) {}
    };

    /** Exports the number of appends waiting to be committed. */
    void watchQueue(IntSupplier queueDepth);

    /**
     * An append was answered, {@code nanos} after it was received.
     *
     * @param error the error code, or null when it succeeded
     */
    void appended(ErrorCode error, boolean duplicate, int events, long nanos);

    /** A group commit wrote this many events in this long. */
    void committed(int events, long writeNanos);

    /** A read returned this many events. */
    void read(int events);

    /** This many events were published on the live feed. */
    void published(int events);

    /** A request of the original protocol: publish, query or unknown. */
    void legacyRequest(String command);

    /** A CURVE handshake the ZAP handler refused, on the command endpoints or a feed. Any thread. */
    default void refused(String endpoint) {}

    /** A request answered PERMISSION_DENIED, by operation. */
    default void denied(String operation) {}

    /** A committed entry of the replicated log that did not decode, which every member skipped. Apply thread. */
    default void undecodableEntry() {}

    /** A read of the authorized keys file that failed (it did not parse, or could not be read). */
    default void authorizedKeysReloadFailed() {}
}
