package io.rewind.client;

import java.util.Objects;

/**
 * A Dynamic Consistency Boundary condition on an append: it fails, storing nothing, with
 * {@link ConditionFailedException} when an event matching {@link #failIfEventsMatch()} is stored after
 * {@link #after()} (at all, when it is -1). Typically {@code after} is the position of the last event the
 * decision was made from: a read by the same query, then an append on the condition that nothing new matched.
 *
 * <pre>{@code
 * Query query = Query.tagged("username:alice");
 * ReadPage page = client.readQueryPage(query, ReadOptions.forwards());   // empty: the name is free
 * client.append("user-42", ExpectedVersion.noStream(),
 *         AppendCondition.failIfEventsMatch(query).after(page.lastPosition()), registered);
 * }</pre>
 *
 * @param after a global position, or -1 for none
 */
public record AppendCondition(Query failIfEventsMatch, long after) {

    public AppendCondition {
        Objects.requireNonNull(failIfEventsMatch, "failIfEventsMatch");
        if (after < -1) {
            throw new IllegalArgumentException("after must be a position (>= 0) or -1 for none, got " + after);
        }
    }

    /** Fails when any event matching the query is stored. */
    public static AppendCondition failIfEventsMatch(Query query) {
        return new AppendCondition(query, -1);
    }

    /** This condition, counting only events after this global position (-1: all of them). */
    public AppendCondition after(long position) {
        return new AppendCondition(failIfEventsMatch, position);
    }
}
