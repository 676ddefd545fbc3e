package io.rewind.server.core;

/**
 * A failed request: a code, a message for humans and, for a version conflict or a misdirected
 * append, its details.
 *
 * @param conflict set only with {@link ErrorCode#WRONG_EXPECTED_VERSION}
 * @param leader   set only with {@link ErrorCode#NOT_LEADER}
 * @param matchingPosition set only with {@link ErrorCode#CONDITION_FAILED}: the first event that matched, else -1
 * @param reveals  set when the message tells of a stream other than what the request named: who may not read
 *                 that stream gets {@link Reveals#withheld} instead
 */
public record RequestError(ErrorCode code, String message, VersionConflict conflict, Leader leader,
        long matchingPosition, Reveals reveals) {

    public RequestError(ErrorCode code, String message, VersionConflict conflict, Leader leader) {
        this(code, message, conflict, leader, -1, null);
    }

    public RequestError(ErrorCode code, String message, VersionConflict conflict, Leader leader,
            long matchingPosition) {
        this(code, message, conflict, leader, matchingPosition, null);
    }

    /** What a message tells of a stream, and the message for a client that may not read that stream. */
    public record Reveals(String stream, String withheld) {}

    /** This error as a client that may not read {@link Reveals#stream} gets it. */
    public RequestError withheld() {
        return reveals == null ? this : new RequestError(code, reveals.withheld(), conflict, leader, matchingPosition,
                null);
    }

    /** Details of a wrong-expected-version error; {@code actualVersion} is -1 for a missing stream. */
    public record VersionConflict(String stream, ExpectedVersion expected, long actualVersion) {}

    /** The leader of a replicated group, as a member knows it; both fields empty when it knows none. */
    public record Leader(String id, String commandEndpoint) {}

    public static RequestError of(ErrorCode code, String message) {
        return new RequestError(code, message, null, null);
    }

    /** An append sent to a member that is not the leader. */
    public static RequestError notLeader(String nodeId, Leader leader) {
        String message = leader.id().isEmpty()
                ? "member '" + nodeId + "' is not the leader and no leader is known yet (an election is under way);"
                        + " nothing was stored, retry shortly"
                : "member '" + nodeId + "' is not the leader; nothing was stored, send the append to the leader '"
                        + leader.id() + "' at " + leader.commandEndpoint();
        return new RequestError(ErrorCode.NOT_LEADER, message, null, leader);
    }

    public static RequestError wrongExpectedVersion(String stream, ExpectedVersion expected, long actual) {
        String message = "wrong expected version for stream '" + stream + "': expected " + expected
                + ", actual " + (actual < 0 ? "no stream" : Long.toString(actual));
        return new RequestError(ErrorCode.WRONG_EXPECTED_VERSION, message,
                new VersionConflict(stream, expected, actual), null);
    }

    /** An append whose condition failed: an event matching its query is stored at {@code position}. */
    public static RequestError conditionFailed(String streams, AppendCondition condition, long position) {
        return new RequestError(ErrorCode.CONDITION_FAILED, "the condition of the append to " + streams
                + " failed: it requires " + condition + ", and the event at position " + position
                + " matches; nothing was stored", null, null, position);
    }

    /** This error as an exception, to unwind validation code. */
    public RequestException asException() {
        return new RequestException(this);
    }
}
