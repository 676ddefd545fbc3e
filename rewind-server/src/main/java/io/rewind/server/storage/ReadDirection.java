package io.rewind.server.storage;

/** The order of a read. */
public enum ReadDirection {
    FORWARD,
    BACKWARD
}
