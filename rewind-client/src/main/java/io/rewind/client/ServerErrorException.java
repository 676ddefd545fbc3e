package io.rewind.client;

/** The server failed while handling the request (e.g. a storage error); nothing was stored. */
public final class ServerErrorException extends RewindException {
    /** @param message the server's explanation */
    public ServerErrorException(String message) {
        super(message);
    }
}
