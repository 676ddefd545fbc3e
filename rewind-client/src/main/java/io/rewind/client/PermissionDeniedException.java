package io.rewind.client;

/**
 * The client's key may not do what it asked (write to or read a stream, read the global log, take a
 * backup): the server's authorized keys do not grant it. The message names the key and the stream;
 * nothing was stored. Retrying does not help until the server's list changes.
 */
public final class PermissionDeniedException extends RewindException {
    /** @param message the server's explanation */
    public PermissionDeniedException(String message) {
        super(message);
    }
}
