package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.server.security.RaftTls;
import io.rewind.testkit.ServerGroup;
import io.rewind.testkit.ServerProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Raft port as an attacker on the same host meets it: a group of three real processes with mutual TLS
 * ({@code --raft-tls}). A plain Ratis client, and one holding another group's key, cannot even connect. With the
 * test hook that lets any client's entries in (what a bug in a release could do), a committed entry that is no
 * Rewind entry is skipped by every member alike: all three keep serving, stay identical, and restart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RaftSecurityIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** As the attacker derives it: from a public string. */
    private static final RaftGroupId GROUP_ID = RaftGroupId.valueOf(UUID.nameUUIDFromBytes(
            "rewind-replicated-log".getBytes(StandardCharsets.US_ASCII)));

    @TempDir
    static Path dir;

    private ServerGroup group;
    private RaftTls groupKey;
    private RaftTls otherKey;

    @BeforeAll
    void start() throws Exception {
        // The group's key material as ops make it: with the rewind tool.
        Path cli = Path.of(System.getProperty("rewind.cli.jar", "../rewind-cli/target/rewind.jar"));
        Process keygen = new ProcessBuilder("java", "-jar", cli.toString(), "raft-keygen",
                dir.resolve("keys/it-group").toString()).redirectErrorStream(true).start();
        String printed = new String(keygen.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(keygen.waitFor()).as(printed).isZero();
        Path pem = dir.resolve("keys/it-group.pem");
        assertThat(printed).contains(pem.toString()).contains("it-group.crt");
        assertThat(java.nio.file.Files.getPosixFilePermissions(pem)).as("the key is its owner's only")
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        groupKey = RaftTls.load(pem, null);
        otherKey = RaftTls.load(Files.writeString(dir.resolve("other.pem"), RaftTls.generate("other-group")), null);
        group = ServerGroup.start(dir.resolve("group"), 3, List.of("-Drewind.test.acceptForeignRaftEntries=true"),
                "--raft-tls", pem.toString());
        group.awaitLeader(TIMEOUT);
    }

    @AfterAll
    void stop() {
        if (group != null) {
            group.close();
        }
    }

    @Test
    void aRaftClientWithoutTheGroupsCertificateCannotConnect() throws Exception {
        try (RewindClient client = group.client()) {
            client.append("tls-" + UUID.randomUUID(), ExpectedVersion.noStream(), EventData.of("Placed", "{}"));
        }
        assertThat(group.member(0).outputText()).contains("Raft port: mutual TLS");
        for (RaftTls key : new RaftTls[] {null, otherKey}) {
            try (RaftClient attacker = raftClient(key)) {
                assertThatThrownBy(() -> attacker.io().send(Message.valueOf(ByteString.copyFromUtf8("x"))))
                        .as(key == null ? "plain text" : "another group's key").isInstanceOf(Exception.class);
            }
        }
    }

    /**
     * A server of another group (its own key material) that names the members' Raft addresses and claims a
     * member's id: the members refuse its handshakes, it never learns a leader, and the group goes on as before.
     */
    @Test
    void aMemberOfAnotherGroupCannotJoin() throws Exception {
        int leader = group.awaitLeader(TIMEOUT);
        long term = group.info(leader).term();
        String[] entries = group.peers().split(",");
        String intruderRaft = "127.0.0.1:" + freePort();
        String intruderCommands = "tcp://127.0.0.1:" + freePort();
        entries[0] = entries[0].split("@")[0] + "@" + intruderRaft + "@" + intruderCommands;
        Path otherPem = dir.resolve("other.pem");
        try (ServerProcess intruder = ServerProcess.start("intruder", dir.resolve("intruder"), "rocksdb",
                "--node-id", entries[0].split("@")[0], "--peers", String.join(",", entries), "--raft-tls",
                otherPem.toString())) {
            // It asks the members for their votes and each handshake fails: it refuses the members' certificate
            // (in TLS 1.3 the client checks the server's first), as they would refuse its own (RaftTlsTest).
            intruder.awaitOutput("Raft port: refused a peer", TIMEOUT);
            assertThat(intruder.outputText()).as("the configuration line shows no key material")
                    .doesNotContain("BEGIN").doesNotContain("PrivateKey");
            try (RewindClient client = RewindClient.builder().commandEndpoint(intruder.commandEndpoint())
                    .requestTimeout(Duration.ofSeconds(10)).build()) {
                assertThat(client.serverInfo().leaderId()).as("it knows no leader").isEmpty();
            }
            try (RewindClient client = group.client()) {
                client.append("intruded-" + UUID.randomUUID(), ExpectedVersion.noStream(),
                        EventData.of("StillServing", "{}"));
            }
            assertThat(group.info(leader).term()).as("no election was forced on the group").isEqualTo(term);
        }
    }

    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Test
    void aCommittedEntryThatIsNoRewindEntryIsANoOpOnEveryMember() throws Exception {
        String stream = "garbage-" + UUID.randomUUID();
        try (RewindClient client = group.client()) {
            client.append(stream, ExpectedVersion.noStream(), EventData.of("Before", "{}"));
            try (RaftClient member = raftClient(groupKey)) {
                // A 3-byte entry with an invalid protobuf tag: before, every member exited on it at every start.
                RaftClientReply reply = member.io().send(Message.valueOf(ByteString.copyFrom(new byte[] {(byte) 0xff,
                        (byte) 0xff, (byte) 0xff})));
                assertThat(reply.isSuccess()).as("committed: the hook let it in").isTrue();
            }
            for (int i = 0; i < group.size(); i++) {
                group.member(i).awaitOutput("is not a Rewind entry and was skipped, as on every member", TIMEOUT);
            }
            client.append(stream, ExpectedVersion.exact(0), EventData.of("After", "{}"));
        }
        // A member restarts over the entry (before, it exited on it again), and all stay identical.
        assertThat(group.member(1).stop()).as("a clean stop").isZero();
        group.member(1).restart();
        long head;
        try (RewindClient client = group.client()) {
            client.append(stream, ExpectedVersion.exact(1), EventData.of("AfterRestart", "{}"));
            head = client.serverInfo().headPosition();
        }
        group.awaitApplied(head, TIMEOUT);
        List<List<String>> logs = new ArrayList<>();
        for (int i = 0; i < group.size(); i++) {
            assertThat(group.alive(i)).as("member %d is up", i).isTrue();
            logs.add(group.log(i).stream().map(e -> e.eventId() + "@" + e.globalPosition()).toList());
        }
        assertThat(logs.get(1)).isEqualTo(logs.get(0));
        assertThat(logs.get(2)).isEqualTo(logs.get(0));
        assertThat(group.log(0).stream().filter(e -> e.stream().equals(stream)).map(RecordedEvent::type))
                .containsExactly("Before", "After", "AfterRestart");
    }

    /** A plain Ratis client of the group, with this key material for mutual TLS, or none. */
    private RaftClient raftClient(RaftTls key) {
        RaftProperties properties = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(properties, TimeDuration.valueOf(3, TimeUnit.SECONDS));
        Parameters parameters = new Parameters();
        if (key != null) {
            GrpcConfigKeys.TLS.setConf(parameters, new GrpcTlsConfig(key.keyManager(), key.trustManager(), true));
        }
        List<RaftPeer> peers = new ArrayList<>();
        for (String peer : group.peers().split(",")) {
            String[] parts = peer.split("@");
            peers.add(RaftPeer.newBuilder().setId(parts[0]).setAddress(parts[1]).build());
        }
        ClientId id = ClientId.randomId();
        return RaftClient.newBuilder().setClientId(id).setProperties(properties).setParameters(parameters)
                .setRaftGroup(RaftGroup.valueOf(GROUP_ID, peers))
                .setClientRpc(new GrpcFactory(parameters).newRaftClientRpc(id, properties))
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(3,
                        TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)))
                .build();
    }
}
