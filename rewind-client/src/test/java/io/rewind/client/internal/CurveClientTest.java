package io.rewind.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.ZCert;
import org.zeromq.ZMQ;

/** Key files as other ZeroMQ tools write them, read through the protocol module's certificate reader. */
class CurveClientTest {
    @TempDir
    Path tmp;

    @Test
    void readsACertificateAsCzmqWritesIt() throws Exception {
        ZCert cert = new ZCert();
        Path file = tmp.resolve("client_secret");
        Files.writeString(file, """
                #   ****  Generated on 2026-11-30 06:00:00 by CZMQ  ****
                #   ZeroMQ CURVE **Secret** Certificate
                #   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

                metadata
                    name = "app"
                curve
                    public-key = "%s"
                    secret-key = "%s"
                """.formatted(cert.getPublicKeyAsZ85(), cert.getSecretKeyAsZ85()));

        assertThat(CurveClient.readKey(file, "public-key")).isEqualTo(cert.getPublicKey());
        assertThat(CurveClient.readKey(file, "secret-key")).isEqualTo(cert.getSecretKey());
    }

    @Test
    void readsACertificateAsJeroMqWritesIt() throws Exception {
        ZCert cert = new ZCert();
        cert.setMeta("comment", "curve = not this one");
        Path secret = tmp.resolve("app_secret");
        Path publicOnly = tmp.resolve("app");
        try (var writer = Files.newBufferedWriter(secret)) {
            cert.saveSecret(writer);
        }
        try (var writer = Files.newBufferedWriter(publicOnly)) {
            cert.savePublic(writer);
        }

        assertThat(CurveClient.readKey(secret, "secret-key")).isEqualTo(cert.getSecretKey());
        assertThat(CurveClient.readKey(publicOnly, "public-key")).isEqualTo(cert.getPublicKey());
        assertThatThrownBy(() -> CurveClient.readKey(publicOnly, "secret-key"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(publicOnly.toString())
                .hasMessageContaining("give the secret certificate");
    }

    @Test
    void badKeysAndFilesAreNamed() {
        assertThatThrownBy(() -> CurveClient.readKey(tmp.resolve("missing"), "public-key"))
                .hasMessageContaining("missing").hasMessageContaining("does not exist");
        assertThatThrownBy(() -> CurveClient.decode("the server's public key", "short"))
                .hasMessageContaining("the server's public key").hasMessageContaining("'short'");
        String key = new ZCert().getPublicKeyAsZ85();
        assertThat(CurveClient.decode("k", key)).isEqualTo(ZMQ.Curve.z85Decode(key));
    }
}
