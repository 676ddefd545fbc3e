package io.rewind.server.core;

/** Thrown while handling a request to reject it with a {@link RequestError}. */
public final class RequestException extends RuntimeException {
    private final RequestError error;

    public RequestException(RequestError error) {
        super(error.message(), null, false, false);
        this.error = error;
    }

    public static RequestException of(ErrorCode code, String message) {
        return new RequestException(RequestError.of(code, message));
    }

    public RequestError error() {
        return error;
    }
}
