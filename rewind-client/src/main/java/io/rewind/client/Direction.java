package io.rewind.client;

/** The order in which a read returns events. */
public enum Direction {
    /** Oldest first. */
    FORWARDS,
    /** Newest first. */
    BACKWARDS
}
