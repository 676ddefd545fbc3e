package io.rewind.server.storage;

import java.util.List;

/**
 * A page of a read by query.
 *
 * @param events     the matching events, in the direction of reading
 * @param nextFrom   where the next page starts: one past (forward) or one before (backward) the last position this
 *                   page looked at; -1 once a backward read passed position 0
 * @param endReached whether no matching event was left to read, in the direction of reading, when the page was made
 */
public record QueryPage(List<StoredEvent> events, long nextFrom, boolean endReached) {}
