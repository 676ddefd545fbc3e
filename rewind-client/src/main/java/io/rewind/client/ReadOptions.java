package io.rewind.client;

import java.time.Instant;
import java.util.List;

/**
 * How to read a stream or the global log: direction, start, page size and how many events in all.
 * Immutable; every method returns a new instance.
 *
 * <pre>{@code
 * ReadOptions.forwards().from(100).maxCount(1_000)
 * ReadOptions.backwards().maxCount(10)          // the ten newest events
 * }</pre>
 */
public final class ReadOptions {
    private static final long START = -1;

    private final Direction direction;
    private final long from;
    private final int pageSize;
    private final long maxCount;
    private final long minPosition;
    private final List<String> types;
    /** Where to start by commit time, or null to start at {@link #from}. */
    private final Instant fromTime;

    private ReadOptions(Direction direction, long from, int pageSize, long maxCount, long minPosition,
            List<String> types, Instant fromTime) {
        this.direction = direction;
        this.from = from;
        this.pageSize = pageSize;
        this.maxCount = maxCount;
        this.minPosition = minPosition;
        this.types = types;
        this.fromTime = fromTime;
    }

    /** @return oldest first, from the first event, every event */
    public static ReadOptions forwards() {
        return new ReadOptions(Direction.FORWARDS, START, 0, Long.MAX_VALUE, START, List.of(), null);
    }

    /** @return newest first, from the last event, every event */
    public static ReadOptions backwards() {
        return new ReadOptions(Direction.BACKWARDS, START, 0, Long.MAX_VALUE, START, List.of(), null);
    }

    /** @return defaults: {@link #forwards()} */
    public static ReadOptions defaults() {
        return forwards();
    }

    /**
     * @param versionOrPosition first stream version (stream reads) or global position (global-log reads)
     *                          to return, inclusive
     */
    public ReadOptions from(long versionOrPosition) {
        if (versionOrPosition < 0) {
            throw new IllegalArgumentException("from must be >= 0, got " + versionOrPosition);
        }
        return new ReadOptions(direction, versionOrPosition, pageSize, maxCount, minPosition, types, null);
    }

    /** @param size events fetched per request; 0 means the server's page size */
    public ReadOptions pageSize(int size) {
        if (size < 0) {
            throw new IllegalArgumentException("page size must be >= 0, got " + size);
        }
        return new ReadOptions(direction, from, size, maxCount, minPosition, types, fromTime);
    }

    /** @param count most events to return in all */
    public ReadOptions maxCount(long count) {
        if (count < 0) {
            throw new IllegalArgumentException("max count must be >= 0, got " + count);
        }
        return new ReadOptions(direction, from, pageSize, count, minPosition, types, fromTime);
    }

    /**
     * Read-your-writes on a member of a replicated group: the server answers each page only once it has
     * applied the global log up to this position (say, {@link AppendResult#lastPosition()} of an append),
     * and fails the read with {@link ServerUnavailableException} when it has not within 5 s.
     *
     * @param position a global position, >= 0
     */
    public ReadOptions minPosition(long position) {
        if (position < 0) {
            throw new IllegalArgumentException("min position must be >= 0, got " + position);
        }
        return new ReadOptions(direction, from, pageSize, maxCount, position, types, fromTime);
    }

    /**
     * Only events of these types, filtered by the server (a read of the global log uses its type index; a stream
     * read looks at a bounded number of events per page, so a page may hold fewer events than its size). Not for
     * reads by query, whose items name their types.
     */
    public ReadOptions types(String... eventTypes) {
        return new ReadOptions(direction, from, pageSize, maxCount, minPosition, List.of(eventTypes), fromTime);
    }

    /**
     * Start at a commit time instead of a position: forwards from the first event committed at or after it,
     * backwards from the last one committed at or before it. The server finds it by bisection, not a scan.
     * Replaces {@link #from(long)}.
     */
    public ReadOptions fromTime(Instant time) {
        return new ReadOptions(direction, START, pageSize, maxCount, minPosition, types,
                java.util.Objects.requireNonNull(time, "time"));
    }

    /** @return the types the server filters by; empty for every type */
    public List<String> types() {
        return types;
    }

    /** @return the commit time the read starts at, or null when it starts at {@link #from()} */
    public Instant fromTime() {
        return fromTime;
    }

    /** @return the position the server must have applied before it answers, or -1 for none */
    public long minPosition() {
        return minPosition;
    }

    public Direction direction() {
        return direction;
    }

    /** @return the start, or -1 for the first event (forwards) or the last one (backwards) */
    public long from() {
        return from;
    }

    public int pageSize() {
        return pageSize;
    }

    public long maxCount() {
        return maxCount;
    }

    @Override
    public String toString() {
        return "ReadOptions[" + direction + ", from " + (fromTime != null ? fromTime : from == START ? "the start" : from)
                + ", page size " + (pageSize == 0 ? "server default" : pageSize) + ", max count " + maxCount
                + (types.isEmpty() ? "" : ", types " + types) + "]";
    }
}
