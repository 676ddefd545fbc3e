package io.rewind.client;

/**
 * The server refused this client's connection during the CurveZMQ handshake: its key is not in the
 * server's authorized keys (or no longer is), the client speaks CURVE to a plain-text server or plain
 * text to a CURVE one, or the server's public key the client was given is wrong. Nothing the client
 * sent on the refused connection reached the server. Requests fail with it at once instead of
 * waiting for their timeout; the client keeps trying to connect, so a key added to the server's list
 * works without rebuilding the client.
 */
public final class AuthenticationException extends RewindException {
    /** @param message what the handshake failed on, and the endpoint */
    public AuthenticationException(String message) {
        super(message);
    }
}
