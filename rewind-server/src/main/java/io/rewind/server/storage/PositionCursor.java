package io.rewind.server.storage;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The global positions of the events that match something (a tag, a type, a query), visited in one direction
 * with seeks: the building block of reads by query. Index cursors read one posting list each; {@link #of}
 * combines them as a query says, so that a read does work in proportion to the index entries it visits, not to
 * the log.
 */
interface PositionCursor {
    long NONE = -1;

    /**
     * Forward: the smallest matching position at or after {@code target}; backward: the largest at or before it.
     * {@link #NONE} when there is none. Targets may move either way between calls.
     */
    long seek(long target);

    /**
     * The cursor of a query over the events at positions below {@code limit}.
     *
     * @param tags  the cursor of the events that carry a tag
     * @param types the cursor of the events of a type
     */
    static PositionCursor of(EventQuery query, ReadDirection direction, long limit,
            Function<String, PositionCursor> tags, Function<String, PositionCursor> types) {
        boolean forward = direction == ReadDirection.FORWARD;
        PositionCursor root;
        if (query.matchesEverything()) {
            root = target -> target;
        } else {
            List<PositionCursor> items = new ArrayList<>();
            for (EventQuery.Item item : query.items()) {
                List<PositionCursor> all = new ArrayList<>();
                for (String tag : item.tags()) {
                    all.add(tags.apply(tag));
                }
                if (!item.types().isEmpty()) {
                    List<PositionCursor> anyType = new ArrayList<>();
                    for (String type : item.types()) {
                        anyType.add(types.apply(type));
                    }
                    all.add(union(anyType, forward));
                }
                items.add(all.size() == 1 ? all.get(0) : new Intersection(all));
            }
            root = union(items, forward);
        }
        return bounded(root, forward, limit);
    }

    /** Positions at or beyond {@code limit} (not yet stored when the read began), or below 0, do not exist. */
    private static PositionCursor bounded(PositionCursor cursor, boolean forward, long limit) {
        return target -> {
            long from = forward ? Math.max(target, 0) : Math.min(target, limit - 1);
            if (from < 0 || from >= limit) {
                return NONE;
            }
            long found = cursor.seek(from);
            return found >= limit ? NONE : found;
        };
    }

    private static PositionCursor union(List<PositionCursor> cursors, boolean forward) {
        return cursors.size() == 1 ? cursors.get(0) : new Union(cursors, forward);
    }

    /** Positions every cursor has: each seeks to the furthest one found so far, until they agree. */
    final class Intersection implements PositionCursor {
        private final List<PositionCursor> cursors;

        Intersection(List<PositionCursor> cursors) {
            this.cursors = cursors;
        }

        @Override
        public long seek(long target) {
            long candidate = target;
            while (true) {
                boolean agreed = true;
                for (PositionCursor cursor : cursors) {
                    long found = cursor.seek(candidate);
                    if (found == NONE) {
                        return NONE;
                    }
                    if (found != candidate) {
                        candidate = found;
                        agreed = false;
                        break;
                    }
                }
                if (agreed) {
                    return candidate;
                }
            }
        }
    }

    /**
     * Positions any cursor has. Each cursor's last answer is kept: while the targets move on in the direction of
     * reading and have not passed it, it still holds, so a long read seeks each index once per match of its own.
     */
    final class Union implements PositionCursor {
        private final List<PositionCursor> cursors;
        private final boolean forward;
        private final long[] lastTarget;
        private final long[] lastFound;

        Union(List<PositionCursor> cursors, boolean forward) {
            this.cursors = cursors;
            this.forward = forward;
            this.lastTarget = new long[cursors.size()];
            this.lastFound = new long[cursors.size()];
            java.util.Arrays.fill(lastTarget, Long.MIN_VALUE);
        }

        @Override
        public long seek(long target) {
            long best = NONE;
            for (int i = 0; i < cursors.size(); i++) {
                long found;
                if (lastTarget[i] != Long.MIN_VALUE && stillHolds(lastTarget[i], lastFound[i], target)) {
                    found = lastFound[i];
                } else {
                    found = cursors.get(i).seek(target);
                    lastTarget[i] = target;
                    lastFound[i] = found;
                }
                if (found != NONE && (best == NONE || (forward ? found < best : found > best))) {
                    best = found;
                }
            }
            return best;
        }

        /** Whether the answer {@code found} to {@code previous} is also the answer to {@code target}. */
        private boolean stillHolds(long previous, long found, long target) {
            if (forward) {
                return target >= previous && (found == NONE || target <= found);
            }
            return target <= previous && (found == NONE || target >= found);
        }
    }

    /** A posting list kept in memory: ascending positions, searched by bisection. */
    final class Sorted implements PositionCursor {
        private final long[] positions;
        private final int size;
        private final boolean forward;

        Sorted(long[] positions, int size, boolean forward) {
            this.positions = positions;
            this.size = size;
            this.forward = forward;
        }

        @Override
        public long seek(long target) {
            int at = java.util.Arrays.binarySearch(positions, 0, size, target);
            if (at >= 0) {
                return positions[at];
            }
            int insertion = -at - 1;
            if (forward) {
                return insertion < size ? positions[insertion] : NONE;
            }
            return insertion > 0 ? positions[insertion - 1] : NONE;
        }
    }

    /**
     * Reads one page of matching events through a cursor.
     *
     * @param from   first position to look at; -1: the first (forward) or last (backward) event
     * @param limit  the number of events stored when the read began
     * @param events reads the event at a position
     */
    static QueryPage readPage(PositionCursor cursor, long from, ReadDirection direction, long limit, PageBudget page,
            Function<Long, StoredEvent> events) {
        boolean forward = direction == ReadDirection.FORWARD;
        long target = from >= 0 ? from : forward ? 0 : limit - 1;
        long found = target < 0 ? NONE : cursor.seek(target);
        while (found != NONE && page.hasRoom()) {
            if (!page.offer(events.apply(found))) {
                break;
            }
            target = forward ? found + 1 : found - 1;
            found = target < 0 ? NONE : cursor.seek(target);
        }
        if (found == NONE) {
            // Everything up to the head (forward) or down to position 0 (backward) was looked at.
            return new QueryPage(page.events(), forward ? Math.max(limit, target) : -1, true);
        }
        return new QueryPage(page.events(), found, false);
    }
}
