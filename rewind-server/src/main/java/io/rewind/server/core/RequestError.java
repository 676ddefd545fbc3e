package io.rewind.server.core;

/**
 * A failed request: a code, a message for humans and, for a version conflict, its details.
 *
 * @param conflict set only with {@link ErrorCode#WRONG_EXPECTED_VERSION}
 */
public record RequestError(ErrorCode code, String message, VersionConflict conflict) {

    /** Details of a wrong-expected-version error; {@code actualVersion} is -1 for a missing stream. */
    public record VersionConflict(String stream, ExpectedVersion expected, long actualVersion) {}

    public static RequestError of(ErrorCode code, String message) {
        return new RequestError(code, message, null);
    }

    public static RequestError wrongExpectedVersion(String stream, ExpectedVersion expected, long actual) {
        String message = "wrong expected version for stream '" + stream + "': expected " + expected
                + ", actual " + (actual < 0 ? "no stream" : Long.toString(actual));
        return new RequestError(ErrorCode.WRONG_EXPECTED_VERSION, message,
                new VersionConflict(stream, expected, actual));
    }

    /** This error as an exception, to unwind validation code. */
    public RequestException asException() {
        return new RequestException(this);
    }
}
