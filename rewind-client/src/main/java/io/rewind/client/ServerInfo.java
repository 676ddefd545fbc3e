package io.rewind.client;

import java.util.List;

/**
 * What the server says about itself.
 *
 * @param headPosition    global position of the newest event, -1 when the store is empty
 * @param streamCount     number of streams with at least one event
 * @param storageEngine   "rocksdb" or "memory"
 * @param streamEndpoint  the live feed's endpoint as the server bound it (a wildcard host means the
 *                        command endpoint's host), empty from a server that does not say
 * @param nodeId          this member's id in its replicated group, empty for a server running alone
 * @param role            "standalone", "leader", "follower" or "candidate"
 * @param leaderId        the group's leader as this member knows it, empty when none is known (or alone)
 * @param term            the Raft term the member is in (0 alone)
 * @param commitIndex     the newest Raft log index the member knows committed (-1 alone)
 * @param appliedPosition global position of the newest event this server has applied: what its reads and
 *                        its live feed see
 * @param members         every member of the group, empty alone
 */
public record ServerInfo(String version, long headPosition, long streamCount, String storageEngine,
        String streamEndpoint, String nodeId, String role, String leaderId, long term, long commitIndex,
        long appliedPosition, List<Member> members) {

    /** One member of a replicated group: its id and where it takes commands. */
    public record Member(String id, String commandEndpoint) {}

    public ServerInfo {
        members = List.copyOf(members);
    }

    /** Whether the server is a member of a replicated group. */
    public boolean replicated() {
        return !nodeId.isEmpty();
    }
}
