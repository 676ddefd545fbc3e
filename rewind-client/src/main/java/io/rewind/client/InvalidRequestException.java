package io.rewind.client;

/** The server rejected a request as malformed or against its rules (the message says which); nothing was stored. */
public final class InvalidRequestException extends RewindException {
    /** @param message the server's explanation */
    public InvalidRequestException(String message) {
        super(message);
    }
}
