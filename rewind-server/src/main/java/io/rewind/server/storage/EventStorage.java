package io.rewind.server.storage;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The narrow interface every storage engine implements.
 *
 * <p>Exactly one thread (the writer) calls {@link #append}; any thread may read concurrently. Reads
 * see an append either entirely or not at all. Validation (expected versions, idempotency) is not the
 * engine's business: the caller hands it events that already continue each stream and the global
 * log densely.
 */
public interface EventStorage extends AutoCloseable {

    /** Short engine name, e.g. "rocksdb". */
    String engine();

    /** The global position the next event will get, which is also the number of events stored. */
    long nextPosition();

    /** Number of streams with at least one event. */
    long streamCount();

    /** Version of the stream's last event, or -1 when the stream has none. */
    long streamVersion(String stream);

    /** Where the event with this id is stored, if it is. */
    Optional<EventLocation> locate(UUID eventId);

    /**
     * Where each of these events is stored, for those that are: what {@link #locate} answers for
     * each, which an engine may look up in one batch.
     */
    default Map<UUID, EventLocation> locateAll(Collection<UUID> eventIds) {
        Map<UUID, EventLocation> found = new HashMap<>();
        for (UUID id : eventIds) {
            locate(id).ifPresent(location -> found.put(id, location));
        }
        return found;
    }

    /**
     * Stores the events atomically: all or none. They must have consecutive global positions starting
     * at {@link #nextPosition()}, and continue their streams' versions densely.
     *
     * @param sync whether to make the write durable (fsync) before returning
     * @throws StorageException when nothing was stored
     */
    default void append(List<StoredEvent> events, boolean sync) {
        write(Changes.of(events), sync);
    }

    /**
     * What one group commit changes: new events (as {@link #append} takes them), streams' new lifecycles, and
     * events whose data and metadata are erased (by global position).
     */
    record Changes(List<StoredEvent> events, Map<String, StreamState> states, List<Long> erasures) {
        public static Changes of(List<StoredEvent> events) {
            return new Changes(events, Map.of(), List.of());
        }

        public boolean onlyEvents() {
            return states.isEmpty() && erasures.isEmpty();
        }
    }

    /** Stores the changes atomically: all or none; see {@link #append} for the events. */
    void write(Changes changes, boolean sync);

    /** The stream's lifecycle: {@link StreamState#NONE} for a stream never given one. */
    StreamState streamState(String stream);

    /**
     * The stream's versions below this are gone from the store: a cleanup removed them (they were hidden). 0 for an
     * engine that keeps what it hides.
     */
    default long removedBelow(String stream) {
        return 0;
    }

    /** Every stream whose lifecycle is not {@link StreamState#NONE}: a live, read-only view, not a copy. */
    Map<String, StreamState> streamStates();

    /**
     * Why this engine cannot take more events now, or null when it can: a disk almost full, a memory
     * bound reached. Asked by the writer thread before each append with everything its group would
     * write so far, including that append; the writer refuses the append with the reason.
     *
     * @param events       events the group would write
     * @param payloadBytes their stream names, types, data and metadata together
     */
    default String capacityProblem(long events, long payloadBytes) {
        return null;
    }

    /**
     * Called by the writer thread before the next write after {@link #append} failed: the engine
     * repairs itself if it can (RocksDB reopens), or throws saying why it still cannot write. Its
     * {@link #nextPosition()} and heads may have changed when it returns.
     */
    default void recoverWrites() {}

    /**
     * Reads events of the global log from {@code fromPosition} (inclusive) in the given direction.
     * Returns at most {@code maxCount} events and stops before exceeding {@code maxBytes} of payload,
     * but always returns at least one event when there is one.
     */
    List<StoredEvent> readAll(long fromPosition, ReadDirection direction, int maxCount, long maxBytes);

    /** Like {@link #readAll} over one stream, from a stream version; empty for a missing stream. */
    List<StoredEvent> readStream(String stream, long fromVersion, ReadDirection direction, int maxCount,
            long maxBytes);

    /**
     * Reads one page of the global log's events that match the query, in position order from {@code fromPosition}
     * (inclusive; -1: the first event forward, the last backward), through the engine's tag and type indexes.
     * Returns at most {@code maxCount} events and stops before exceeding {@code maxBytes}, but always returns at
     * least one event when one matches.
     */
    QueryPage readQuery(EventQuery query, long fromPosition, ReadDirection direction, int maxCount, long maxBytes);

    /**
     * The position of the first stored event after position {@code after} (-1: any) that matches the query, or
     * -1 when there is none: what decides an append's condition.
     */
    long firstMatch(EventQuery query, long after);

    /** Releases the engine's resources; pending writes are not the engine's concern. */
    @Override
    void close();
}
