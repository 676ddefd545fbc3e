package io.rewind.server.storage;

import java.util.List;
import java.util.function.LongUnaryOperator;

/**
 * Finds where a commit time falls in the global log or in a stream, by bisection over positions: commit times
 * never decrease along the log (the writer sees to it), so a read from a time costs a few dozen point reads, not a
 * scan.
 */
public final class TimestampSearch {
    private TimestampSearch() {}

    /**
     * FORWARD: the global position of the first event committed at or after {@code micros} (the head when none
     * is); BACKWARD: that of the last event committed at or before it (-1 when none is). Positions whose events the
     * cleanup removed take the time of the next event that is still stored, which keeps times non-decreasing.
     */
    public static long globalPosition(EventStorage storage, long micros, ReadDirection direction) {
        return search(storage.nextPosition(), micros, direction,
                position -> timeOf(storage.readAll(position, ReadDirection.FORWARD, 1, Long.MAX_VALUE)));
    }

    /** {@link #globalPosition} within one stream, in stream versions. */
    public static long streamVersion(EventStorage storage, String stream, long micros, ReadDirection direction) {
        return search(storage.streamVersion(stream) + 1, micros, direction,
                version -> timeOf(storage.readStream(stream, version, ReadDirection.FORWARD, 1, Long.MAX_VALUE)));
    }

    /** The time of the first event read from a place: no event stored there or after it counts as never. */
    private static long timeOf(List<StoredEvent> read) {
        return read.isEmpty() ? Long.MAX_VALUE : read.get(0).commitTimestampMicros();
    }

    /** Over positions 0 .. size - 1 whose times {@code timeAt} gives, never decreasing. */
    static long search(long size, long micros, ReadDirection direction, LongUnaryOperator timeAt) {
        boolean forward = direction == ReadDirection.FORWARD;
        // The first position whose time is >= micros (forward) or > micros (backward, which wants the one before).
        long low = 0;
        long high = size;
        while (low < high) {
            long middle = (low + high) >>> 1;
            long time = timeAt.applyAsLong(middle);
            if (forward ? time >= micros : time > micros) {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        return forward ? low : low - 1;
    }
}
