package io.rewind.server.core;

import io.rewind.server.storage.EventQuery;

/**
 * A Dynamic Consistency Boundary condition: the append fails when an event matching the query is stored after
 * the position (any stored event, when {@code after} is -1).
 */
public record AppendCondition(EventQuery failIfEventsMatch, long after) {
    @Override
    public String toString() {
        return "no event matching " + failIfEventsMatch + (after < 0 ? "" : " after position " + after);
    }
}
