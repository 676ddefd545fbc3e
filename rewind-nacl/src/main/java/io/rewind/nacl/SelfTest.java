package io.rewind.nacl;

import com.neilalexander.jnacl.crypto.curve25519xsalsa20poly1305;
import com.neilalexander.jnacl.crypto.xsalsa20poly1305;
import java.security.CodeSource;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A known-answer test of the CURVE cipher that JeroMQ will call, run once per JVM before the first CURVE socket
 * (by the server and by the client): NaCl's published box and secretbox vectors, and a box whose authenticator
 * differs from the right one in its last byte only, which must not open. It also proves that the classes JeroMQ
 * calls by name are Rewind's: an application that declares JeroMQ itself gets jnacl too, whose classes carry the
 * same names, and whichever jar comes first on the class path wins. jnacl is slower and compares only 15 of the
 * authenticator's 16 bytes (the last-byte case catches it).
 */
public final class SelfTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] ALICE_SECRET = HEX.parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    private static final byte[] ALICE_PUBLIC = HEX.parseHex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    private static final byte[] BOB_SECRET = HEX.parseHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    private static final byte[] BOB_PUBLIC = HEX.parseHex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    private static final byte[] BOX_KEY = HEX.parseHex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389");
    private static final byte[] NONCE = HEX.parseHex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37");
    private static final byte[] MESSAGE = HEX.parseHex("be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffc"
            + "e5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057"
            + "e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f93776384864"
            + "5e0705");
    private static final byte[] AUTHENTICATOR = HEX.parseHex("f3ffc7703f9400e52a7dfb4b3d3305d9");
    private static final byte[] CIPHER_TEXT = HEX.parseHex("8e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186a"
            + "c0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae"
            + "90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74"
            + "e355a5");

    private static volatile boolean passed;

    private SelfTest() {}

    /**
     * Runs the test once per JVM (later calls return at once); throws {@link IllegalStateException} saying what
     * failed and where the classes came from.
     */
    public static void check() {
        if (passed) {
            return;
        }
        synchronized (SelfTest.class) {
            if (!passed) {
                try {
                    run();
                } catch (LinkageError e) {
                    // jnacl's classes lack one of the methods, or rewind-nacl's are missing altogether.
                    require(false, "the classes do not link (" + e + ")");
                }
                passed = true;
            }
        }
    }

    private static void run() {
        byte[] padded = new byte[32 + MESSAGE.length];
        System.arraycopy(MESSAGE, 0, padded, 32, MESSAGE.length);
        byte[] expected = new byte[32 + MESSAGE.length];
        System.arraycopy(AUTHENTICATOR, 0, expected, 16, 16);
        System.arraycopy(CIPHER_TEXT, 0, expected, 32, CIPHER_TEXT.length);

        byte[] box = new byte[padded.length];
        require(curve25519xsalsa20poly1305.crypto_box(box, padded, box.length, NONCE, BOB_PUBLIC, ALICE_SECRET) == 0
                && Arrays.equals(box, expected), "crypto_box does not give NaCl's published box");
        byte[] opened = new byte[box.length];
        require(curve25519xsalsa20poly1305.crypto_box_open(opened, box, box.length, NONCE, ALICE_PUBLIC, BOB_SECRET)
                == 0 && Arrays.equals(opened, padded), "crypto_box_open does not open NaCl's published box");

        byte[] secretBox = new byte[padded.length];
        require(xsalsa20poly1305.crypto_secretbox(secretBox, padded, secretBox.length, NONCE, BOX_KEY) == 0
                && Arrays.equals(secretBox, expected), "crypto_secretbox does not give NaCl's published box");
        require(xsalsa20poly1305.crypto_secretbox_open(opened, secretBox, secretBox.length, NONCE, BOX_KEY) == 0
                && Arrays.equals(opened, padded), "crypto_secretbox_open does not open NaCl's published box");

        byte[] lastByte = secretBox.clone();
        lastByte[31] ^= 0x01;
        require(xsalsa20poly1305.crypto_secretbox_open(new byte[lastByte.length], lastByte, lastByte.length, NONCE,
                BOX_KEY) == -1, "crypto_secretbox_open opened a box whose authenticator's last byte is wrong (jnacl's"
                        + " flaw: it compares 15 of the 16 bytes)");
        lastByte = box.clone();
        lastByte[31] ^= (byte) 0x80;
        require(curve25519xsalsa20poly1305.crypto_box_open(new byte[lastByte.length], lastByte, lastByte.length, NONCE,
                ALICE_PUBLIC, BOB_SECRET) == -1, "crypto_box_open opened a box whose authenticator's last byte is"
                        + " wrong (jnacl's flaw: it compares 15 of the 16 bytes)");
        byte[] firstByte = secretBox.clone();
        firstByte[16] ^= 0x01;
        require(xsalsa20poly1305.crypto_secretbox_open(new byte[firstByte.length], firstByte, firstByte.length, NONCE,
                BOX_KEY) == -1, "crypto_secretbox_open opened a box whose authenticator is wrong");
        require(isRewinds(xsalsa20poly1305.class) && isRewinds(curve25519xsalsa20poly1305.class),
                "the classes are not Rewind's");
    }

    /** Rewind's classes are marked; jnacl's, of the same names, are not. */
    private static boolean isRewinds(Class<?> type) {
        try {
            return type.getField("REWIND_NACL").getBoolean(null);
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }

    private static void require(boolean condition, String what) {
        if (!condition) {
            throw new IllegalStateException("The CURVE cipher failed its self-test: " + what + ". The classes JeroMQ"
                    + " calls (com.neilalexander.jnacl.crypto.xsalsa20poly1305) come from " + origin(xsalsa20poly1305.class)
                    + "; they must be rewind-nacl's. If your build also brings jnacl (eu.neilalexander:jnacl, which"
                    + " org.zeromq:jeromq depends on), exclude it from that dependency");
        }
    }

    private static String origin(Class<?> type) {
        CodeSource source;
        try {
            source = type.getProtectionDomain().getCodeSource();
        } catch (LinkageError e) {
            return "nowhere (they are missing)";
        }
        return source == null || source.getLocation() == null ? "an unknown place" : source.getLocation().toString();
    }
}
