package io.rewind.server.config;

import io.rewind.server.security.RaftTls;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The members of a replicated group and which of them this server is.
 *
 * @param nodeId           this server's id, one of the peers'
 * @param peers            every member, this one included, in the order given
 * @param snapshotInterval log entries applied between two snapshots, after each of which the log is purged
 * @param segmentBytes     size of a Raft log segment file: the log is purged a whole segment at a time
 * @param tls              mutual TLS on the Raft port ({@code --raft-tls}), or null for plain text
 */
public record ClusterConfig(String nodeId, List<Peer> peers, long snapshotInterval, long segmentBytes, RaftTls tls) {

    /**
     * One member.
     *
     * @param id              its id: letters, digits, '-', '_' and '.'
     * @param raftHost        where its Raft port listens
     * @param commandEndpoint its command endpoint, as clients reach it (sent to them in NOT_LEADER)
     */
    public record Peer(String id, String raftHost, int raftPort, String commandEndpoint) {
        /** {@code HOST:PORT}, as Ratis takes an address. */
        public String raftAddress() {
            return (raftHost.contains(":") ? "[" + raftHost + "]" : raftHost) + ":" + raftPort;
        }

        @Override
        public String toString() {
            return id + "@" + raftAddress() + "@" + commandEndpoint;
        }
    }

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final Pattern PEER = Pattern.compile("([^@]*)@(\\[[0-9a-fA-F:.]+]|[^@:\\[\\]]+):(\\d{1,5})@(.+)");

    public ClusterConfig {
        peers = List.copyOf(peers);
    }

    /** This server's entry. */
    public Peer self() {
        return peer(nodeId).orElseThrow();
    }

    public Optional<Peer> peer(String id) {
        return peers.stream().filter(peer -> peer.id().equals(id)).findFirst();
    }

    /** The same group with mutual TLS on its Raft port. */
    public ClusterConfig withTls(RaftTls raftTls) {
        return new ClusterConfig(nodeId, peers, snapshotInterval, segmentBytes, raftTls);
    }

    /** Whether every member's Raft port is on a loopback address, so no Raft traffic leaves this host. */
    public boolean loopbackOnly() {
        return peers.stream().allMatch(peer -> Endpoints.isLoopbackHost(peer.raftHost()));
    }

    /** Peers needed for a majority. */
    public int majority() {
        return peers.size() / 2 + 1;
    }

    /**
     * Parses {@code --peers} and checks {@code --node-id} against it.
     *
     * @throws IllegalArgumentException naming the option and the entry that is wrong
     */
    public static ClusterConfig parse(String nodeId, String peersOption, long snapshotInterval, long segmentBytes) {
        if (nodeId == null || nodeId.isBlank()) {
            throw new IllegalArgumentException("'--peers' needs '--node-id', this server's id in the list");
        }
        if (!ID.matcher(nodeId).matches()) {
            throw new IllegalArgumentException("Invalid value for option '--node-id': '" + nodeId + "' is not an id;"
                    + " use up to 64 letters, digits, '-', '_' or '.'");
        }
        List<Peer> peers = new ArrayList<>();
        Map<String, String> raftAddresses = new HashMap<>();
        Map<String, String> endpoints = new HashMap<>();
        for (String entry : peersOption.split(",", -1)) {
            String trimmed = entry.trim();
            Matcher matcher = PEER.matcher(trimmed);
            if (!matcher.matches()) {
                throw new IllegalArgumentException("Invalid value for option '--peers': '" + trimmed + "' is not"
                        + " ID@RAFT_HOST:PORT@COMMAND_ENDPOINT, e.g. n1@127.0.0.1:7001@tcp://127.0.0.1:9090");
            }
            String id = matcher.group(1);
            if (!ID.matcher(id).matches()) {
                throw new IllegalArgumentException("Invalid value for option '--peers': in '" + trimmed + "', '" + id
                        + "' is not an id; use up to 64 letters, digits, '-', '_' or '.'");
            }
            int port = Integer.parseInt(matcher.group(3));
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("Invalid value for option '--peers': in '" + trimmed + "', port "
                        + port + " is outside 1..65535");
            }
            String host = matcher.group(2);
            host = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
            String endpoint = matcher.group(4);
            if (!endpoint.matches("tcp://(\\[[0-9a-fA-F:.]+]|[^:/\\s*]+):\\d{1,5}")) {
                throw new IllegalArgumentException("Invalid value for option '--peers': in '" + trimmed + "', '"
                        + endpoint + "' is not a command endpoint clients can connect to, like tcp://10.0.0.1:9090");
            }
            Peer peer = new Peer(id, host, port, endpoint);
            if (peers.stream().anyMatch(p -> p.id().equals(id))) {
                throw new IllegalArgumentException("Invalid value for option '--peers': id '" + id
                        + "' is listed twice");
            }
            String other = raftAddresses.put(peer.raftAddress(), id);
            if (other != null) {
                throw new IllegalArgumentException("Invalid value for option '--peers': '" + other + "' and '" + id
                        + "' have the same Raft address " + peer.raftAddress());
            }
            other = endpoints.put(endpoint, id);
            if (other != null) {
                throw new IllegalArgumentException("Invalid value for option '--peers': '" + other + "' and '" + id
                        + "' have the same command endpoint " + endpoint);
            }
            peers.add(peer);
        }
        if (peers.stream().noneMatch(peer -> peer.id().equals(nodeId))) {
            throw new IllegalArgumentException("Invalid value for option '--node-id': '" + nodeId + "' is not in"
                    + " '--peers' (" + String.join(", ", peers.stream().map(Peer::id).toList()) + ")");
        }
        return new ClusterConfig(nodeId, peers, snapshotInterval, segmentBytes, null);
    }
}
