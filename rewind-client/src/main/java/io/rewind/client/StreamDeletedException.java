package io.rewind.client;

/** The stream was deleted for good (tombstoned): appends to it, and changes to its lifecycle, fail forever. */
public class StreamDeletedException extends RewindException {
    public StreamDeletedException(String message) {
        super(message);
    }
}
