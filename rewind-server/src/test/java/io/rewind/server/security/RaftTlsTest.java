package io.rewind.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Raft port's key material: made, read back, checked, and mutual TLS over a real socket with it. */
class RaftTlsTest {
    @TempDir
    Path tmp;

    @Test
    void madeKeyMaterialLoadsAndIsAStandardCertificate() throws Exception {
        RaftTls tls = RaftTls.load(write("group.pem", RaftTls.generate("orders-group")), null);
        assertThat(tls.certificate().getSubjectX500Principal().getName()).isEqualTo("CN=orders-group");
        tls.certificate().verify(tls.certificate().getPublicKey());
        tls.certificate().checkValidity();
        assertThat(tls.certificate().getNotAfter().toInstant().toString()).startsWith("9999-12-31");
        assertThat(tls.trusted()).containsExactly(tls.certificate());
    }

    @Test
    void membersHoldingTheGroupsKeyTalkAndNoOtherKeyGetsIn() throws Exception {
        RaftTls group = RaftTls.load(write("group.pem", RaftTls.generate("group")), null);
        RaftTls other = RaftTls.load(write("other.pem", RaftTls.generate("other")), null);

        assertThat(handshake(group, group)).isEqualTo("ok");
        assertThat(handshake(group, other)).as("a client of another group").startsWith("refused");
        assertThat(handshake(other, group)).as("a server of another group").startsWith("refused");
    }

    @Test
    void aKeyPerMemberWithATrustedList() throws Exception {
        String first = RaftTls.generate("n1");
        String second = RaftTls.generate("n2");
        Path trusted = write("members.crt", RaftTls.certificatePem(first) + RaftTls.certificatePem(second));
        RaftTls n1 = RaftTls.load(write("n1.pem", first), trusted);
        RaftTls n2 = RaftTls.load(write("n2.pem", second), trusted);
        assertThat(handshake(n1, n2)).isEqualTo("ok");
        assertThat(handshake(n2, n1)).isEqualTo("ok");

        assertThatThrownBy(() -> RaftTls.load(write("n3.pem", RaftTls.generate("n3")), trusted))
                .hasMessageContaining("does not list this member's own certificate");
    }

    @Test
    void badFilesAreNamedWithWhatIsWrong() throws Exception {
        String a = RaftTls.generate("a");
        String b = RaftTls.generate("b");
        String keyOfA = a.substring(0, a.indexOf("-----BEGIN CERTIFICATE"));
        assertThatThrownBy(() -> RaftTls.load(write("mixed.pem", keyOfA + RaftTls.certificatePem(b)), null))
                .hasMessageContaining("mixed.pem").hasMessageContaining("does not belong to the CERTIFICATE");
        assertThatThrownBy(() -> RaftTls.load(write("cert-only.pem", RaftTls.certificatePem(a)), null))
                .hasMessageContaining("one PRIVATE KEY and one CERTIFICATE");
        assertThatThrownBy(() -> RaftTls.load(write("empty.pem", "nothing here"), null))
                .hasMessageContaining("empty.pem holds no PEM block");
        assertThatThrownBy(() -> RaftTls.load(tmp.resolve("missing.pem"), null))
                .hasMessageContaining("cannot read").hasMessageContaining("missing.pem");
    }

    /** A TLS 1.3 exchange over loopback, the server requiring a client certificate: "ok" or why it failed. */
    private static String handshake(RaftTls server, RaftTls client) throws Exception {
        SSLContext serverContext = SSLContext.getInstance("TLSv1.3");
        serverContext.init(new KeyManager[] {server.keyManager()}, new TrustManager[] {server.trustManager()}, null);
        SSLContext clientContext = SSLContext.getInstance("TLSv1.3");
        clientContext.init(new KeyManager[] {client.keyManager()}, new TrustManager[] {client.trustManager()}, null);
        try (SSLServerSocket listening = (SSLServerSocket) serverContext.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            listening.setNeedClientAuth(true);
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket accepted = (SSLSocket) listening.accept()) {
                    accepted.setSoTimeout(5_000);
                    InputStream in = accepted.getInputStream();
                    int read = in.read();
                    accepted.getOutputStream().write(read);
                    accepted.getOutputStream().flush();
                    return "served";
                } catch (IOException e) {
                    return "refused: " + e;
                }
            });
            String outcome;
            try (SSLSocket socket = (SSLSocket) clientContext.getSocketFactory()
                    .createSocket(InetAddress.getLoopbackAddress(), listening.getLocalPort())) {
                socket.setSoTimeout(5_000);
                OutputStream out = socket.getOutputStream();
                out.write(42);
                out.flush();
                outcome = socket.getInputStream().read() == 42 ? "ok" : "refused: no echo";
            } catch (IOException e) {
                outcome = "refused: " + e;
            }
            String serverSide = served.get(10, TimeUnit.SECONDS);
            return outcome.equals("ok") && serverSide.equals("served") ? "ok"
                    : outcome.startsWith("refused") ? outcome : serverSide;
        }
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(tmp.resolve(name), content);
    }
}
