package io.rewind.nacl;

import static org.assertj.core.api.Assertions.assertThat;

import com.neilalexander.jnacl.crypto.curve25519xsalsa20poly1305;
import com.neilalexander.jnacl.crypto.xsalsa20poly1305;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The jnacl API that JeroMQ calls, checked against NaCl's published test vectors and, byte for byte, against
 * jnacl itself (loaded by its own class loader, since its classes have the same names).
 */
class NaClTest {
    private static final HexFormat HEX = HexFormat.of();

    // NaCl's tests/box.c: Alice's secret key and Bob's public key (RFC 7748's), a nonce, a message, the box.
    private static final byte[] ALICE_SECRET = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    private static final byte[] ALICE_PUBLIC = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    private static final byte[] BOB_SECRET = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    private static final byte[] BOB_PUBLIC = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    private static final byte[] SHARED_SECRET = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    private static final byte[] BOX_KEY = hex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389");
    private static final byte[] NONCE = hex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37");
    private static final byte[] MESSAGE = hex("be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffc"
            + "e5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057"
            + "e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f93776384864"
            + "5e0705");
    private static final byte[] AUTHENTICATOR = hex("f3ffc7703f9400e52a7dfb4b3d3305d9");
    private static final byte[] CIPHER_TEXT = hex("8e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186a"
            + "c0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae"
            + "90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74"
            + "e355a5");

    private static ClassLoader jnacl;

    @BeforeAll
    static void loadJnacl() throws Exception {
        Path jar = Path.of(System.getProperty("jnacl.jar", "target/jnacl/jnacl.jar"));
        assertThat(jar).as("jnacl's jar, copied by the build for comparison").exists();
        jnacl = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
    }

    @Test
    void naclsBoxTestVector() {
        byte[] box = new byte[32 + MESSAGE.length];
        assertThat(curve25519xsalsa20poly1305.crypto_box(box, padded(MESSAGE), box.length, NONCE, BOB_PUBLIC,
                ALICE_SECRET)).isZero();
        assertThat(Arrays.copyOfRange(box, 0, 16)).isEqualTo(new byte[16]);
        assertThat(Arrays.copyOfRange(box, 16, 32)).isEqualTo(AUTHENTICATOR);
        assertThat(Arrays.copyOfRange(box, 32, box.length)).isEqualTo(CIPHER_TEXT);

        byte[] opened = new byte[box.length];
        assertThat(curve25519xsalsa20poly1305.crypto_box_open(opened, box, box.length, NONCE, ALICE_PUBLIC,
                BOB_SECRET)).isZero();
        assertThat(opened).isEqualTo(padded(MESSAGE));
    }

    @Test
    void keysAgreeWithRfc7748AndNacl() throws Exception {
        assertThat(X25519.publicKey(ALICE_SECRET)).isEqualTo(ALICE_PUBLIC);
        assertThat(X25519.publicKey(BOB_SECRET)).isEqualTo(BOB_PUBLIC);
        assertThat(X25519.scalarMult(ALICE_SECRET, BOB_PUBLIC)).isEqualTo(SHARED_SECRET);
        byte[] k = new byte[32];
        assertThat(curve25519xsalsa20poly1305.crypto_box_beforenm(k, BOB_PUBLIC, ALICE_SECRET)).isZero();
        assertThat(k).isEqualTo(BOX_KEY);
        byte[] pk = new byte[32];
        curve25519xsalsa20poly1305.crypto_box_getpublickey(pk, BOB_SECRET);
        assertThat(pk).isEqualTo(BOB_PUBLIC);
    }

    @Test
    void poly1305TestVectors() {
        // poly1305-donna's tests: NaCl's authenticator, and a key whose result wraps modulo 2^130 - 5.
        byte[] tag = new byte[16];
        Poly1305.mac(tag, 0, CIPHER_TEXT, 0, CIPHER_TEXT.length,
                hex("eea6a7251c1e72916d11c2cb214d3c252539121d8e234e652d651fa4c8cff880"));
        assertThat(tag).isEqualTo(AUTHENTICATOR);
        byte[] wrapKey = new byte[32];
        wrapKey[0] = 2;
        byte[] allOnes = new byte[16];
        Arrays.fill(allOnes, (byte) 0xff);
        Poly1305.mac(tag, 0, allOnes, 0, 16, wrapKey);
        byte[] three = new byte[16];
        three[0] = 3;
        assertThat(tag).isEqualTo(three);
    }

    @Test
    void everyLengthSealsAndOpensAsJnaclDoes() throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        Method seal = jnacl("xsalsa20poly1305", "crypto_secretbox", byte[].class, byte[].class, long.class,
                byte[].class, byte[].class);
        Method open = jnacl("xsalsa20poly1305", "crypto_secretbox_open", byte[].class, byte[].class, long.class,
                byte[].class, byte[].class);
        for (int length = 32; length < 32 + 600; length++) {
            compare(random, length, seal, open);
        }
        for (int length : new int[] {32 + 65_536, 32 + 1_000_003}) {
            compare(random, length, seal, open);
        }
    }

    private static void compare(SplittableRandom random, int length, Method seal, Method open) throws Exception {
        byte[] key = bytes(random, 32);
        byte[] nonce = bytes(random, 24);
        // Arrays larger than the length, as JeroMQ passes them, with bytes past it that must not count.
        byte[] message = bytes(random, length + 40);
        Arrays.fill(message, 0, 32, (byte) 0);
        byte[] ours = new byte[length + 40];
        byte[] theirs = new byte[length + 40];
        assertThat(xsalsa20poly1305.crypto_secretbox(ours, message, length, nonce, key)).isZero();
        assertThat(seal.invoke(null, theirs, message, (long) length, nonce, key)).isEqualTo(0);
        assertThat(ours).as("box of %d bytes", length).isEqualTo(theirs);

        byte[] opened = new byte[length];
        assertThat(xsalsa20poly1305.crypto_secretbox_open(opened, ours, length, nonce, key)).isZero();
        assertThat(opened).isEqualTo(Arrays.copyOf(message, length));

        // In place, as a caller may do.
        byte[] inPlace = Arrays.copyOf(ours, length);
        assertThat(xsalsa20poly1305.crypto_secretbox_open(inPlace, inPlace, length, nonce, key)).isZero();
        assertThat(inPlace).isEqualTo(Arrays.copyOf(message, length));

        // Any changed bit of the authenticator or the cipher text is refused, and the output is left alone.
        byte[] tampered = Arrays.copyOf(ours, length);
        int at = 16 + random.nextInt(length - 16);
        tampered[at] ^= (byte) (1 << random.nextInt(8));
        byte[] untouched = new byte[length];
        assertThat(xsalsa20poly1305.crypto_secretbox_open(untouched, tampered, length, nonce, key))
                .as("tampered at %d of %d", at, length).isEqualTo(-1);
        if (at != 31) { // jnacl does not check the authenticator's last byte: see the test below
            assertThat((int) open.invoke(null, new byte[length], tampered, (long) length, nonce, key))
                    .as("jnacl, tampered at %d of %d", at, length).isEqualTo(-1);
        }
        assertThat(untouched).isEqualTo(new byte[length]);
    }

    /**
     * jnacl's {@code verify_16} compares 15 bytes, not 16: a box whose authenticator differs in its last byte opens.
     * That left JeroMQ's CURVE with a 120-bit authenticator; this implementation checks all 16 bytes.
     */
    @Test
    void jnaclIgnoresTheAuthenticatorsLastByteAndThisDoesNot() throws Exception {
        Method open = jnacl("xsalsa20poly1305", "crypto_secretbox_open", byte[].class, byte[].class, long.class,
                byte[].class, byte[].class);
        byte[] box = new byte[32 + MESSAGE.length];
        assertThat(xsalsa20poly1305.crypto_secretbox(box, padded(MESSAGE), box.length, NONCE, BOX_KEY)).isZero();
        box[31] ^= 0x01;
        assertThat(open.invoke(null, new byte[box.length], box, (long) box.length, NONCE, BOX_KEY)).isEqualTo(0);
        assertThat(xsalsa20poly1305.crypto_secretbox_open(new byte[box.length], box, box.length, NONCE, BOX_KEY))
                .isEqualTo(-1);
    }

    @Test
    void boxesAndKeysMatchJnacl() throws Exception {
        SplittableRandom random = new SplittableRandom(11);
        Method keyPair = jnacl("curve25519xsalsa20poly1305", "crypto_box_getpublickey", byte[].class, byte[].class);
        Method beforenm = jnacl("curve25519xsalsa20poly1305", "crypto_box_beforenm", byte[].class, byte[].class,
                byte[].class);
        Method box = jnacl("curve25519xsalsa20poly1305", "crypto_box", byte[].class, byte[].class, long.class,
                byte[].class, byte[].class, byte[].class);
        for (int i = 0; i < 50; i++) {
            byte[] secret = bytes(random, 32);
            byte[] ours = new byte[32];
            byte[] theirs = new byte[32];
            curve25519xsalsa20poly1305.crypto_box_getpublickey(ours, secret);
            keyPair.invoke(null, theirs, secret);
            assertThat(ours).isEqualTo(theirs);

            byte[] peer = new byte[32];
            curve25519xsalsa20poly1305.crypto_box_keypair(peer, new byte[32]);
            byte[] k1 = new byte[32];
            byte[] k2 = new byte[32];
            assertThat(curve25519xsalsa20poly1305.crypto_box_beforenm(k1, peer, secret)).isZero();
            beforenm.invoke(null, k2, peer, secret);
            assertThat(k1).isEqualTo(k2);

            int length = 32 + random.nextInt(300);
            byte[] message = bytes(random, length);
            Arrays.fill(message, 0, 32, (byte) 0);
            byte[] nonce = bytes(random, 24);
            byte[] c1 = new byte[length];
            byte[] c2 = new byte[length];
            assertThat(curve25519xsalsa20poly1305.crypto_box(c1, message, length, nonce, peer, secret)).isZero();
            box.invoke(null, c2, message, (long) length, nonce, peer, secret);
            assertThat(c1).isEqualTo(c2);
        }
    }

    @Test
    void aPublicKeyOfSmallOrderGetsNoUsableKey() {
        // u = 0 and u = 1 are points of small order: the shared secret would be zero, a key anyone can compute.
        byte[] secret = X25519.newSecretKey();
        byte[] one = new byte[32];
        one[0] = 1;
        for (byte[] weak : new byte[][] {new byte[32], one}) {
            byte[] k = new byte[32];
            assertThat(curve25519xsalsa20poly1305.crypto_box_beforenm(k, weak, secret)).isEqualTo(-1);
            assertThat(k).isNotEqualTo(new byte[32]);
            byte[] box = new byte[64];
            assertThat(curve25519xsalsa20poly1305.crypto_box(box, new byte[64], 64, new byte[24], weak, secret))
                    .isEqualTo(-1);
        }
    }

    @Test
    void shortInputsAreRefused() {
        byte[] key = new byte[32];
        assertThat(xsalsa20poly1305.crypto_secretbox(new byte[31], new byte[31], 31, new byte[24], key)).isEqualTo(-1);
        assertThat(xsalsa20poly1305.crypto_secretbox_open(new byte[31], new byte[31], 31, new byte[24], key))
                .isEqualTo(-1);
        // 32 bytes is an empty message: it seals and opens.
        byte[] box = new byte[32];
        assertThat(xsalsa20poly1305.crypto_secretbox(box, new byte[32], 32, new byte[24], key)).isZero();
        assertThat(xsalsa20poly1305.crypto_secretbox_open(new byte[32], box, 32, new byte[24], key)).isZero();
    }

    private static Method jnacl(String className, String name, Class<?>... parameters) throws Exception {
        Class<?> type = Class.forName("com.neilalexander.jnacl.crypto." + className, true, jnacl);
        assertThat(type.getClassLoader()).isSameAs(jnacl);
        return type.getMethod(name, parameters);
    }

    private static byte[] padded(byte[] message) {
        byte[] padded = new byte[32 + message.length];
        System.arraycopy(message, 0, padded, 32, message.length);
        return padded;
    }

    private static byte[] bytes(SplittableRandom random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    private static byte[] hex(String hex) {
        return HEX.parseHex(hex);
    }
}
