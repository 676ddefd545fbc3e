package io.rewind.server.replication;

import io.rewind.server.config.ClusterConfig;
import java.util.List;

/** What a member of a replicated group tells about the group in ServerInfo. */
public interface ClusterView {
    /**
     * This member's view right now.
     *
     * @param role        "leader", "follower" or "candidate"
     * @param leaderId    "" when no leader is known
     * @param commitIndex the newest Raft log index this member knows committed
     */
    record Status(String role, String leaderId, long term, long commitIndex) {}

    String nodeId();

    Status status();

    List<ClusterConfig.Peer> members();
}
