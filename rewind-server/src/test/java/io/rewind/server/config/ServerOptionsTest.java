package io.rewind.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.ZCert;
import picocli.CommandLine.ParameterException;

class ServerOptionsTest {
    @TempDir
    Path tmp;

    @Test
    void defaultsMatchTheDocumentedOnes() {
        ServerConfig config = ServerOptions.parse();

        assertThat(config.dataDir()).isEqualTo(Path.of("rewind-data").toAbsolutePath());
        assertThat(config.storage()).isEqualTo(ServerConfig.StorageEngine.ROCKSDB);
        assertThat(config.commandEndpoint()).isEqualTo("tcp://127.0.0.1:9090");
        assertThat(config.streamEndpoint()).isEqualTo("tcp://127.0.0.1:9091");
        assertThat(config.fsync()).isEqualTo(ServerConfig.FsyncMode.ALWAYS);
        assertThat(config.limits().maxEventBytes()).isEqualTo(1 << 20);
        assertThat(config.maxMessageSize()).isEqualTo(64L << 20);
    }

    @Test
    void flagsAndSizeUnitsAreParsed() {
        ServerConfig config = ServerOptions.parse("--storage", "MEMORY", "--fsync=never", "--max-event-size", "64KiB",
                "--max-append-size", "2M", "--max-message-size", "3mib", "--command-endpoint", "tcp://*:7000",
                "--stream-endpoint", "tcp://[::1]:7001", "--max-read-page", "100");

        assertThat(config.storage()).isEqualTo(ServerConfig.StorageEngine.MEMORY);
        assertThat(config.fsync()).isEqualTo(ServerConfig.FsyncMode.NEVER);
        assertThat(config.limits().maxEventBytes()).isEqualTo(64 << 10);
        assertThat(config.limits().maxAppendBytes()).isEqualTo(2L << 20);
        assertThat(config.maxMessageSize()).isEqualTo(3L << 20);
        assertThat(config.limits().maxReadCount()).isEqualTo(100);
        assertThat(ServerOptions.parse("--max-stream-name-size", "40").limits().maxStreamNameBytes()).isEqualTo(40);
        assertThat(config.streamEndpoint()).isEqualTo("tcp://[::1]:7001");
    }

    @Test
    void aConfigFileSetsOptionsAndTheCommandLineWins() throws Exception {
        Path file = tmp.resolve("rewind.properties");
        Files.writeString(file, "# comment\nstorage = memory\nmax-read-page=10\ncommand-endpoint=tcp://127.0.0.1:1\n");

        ServerConfig config = ServerOptions.parse("--config", file.toString(), "--max-read-page", "20");

        assertThat(config.storage()).isEqualTo(ServerConfig.StorageEngine.MEMORY);
        assertThat(config.limits().maxReadCount()).isEqualTo(20);
        assertThat(config.commandEndpoint()).isEqualTo("tcp://127.0.0.1:1");
    }

    @Test
    void badValuesNameTheOptionAndTheValue() throws Exception {
        assertRejected(new String[] {"--storage", "cassandra"}, "--storage", "cassandra");
        assertRejected(new String[] {"--fsync", "maybe"}, "--fsync", "maybe");
        assertRejected(new String[] {"--max-event-size", "-1"}, "--max-event-size", "-1");
        assertRejected(new String[] {"--max-event-size", "0"}, "--max-event-size", "0");
        assertRejected(new String[] {"--max-events-per-append", "many"}, "--max-events-per-append", "many");
        assertRejected(new String[] {"--command-endpoint", "tcp://localhost"}, "--command-endpoint",
                "tcp://localhost");
        assertRejected(new String[] {"--stream-endpoint", "tcp://localhost:70000"}, "--stream-endpoint", "70000");
        assertRejected(new String[] {"--command-endpoint", "tcp://127.0.0.1:5", "--stream-endpoint",
                "tcp://127.0.0.1:5"}, "must differ");
        assertRejected(new String[] {"--max-append-size", "1KiB"}, "--max-append-size", "1024");
        assertRejected(new String[] {"--max-message-size", "16MiB"}, "--max-message-size");
        // 64 KiB above the largest append left no room for the framing of 10,000 events.
        assertRejected(new String[] {"--max-message-size", "16448KiB"}, "--max-message-size",
                "too small for the largest append", "Set at least " + (16L * 1024 * 1024 + 10_000 * 64 + 65536));
        assertRejected(new String[] {"--bogus"}, "--bogus");
        assertRejected(new String[] {"--http-endpoint", "localhost"}, "--http-endpoint", "HOST:PORT");
        assertRejected(new String[] {"--http-endpoint", "127.0.0.1:70000"}, "--http-endpoint", "70000");
        assertRejected(new String[] {"--max-stream-name-size", "256"}, "--max-stream-name-size", "1..255");
        assertRejected(new String[] {"--queue-capacity", "0"}, "--queue-capacity");

        Path file = tmp.resolve("bad.properties");
        Files.writeString(file, "data-directory=/tmp/x\n");
        assertRejected(new String[] {"--config", file.toString()}, "data-directory", file.toString(), "data-dir");
        Files.writeString(file, "max-read-page=lots\n");
        assertRejected(new String[] {"--config", file.toString()}, "--max-read-page", "lots");
        assertRejected(new String[] {"--config", tmp.resolve("absent").toString()}, "--config", "absent");
    }

    @Test
    void theLegacyEndpointsAreOffUnlessConfigured() throws Exception {
        ServerConfig.Legacy off = ServerOptions.parse().legacy();
        assertThat(off.queryEndpoint()).isNull();
        assertThat(off.streamEndpoint()).isNull();
        assertThat(off.stream()).isEqualTo("legacy");

        Path file = tmp.resolve("legacy.properties");
        Files.writeString(file, "legacy-query-endpoint=tcp://127.0.0.1:5555\nlegacy-stream=app\n");
        ServerConfig.Legacy on = ServerOptions.parse("--config", file.toString(), "--legacy-stream-endpoint",
                "tcp://127.0.0.1:5556").legacy();
        assertThat(on).isEqualTo(new ServerConfig.Legacy("tcp://127.0.0.1:5555", "tcp://127.0.0.1:5556", "app"));

        assertRejected(new String[] {"--legacy-query-endpoint", "tcp://nowhere"}, "--legacy-query-endpoint");
        assertRejected(new String[] {"--legacy-stream-endpoint", "tcp://127.0.0.1:9091"}, "--stream-endpoint",
                "--legacy-stream-endpoint", "must differ");
        assertRejected(new String[] {"--legacy-stream", ""}, "--legacy-stream", "empty");
    }

    private static final String PEERS = "n1@127.0.0.1:7001@tcp://127.0.0.1:9090,n2@127.0.0.1:7002@tcp://127.0.0.1:9190,"
            + "n3@[::1]:7003@tcp://127.0.0.1:9290";

    @Test
    void aMemberOfAGroupKnowsItsPeersAndBindsItsOwnCommandEndpoint() {
        ServerConfig alone = ServerOptions.parse();
        assertThat(alone.replicated()).isFalse();

        ServerConfig member = ServerOptions.parse("--node-id", "n2", "--peers", PEERS);
        assertThat(member.replicated()).isTrue();
        assertThat(member.cluster().nodeId()).isEqualTo("n2");
        assertThat(member.cluster().peers()).extracting(ClusterConfig.Peer::id).containsExactly("n1", "n2", "n3");
        assertThat(member.cluster().self().raftAddress()).isEqualTo("127.0.0.1:7002");
        assertThat(member.cluster().peer("n3").orElseThrow().raftAddress()).isEqualTo("[::1]:7003");
        assertThat(member.cluster().majority()).isEqualTo(2);
        assertThat(member.commandEndpoint()).as("from --peers").isEqualTo("tcp://127.0.0.1:9190");
        assertThat(ServerOptions.parse("--node-id", "n2", "--peers", PEERS, "--command-endpoint", "tcp://*:9190")
                .commandEndpoint()).isEqualTo("tcp://*:9190");
    }

    @Test
    void badClusterOptionsNameTheOptionAndTheEntry() {
        assertRejected(new String[] {"--peers", PEERS}, "--node-id");
        assertRejected(new String[] {"--node-id", "n1"}, "--node-id", "needs '--peers'");
        assertRejected(new String[] {"--node-id", "n4", "--peers", PEERS}, "--node-id", "'n4' is not in '--peers'",
                "n1, n2, n3");
        assertRejected(new String[] {"--node-id", "n1", "--peers", PEERS + ",n1@127.0.0.1:7004@tcp://h:1"}, "--peers",
                "id 'n1' is listed twice");
        assertRejected(new String[] {"--node-id", "n1", "--peers", "n1@127.0.0.1:7001@tcp://h:1,n2@127.0.0.1:7001@tcp://h:2"},
                "--peers", "same Raft address 127.0.0.1:7001");
        assertRejected(new String[] {"--node-id", "n1", "--peers", "n1@127.0.0.1:7001@tcp://h:1,n2@h2:7002@tcp://h:1"},
                "--peers", "same command endpoint tcp://h:1");
        assertRejected(new String[] {"--node-id", "n1", "--peers", "n1@127.0.0.1@tcp://h:1"}, "--peers",
                "'n1@127.0.0.1@tcp://h:1' is not ID@RAFT_HOST:PORT@COMMAND_ENDPOINT");
        assertRejected(new String[] {"--node-id", "n1", "--peers", "n1@127.0.0.1:70000@tcp://h:1"}, "--peers",
                "port 70000");
        assertRejected(new String[] {"--node-id", "n1", "--peers", "n1@127.0.0.1:7001@tcp://*:9090"}, "--peers",
                "tcp://*:9090", "not a command endpoint clients can connect to");
        assertRejected(new String[] {"--node-id", "n 1", "--peers", PEERS}, "--node-id", "'n 1' is not an id");
        assertRejected(new String[] {"--node-id", "n1", "--peers", PEERS, "--storage", "memory"}, "--peers",
                "--storage rocksdb");
    }

    @Test
    void curveNeedsTheServerKeyAndTheAuthorizedKeysAndNamesWhatIsWrongWithThem() throws Exception {
        ZCert server = new ZCert();
        Path secret = tmp.resolve("server_secret");
        Path publicOnly = tmp.resolve("server");
        try (var writer = Files.newBufferedWriter(secret)) {
            server.saveSecret(writer);
        }
        try (var writer = Files.newBufferedWriter(publicOnly)) {
            server.savePublic(writer);
        }
        Path keys = tmp.resolve("authorized_keys");
        Files.writeString(keys, "app " + new ZCert().getPublicKeyAsZ85() + " read=* write=order-\n");

        ServerConfig config = ServerOptions.parse("--curve-secret-key-file", secret.toString(), "--authorized-keys",
                keys.toString());
        assertThat(config.curve().keys().publicKey()).isEqualTo(server.getPublicKeyAsZ85());
        assertThat(config.curve().keys().secretKey()).isEqualTo(server.getSecretKey());
        assertThat(config.curve().keys().toString()).as("never logged").doesNotContain(server.getSecretKeyAsZ85());
        assertThat(ServerOptions.parse().curve()).isNull();

        assertRejected(new String[] {"--curve-secret-key-file", secret.toString()}, "--curve-secret-key-file",
                "needs '--authorized-keys'");
        assertRejected(new String[] {"--authorized-keys", keys.toString()}, "--authorized-keys",
                "needs '--curve-secret-key-file'");
        assertRejected(new String[] {"--curve-secret-key-file", publicOnly.toString(), "--authorized-keys",
            keys.toString()}, "--curve-secret-key-file", publicOnly.toString(), "no curve/secret-key");
        assertRejected(new String[] {"--curve-secret-key-file", tmp.resolve("missing").toString(), "--authorized-keys",
            keys.toString()}, "--curve-secret-key-file", "does not exist");
        Files.writeString(keys, "# ok\nops " + new ZCert().getPublicKeyAsZ85() + " admin\napp not-a-key read=*\n");
        assertRejected(new String[] {"--curve-secret-key-file", secret.toString(), "--authorized-keys",
            keys.toString()}, "--authorized-keys", keys + " line 3", "not-a-key");
    }

    @Test
    void withCurveTheRaftPortsMustStayOnThisHost() throws Exception {
        ZCert server = new ZCert();
        Path secret = tmp.resolve("server_secret");
        try (var writer = Files.newBufferedWriter(secret)) {
            server.saveSecret(writer);
        }
        Path keys = tmp.resolve("authorized_keys");
        Files.writeString(keys, "app " + new ZCert().getPublicKeyAsZ85() + " read=*\n");
        String[] curve = {"--curve-secret-key-file", secret.toString(), "--authorized-keys", keys.toString()};

        String[] loopback = {"--node-id", "n1", "--peers", PEERS, curve[0], curve[1], curve[2], curve[3]};
        assertThat(ServerOptions.parse(loopback).replicated()).isTrue();
        String remote = "n1@127.0.0.1:7001@tcp://10.0.0.1:9090,n2@10.0.0.2:7002@tcp://10.0.0.2:9090";
        assertRejected(new String[] {"--node-id", "n1", "--peers", remote, curve[0], curve[1], curve[2], curve[3]},
                "--peers", "member 'n2'", "10.0.0.2", "needs '--raft-tls'", "rewind raft-keygen");
        assertRejected(new String[] {"--node-id", "n1", "--peers", remote, "--raft-network-is-private", curve[0],
                curve[1], curve[2], curve[3]}, "needs '--raft-tls'");
        Path group = Files.writeString(tmp.resolve("group.pem"), io.rewind.server.security.RaftTls.generate("g"));
        ServerConfig withTls = ServerOptions.parse("--node-id", "n1", "--peers", remote, "--raft-tls", group.toString(),
                curve[0], curve[1], curve[2], curve[3]);
        assertThat(withTls.cluster().tls()).isNotNull();
    }

    @Test
    void aRaftPortBeyondLoopbackNeedsTlsOrAnExplicitPrivateNetwork() throws Exception {
        String remote = "n1@127.0.0.1:7001@tcp://10.0.0.1:9090,n2@10.0.0.2:7002@tcp://10.0.0.2:9090";
        assertRejected(new String[] {"--node-id", "n1", "--peers", remote}, "member 'n2'", "10.0.0.2",
                "anyone who reaches it could append", "--raft-tls", "--raft-network-is-private");
        assertThat(ServerOptions.parse("--node-id", "n1", "--peers", remote, "--raft-network-is-private")
                .cluster().tls()).isNull();
        assertThat(ServerOptions.parse("--node-id", "n1", "--peers", PEERS).cluster().tls()).as("loopback").isNull();

        Path group = Files.writeString(tmp.resolve("group.pem"), io.rewind.server.security.RaftTls.generate("g"));
        assertThat(ServerOptions.parse("--node-id", "n1", "--peers", remote, "--raft-tls", group.toString())
                .cluster().tls().trusted()).hasSize(1);
        assertRejected(new String[] {"--node-id", "n1", "--peers", remote, "--raft-tls",
                tmp.resolve("nope.pem").toString()}, "Invalid value for option '--raft-tls'", "nope.pem");
        Path certificateOnly = Files.writeString(tmp.resolve("other.crt"), io.rewind.server.security.RaftTls
                .certificatePem(io.rewind.server.security.RaftTls.generate("other")));
        assertRejected(new String[] {"--node-id", "n1", "--peers", remote, "--raft-tls", group.toString(),
                "--raft-tls-trusted", certificateOnly.toString()}, "'--raft-tls-trusted'", "own certificate");
        assertRejected(new String[] {"--raft-tls", group.toString()}, "need '--peers'");
    }

    @Test
    void backupRootMustBeADirectory() throws Exception {
        assertThat(ServerOptions.parse("--backup-root", tmp.toString()).backupRoot()).isEqualTo(tmp.toRealPath());
        assertRejected(new String[] {"--backup-root", tmp.resolve("missing").toString()}, "'--backup-root'",
                "not a directory");
    }

    @Test
    void onlyLoopbackIpcAndInprocCountAsThisHostOnly() {
        assertThat(Endpoints.isLocalOnly("tcp://127.0.0.1:9090")).isTrue();
        assertThat(Endpoints.isLocalOnly("tcp://localhost:*")).isTrue();
        assertThat(Endpoints.isLocalOnly("tcp://[::1]:9090")).isTrue();
        assertThat(Endpoints.isLocalOnly("ipc:///run/rewind.sock")).isTrue();
        assertThat(Endpoints.isLocalOnly("tcp://*:9090")).isFalse();
        assertThat(Endpoints.isLocalOnly("tcp://0.0.0.0:9090")).isFalse();
        assertThat(Endpoints.isLocalOnly("tcp://10.1.2.3:9090")).isFalse();
        assertThat(Endpoints.isLocalOnly("tcp://[::]:9090")).isFalse();
        assertThat(Endpoints.isLocalOnly("tcp://db.example:9090")).isFalse();
    }

    private static void assertRejected(String[] args, String... mentions) {
        assertThatThrownBy(() -> ServerOptions.parse(args)).isInstanceOf(ParameterException.class)
                .message().contains(mentions);
    }
}
