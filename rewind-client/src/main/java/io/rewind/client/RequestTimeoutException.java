package io.rewind.client;

/**
 * No reply came within the request timeout. The request may or may not have taken effect: retry an
 * append with the same event ids, which is idempotent.
 */
public final class RequestTimeoutException extends RewindException {
    /** @param message what timed out */
    public RequestTimeoutException(String message) {
        super(message);
    }
}
