package io.rewind.client;

/** The server cannot take the request now (overloaded or shutting down); nothing was stored; retry later. */
public final class ServerUnavailableException extends RewindException {
    /** @param message the server's explanation */
    public ServerUnavailableException(String message) {
        super(message);
    }
}
