package io.rewind.client;

import java.util.Optional;

/**
 * The member of a replicated group that got the append is not its leader; nothing was stored. A client
 * built with several command endpoints follows the leader by itself and reports this only when no
 * leader took the append before the request's timeout.
 */
public final class NotLeaderException extends RewindException {
    private final String leaderId;
    private final String leaderEndpoint;

    /**
     * @param leaderId       the leader's id, empty when the member knows none (an election is under way)
     * @param leaderEndpoint the leader's command endpoint, empty when unknown
     */
    public NotLeaderException(String message, String leaderId, String leaderEndpoint) {
        super(message);
        this.leaderId = leaderId;
        this.leaderEndpoint = leaderEndpoint;
    }

    /** The leader's id, when the member knew it. */
    public Optional<String> leaderId() {
        return leaderId.isEmpty() ? Optional.empty() : Optional.of(leaderId);
    }

    /** The leader's command endpoint, when the member knew it: send the same append there. */
    public Optional<String> leaderEndpoint() {
        return leaderEndpoint.isEmpty() ? Optional.empty() : Optional.of(leaderEndpoint);
    }
}
