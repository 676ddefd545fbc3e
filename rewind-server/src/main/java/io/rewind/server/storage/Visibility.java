package io.rewind.server.storage;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * What reads return of a store whose streams have lifecycles: an event is visible unless its stream's
 * {@link StreamState} hides it (deleted, truncated, beyond its max count, or older than its max age at the time of
 * the read). Hidden events stay stored until the cleanup removes them; reads never return them.
 */
public final class Visibility {
    private Visibility() {}

    /** Now, in commit-time microseconds. */
    public static long nowMicros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
    }

    /**
     * The first version of the stream a read returns at this time: its last version + 1 when none is. Commit times
     * never decrease, so the age limit is a bisection, not a scan.
     */
    public static long firstVisibleVersion(EventStorage storage, String stream, long nowMicros) {
        return firstVisibleVersion(storage, stream, storage.streamVersion(stream), nowMicros);
    }

    /** {@link #firstVisibleVersion(EventStorage, String, long)} of a stream whose last version is {@code head}. */
    public static long firstVisibleVersion(EventStorage storage, String stream, long head, long nowMicros) {
        return firstVisibleVersion(storage, stream, storage.streamState(stream), head, nowMicros);
    }

    /**
     * The same with this state for the stream (a decider's, before it is stored). The age limit is a bisection over
     * commit times; versions the cleanup removed have none, and they were hidden: the stream starts no earlier than
     * {@link EventStorage#removedBelow}, whatever the members' cleanups have done so far.
     */
    public static long firstVisibleVersion(EventStorage storage, String stream, StreamState state, long head,
            long nowMicros) {
        if (state.hidesNothing()) {
            return 0;
        }
        long first = state.firstVersionByPosition(head);
        if (state.maxAgeMicros() > 0 && first <= head) {
            first = Math.max(first, Math.max(storage.removedBelow(stream), TimestampSearch.streamVersion(storage,
                    stream, nowMicros - state.maxAgeMicros(), ReadDirection.FORWARD)));
        }
        return Math.min(first, head + 1);
    }

    /** Whether events of the global log are visible at this time; every event when no stream has a lifecycle. */
    public static Predicate<StoredEvent> inGlobalLog(EventStorage storage, long nowMicros) {
        Map<String, StreamState> states = storage.streamStates();
        if (states.isEmpty()) {
            return event -> true;
        }
        Map<String, Long> heads = new HashMap<>();
        return event -> {
            StreamState state = states.get(event.stream());
            if (state == null || state.hidesNothing()) {
                return true;
            }
            long head = heads.computeIfAbsent(event.stream(), storage::streamVersion);
            return !state.hides(event.streamVersion(), event.commitTimestampMicros(), head, nowMicros);
        };
    }

    /**
     * Whether any stream may hide something: without, reads need no filtering. Any stream with a lifecycle counts,
     * so that a read never walks every stream's lifecycle to decide.
     */
    public static boolean anyHidden(EventStorage storage) {
        return !storage.streamStates().isEmpty();
    }
}
