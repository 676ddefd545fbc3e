package io.rewind.nacl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * NaCl's {@code crypto_secretbox} (XSalsa20 and Poly1305), written for speed on the JVM: Salsa20 works on
 * {@code int} words read and written four bytes at a time, Poly1305 on five 26-bit limbs (as poly1305-donna's
 * 32-bit version). The byte layout is NaCl's: the plain text starts with {@link #ZERO_BYTES} zero bytes, the box
 * with {@link #BOX_ZERO_BYTES} zero bytes followed by the 16-byte authenticator.
 *
 * <p>Thread-safe: it keeps no state between calls.
 */
public final class XSalsa20Poly1305 {
    public static final int KEY_BYTES = 32;
    public static final int NONCE_BYTES = 24;
    public static final int ZERO_BYTES = 32;
    public static final int BOX_ZERO_BYTES = 16;

    private static final VarHandle LE_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    /** "expand 32-byte k", Salsa20's constant for 256-bit keys. */
    private static final int SIGMA0 = 0x61707865;
    private static final int SIGMA1 = 0x3320646e;
    private static final int SIGMA2 = 0x79622d32;
    private static final int SIGMA3 = 0x6b206574;

    private XSalsa20Poly1305() {
    }

    /**
     * Seals {@code length} bytes of {@code message} (the first 32 of which are zero) into {@code box}, which may be
     * the same array. Returns 0, or -1 when {@code length} is below 32.
     */
    public static int seal(byte[] box, byte[] message, int length, byte[] nonce, byte[] key) {
        if (length < ZERO_BYTES) {
            return -1;
        }
        int[] state = state(key, nonce);
        int[] block = new int[16];
        salsa20(state, block);
        // The first 32 bytes of block 0 are the Poly1305 key; xor reuses the block for the blocks after it.
        int[] authKey = Arrays.copyOf(block, 8);
        xor(state, block, box, message, length);
        Poly1305.mac(box, BOX_ZERO_BYTES, box, ZERO_BYTES, length - ZERO_BYTES, authKey);
        for (int i = 0; i < BOX_ZERO_BYTES; i++) {
            box[i] = 0;
        }
        return 0;
    }

    /**
     * Opens {@code length} bytes of {@code box} into {@code message} (which may be the same array), whose first 32
     * bytes become zero. Returns 0, or -1 (leaving {@code message} untouched) when the authenticator does not match
     * or {@code length} is below 32.
     */
    public static int open(byte[] message, byte[] box, int length, byte[] nonce, byte[] key) {
        if (length < ZERO_BYTES) {
            return -1;
        }
        int[] state = state(key, nonce);
        int[] block = new int[16];
        salsa20(state, block);
        byte[] tag = new byte[16];
        Poly1305.mac(tag, 0, box, ZERO_BYTES, length - ZERO_BYTES, block);
        if (!Poly1305.equal(tag, 0, box, BOX_ZERO_BYTES)) {
            return -1;
        }
        xor(state, block, message, box, length);
        for (int i = 0; i < ZERO_BYTES; i++) {
            message[i] = 0;
        }
        return 0;
    }

    /**
     * HSalsa20 with NaCl's constant: the 32-byte key that {@code crypto_box_beforenm} derives from a Curve25519
     * shared secret (with a zero nonce), and the subkey of XSalsa20 (with the nonce's first 16 bytes).
     */
    public static byte[] hsalsa20(byte[] key, byte[] nonce16) {
        int[] words = hsalsa20Words(key, nonce16);
        byte[] out = new byte[32];
        for (int i = 0; i < 8; i++) {
            putWord(out, 4 * i, words[i]);
        }
        return out;
    }

    /** HSalsa20's output as eight little-endian words. */
    private static int[] hsalsa20Words(byte[] key, byte[] nonce16) {
        int[] x = {
            SIGMA0, word(key, 0), word(key, 4), word(key, 8),
            word(key, 12), SIGMA1, word(nonce16, 0), word(nonce16, 4),
            word(nonce16, 8), word(nonce16, 12), SIGMA2, word(key, 16),
            word(key, 20), word(key, 24), word(key, 28), SIGMA3,
        };
        rounds(x);
        return new int[] {x[0], x[5], x[10], x[15], x[6], x[7], x[8], x[9]};
    }

    /**
     * Salsa20's input for XSalsa20: the HSalsa20 subkey, the nonce's last 8 bytes, block counter 0. The subkey
     * stays in words: when this method wrote it into a fresh {@code byte[]} through a byte-array view and read it
     * back the same way, JDK 17.0.15's C2 now and then derived another key from the same key and nonce (never with
     * this method kept from C2; see {@code JeroMqCurveTest}).
     */
    private static int[] state(byte[] key, byte[] nonce) {
        int[] subkey = hsalsa20Words(key, nonce);
        return new int[] {
            SIGMA0, subkey[0], subkey[1], subkey[2],
            subkey[3], SIGMA1, word(nonce, 16), word(nonce, 20),
            0, 0, SIGMA2, subkey[4],
            subkey[5], subkey[6], subkey[7], SIGMA3,
        };
    }

    /**
     * {@code out[i] = in[i] ^ keystream[i]} for i in [32, length); {@code first} is the keystream's block 0, already
     * computed (its first eight words are the Poly1305 key).
     */
    private static void xor(int[] state, int[] first, byte[] out, byte[] in, int length) {
        int[] block = first;
        long counter = 0;
        for (int start = 0; start < length; start += 64) {
            if (counter > 0) {
                state[8] = (int) counter;
                state[9] = (int) (counter >>> 32);
                salsa20(state, block);
            }
            int from = Math.max(start, ZERO_BYTES);
            int to = Math.min(length, start + 64);
            int i = from;
            for (; i + 4 <= to; i += 4) {
                LE_INT.set(out, i, (int) LE_INT.get(in, i) ^ block[(i - start) >>> 2]);
            }
            for (; i < to; i++) {
                int w = block[(i - start) >>> 2];
                out[i] = (byte) (in[i] ^ (w >>> (8 * ((i - start) & 3))));
            }
            counter++;
        }
    }

    /** One Salsa20/20 block: {@code out = rounds(in) + in}. */
    private static void salsa20(int[] in, int[] out) {
        System.arraycopy(in, 0, out, 0, 16);
        rounds(out);
        for (int i = 0; i < 16; i++) {
            out[i] += in[i];
        }
    }

    /** Salsa20's 20 rounds (10 double rounds) in place, without the final addition (which HSalsa20 omits). */
    private static void rounds(int[] s) {
        int x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3], x4 = s[4], x5 = s[5], x6 = s[6], x7 = s[7];
        int x8 = s[8], x9 = s[9], x10 = s[10], x11 = s[11], x12 = s[12], x13 = s[13], x14 = s[14], x15 = s[15];
        for (int i = 0; i < 10; i++) {
            // Column round.
            x4 ^= Integer.rotateLeft(x0 + x12, 7);
            x8 ^= Integer.rotateLeft(x4 + x0, 9);
            x12 ^= Integer.rotateLeft(x8 + x4, 13);
            x0 ^= Integer.rotateLeft(x12 + x8, 18);
            x9 ^= Integer.rotateLeft(x5 + x1, 7);
            x13 ^= Integer.rotateLeft(x9 + x5, 9);
            x1 ^= Integer.rotateLeft(x13 + x9, 13);
            x5 ^= Integer.rotateLeft(x1 + x13, 18);
            x14 ^= Integer.rotateLeft(x10 + x6, 7);
            x2 ^= Integer.rotateLeft(x14 + x10, 9);
            x6 ^= Integer.rotateLeft(x2 + x14, 13);
            x10 ^= Integer.rotateLeft(x6 + x2, 18);
            x3 ^= Integer.rotateLeft(x15 + x11, 7);
            x7 ^= Integer.rotateLeft(x3 + x15, 9);
            x11 ^= Integer.rotateLeft(x7 + x3, 13);
            x15 ^= Integer.rotateLeft(x11 + x7, 18);
            // Row round.
            x1 ^= Integer.rotateLeft(x0 + x3, 7);
            x2 ^= Integer.rotateLeft(x1 + x0, 9);
            x3 ^= Integer.rotateLeft(x2 + x1, 13);
            x0 ^= Integer.rotateLeft(x3 + x2, 18);
            x6 ^= Integer.rotateLeft(x5 + x4, 7);
            x7 ^= Integer.rotateLeft(x6 + x5, 9);
            x4 ^= Integer.rotateLeft(x7 + x6, 13);
            x5 ^= Integer.rotateLeft(x4 + x7, 18);
            x11 ^= Integer.rotateLeft(x10 + x9, 7);
            x8 ^= Integer.rotateLeft(x11 + x10, 9);
            x9 ^= Integer.rotateLeft(x8 + x11, 13);
            x10 ^= Integer.rotateLeft(x9 + x8, 18);
            x12 ^= Integer.rotateLeft(x15 + x14, 7);
            x13 ^= Integer.rotateLeft(x12 + x15, 9);
            x14 ^= Integer.rotateLeft(x13 + x12, 13);
            x15 ^= Integer.rotateLeft(x14 + x13, 18);
        }
        s[0] = x0; s[1] = x1; s[2] = x2; s[3] = x3; s[4] = x4; s[5] = x5; s[6] = x6; s[7] = x7;
        s[8] = x8; s[9] = x9; s[10] = x10; s[11] = x11; s[12] = x12; s[13] = x13; s[14] = x14; s[15] = x15;
    }

    /**
     * A little-endian word of a key or nonce, from its bytes. The messages go through the faster byte-array view,
     * but the small arrays of keys and nonces, made and read in the same call, do not (see {@link #state}).
     */
    static int word(byte[] bytes, int offset) {
        return (bytes[offset] & 0xff) | (bytes[offset + 1] & 0xff) << 8 | (bytes[offset + 2] & 0xff) << 16
                | (bytes[offset + 3] & 0xff) << 24;
    }

    static void putWord(byte[] bytes, int offset, int value) {
        bytes[offset] = (byte) value;
        bytes[offset + 1] = (byte) (value >>> 8);
        bytes[offset + 2] = (byte) (value >>> 16);
        bytes[offset + 3] = (byte) (value >>> 24);
    }
}
