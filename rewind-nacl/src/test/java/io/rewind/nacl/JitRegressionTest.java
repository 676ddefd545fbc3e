package io.rewind.nacl;

import static org.assertj.core.api.Assertions.assertThat;

import com.neilalexander.jnacl.crypto.curve25519xsalsa20poly1305;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The reproduction of JDK 17's C2 miscompilation of the cipher that needs no sockets: boxes sealed and opened in a
 * loop on one thread, as JeroMQ's CURVE mechanism calls them (a key computed once with {@code beforenm}, a message
 * nonce of "CurveZMQMESSAGE" and a counter, a fresh array per message). The code before the fix (keys and nonces
 * read back through a byte-array view) failed thousands of these 300,000 rounds once C2 compiled it; it must never
 * fail one. Runs with C2 on: it proves nothing on C1 alone.
 */
class JitRegressionTest {
    private static final int ROUNDS = 300_000;

    @Test
    void sealAndOpenInALoopAsJeroMqDoesNeverFails() {
        assertThat(ProcessHandle.current().info().arguments().map(java.util.List::of).orElse(java.util.List.of()))
                .as("the JIT's second tier must be on for this test to mean anything")
                .noneMatch(argument -> argument.startsWith("-XX:TieredStopAtLevel"));
        byte[] serverPublic = new byte[32];
        byte[] serverSecret = new byte[32];
        byte[] clientPublic = new byte[32];
        byte[] clientSecret = new byte[32];
        curve25519xsalsa20poly1305.crypto_box_keypair(serverPublic, serverSecret);
        curve25519xsalsa20poly1305.crypto_box_keypair(clientPublic, clientSecret);
        byte[] sending = new byte[32];
        byte[] receiving = new byte[32];
        curve25519xsalsa20poly1305.crypto_box_beforenm(sending, serverPublic, clientSecret);
        curve25519xsalsa20poly1305.crypto_box_beforenm(receiving, clientPublic, serverSecret);
        assertThat(sending).isEqualTo(receiving);

        SplittableRandom random = new SplittableRandom(17);
        byte[] prefix = "CurveZMQMESSAGEC".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int failures = 0;
        for (long counter = 1; counter <= ROUNDS; counter++) {
            byte[] nonce = new byte[24];
            System.arraycopy(prefix, 0, nonce, 0, 16);
            for (int i = 0; i < 8; i++) {
                nonce[16 + i] = (byte) (counter >>> (56 - 8 * i));
            }
            int length = 32 + 1 + random.nextInt(200);
            byte[] plain = new byte[length];
            for (int i = 32; i < length; i++) {
                plain[i] = (byte) random.nextInt();
            }
            byte[] box = new byte[length];
            curve25519xsalsa20poly1305.crypto_box_afternm(box, plain, length, nonce, sending);
            byte[] opened = new byte[length];
            if (curve25519xsalsa20poly1305.crypto_box_open_afternm(opened, box, length, nonce, receiving) != 0
                    || !Arrays.equals(opened, plain)) {
                failures++;
            }
        }
        assertThat(failures).as("boxes that did not open in %d rounds", ROUNDS).isZero();
    }
}
