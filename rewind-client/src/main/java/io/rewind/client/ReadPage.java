package io.rewind.client;

import java.util.List;

/**
 * One page of a read.
 *
 * @param events     the events, in the read's direction
 * @param endReached whether there was nothing more to read when the page was made
 * @param nextFrom   the version or position to read the next page from
 */
public record ReadPage(List<RecordedEvent> events, boolean endReached, long nextFrom) {}
