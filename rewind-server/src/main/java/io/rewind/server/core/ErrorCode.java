package io.rewind.server.core;

/** Why a request failed; mirrors the protocol's ErrorCode. */
public enum ErrorCode {
    INVALID_REQUEST,
    WRONG_EXPECTED_VERSION,
    NOT_FOUND,
    TOO_LARGE,
    UNAVAILABLE,
    INTERNAL,
    NOT_LEADER,
    PERMISSION_DENIED,
    CONDITION_FAILED,
    STREAM_DELETED
}
