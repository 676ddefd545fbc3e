package io.rewind.client;

/** The client was closed before the request completed. */
public final class ClientClosedException extends RewindException {
    /** @param message what was cut short */
    public ClientClosedException(String message) {
        super(message);
    }
}
