package io.rewind.client;

/** An event or append exceeds a server limit (the message says which); nothing was stored. */
public final class TooLargeException extends RewindException {
    /** @param message the server's explanation */
    public TooLargeException(String message) {
        super(message);
    }
}
