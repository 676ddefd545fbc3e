package io.rewind.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.SocketType;
import org.zeromq.ZConfig;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

class KeygenCommandTest {
    @TempDir
    Path tmp;

    private record Run(int status, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = new picocli.CommandLine(new RewindCli()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute(args);
        return new Run(status, out.toString().strip(), err.toString());
    }

    @Test
    void writesAKeyPairThatACurveHandshakeAccepts() throws Exception {
        Path name = tmp.resolve("keys").resolve("server");
        Run keygen = run("keygen", name.toString(), "--comment", "rewind server");
        assertThat(keygen.status()).as(keygen.err()).isZero();
        Path secretFile = tmp.resolve("keys").resolve("server_secret");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(secretFile))).isEqualTo("rw-------");

        ZConfig secret = ZConfig.load(secretFile.toString());
        ZConfig pub = ZConfig.load(name.toString());
        String publicKey = keygen.out();
        assertThat(publicKey).hasSize(40);
        assertThat(secret.getValue("curve/public-key")).isEqualTo(publicKey);
        assertThat(pub.getValue("curve/public-key")).isEqualTo(publicKey);
        assertThat(pub.getValue("curve/secret-key")).as("the public file holds no secret").isNull();
        assertThat(secret.getValue("metadata/comment")).isEqualTo("rewind server");

        // The pair belongs together: a CURVE client that trusts the public key gets through to a server
        // that uses the secret one.
        try (ZContext context = new ZContext()) {
            ZMQ.Socket server = context.createSocket(SocketType.REP);
            server.setCurveServer(true);
            server.setCurveSecretKey(ZMQ.Curve.z85Decode(secret.getValue("curve/secret-key")));
            int port = server.bindToRandomPort("tcp://127.0.0.1");
            ZMQ.Socket client = context.createSocket(SocketType.REQ);
            ZMQ.Curve.KeyPair own = ZMQ.Curve.generateKeyPair();
            client.setCurveServerKey(ZMQ.Curve.z85Decode(publicKey));
            client.setCurvePublicKey(ZMQ.Curve.z85Decode(own.publicKey));
            client.setCurveSecretKey(ZMQ.Curve.z85Decode(own.secretKey));
            client.setReceiveTimeOut(10_000);
            server.setReceiveTimeOut(10_000);
            client.connect("tcp://127.0.0.1:" + port);
            client.send("ping");
            assertThat(server.recvStr()).isEqualTo("ping");
            server.send("pong");
            assertThat(client.recvStr()).isEqualTo("pong");
        }
    }

    @Test
    void neverOverwritesAKey() throws Exception {
        Path name = tmp.resolve("client");
        assertThat(run("keygen", name.toString()).status()).isZero();
        byte[] before = Files.readAllBytes(tmp.resolve("client_secret"));
        Run again = run("keygen", name.toString());
        assertThat(again.status()).isEqualTo(RewindCli.FAILED);
        assertThat(again.err()).contains(name.toString()).contains("already exists");
        assertThat(Files.readAllBytes(tmp.resolve("client_secret"))).isEqualTo(before);
    }
}
