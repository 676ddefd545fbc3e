package io.rewind.nacl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Poly1305 one-time authenticator on five 26-bit limbs (the layout of poly1305-donna's 32-bit version), so that
 * every product fits a {@code long} without carries in between.
 */
final class Poly1305 {
    private static final VarHandle LE_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long MASK26 = 0x3ffffff;

    private Poly1305() {
    }

    /** Writes the 16-byte authenticator of {@code length} bytes of {@code m} from {@code mOffset} to {@code out}. */
    static void mac(byte[] out, int outOffset, byte[] m, int mOffset, int length, byte[] key) {
        int[] words = new int[8];
        for (int i = 0; i < 8; i++) {
            words[i] = XSalsa20Poly1305.word(key, 4 * i);
        }
        mac(out, outOffset, m, mOffset, length, words);
    }

    /**
     * As {@link #mac(byte[], int, byte[], int, int, byte[])}, with the 32-byte key as its first eight little-endian
     * words (as Salsa20 makes them: the key never goes through a byte array).
     */
    static void mac(byte[] out, int outOffset, byte[] m, int mOffset, int length, int[] key) {
        long k0 = key[0] & 0xffffffffL;
        long k1 = key[1] & 0xffffffffL;
        long k2 = key[2] & 0xffffffffL;
        long k3 = key[3] & 0xffffffffL;
        long r0 = k0 & 0x3ffffff;
        long r1 = ((k0 >>> 26) | (k1 << 6)) & 0x3ffff03;
        long r2 = ((k1 >>> 20) | (k2 << 12)) & 0x3ffc0ff;
        long r3 = ((k2 >>> 14) | (k3 << 18)) & 0x3f03fff;
        long r4 = (k3 >>> 8) & 0x00fffff;
        long s1 = r1 * 5;
        long s2 = r2 * 5;
        long s3 = r3 * 5;
        long s4 = r4 * 5;
        long h0 = 0;
        long h1 = 0;
        long h2 = 0;
        long h3 = 0;
        long h4 = 0;

        int end = mOffset + length;
        for (int at = mOffset; at < end; at += 16) {
            long t0;
            long t1;
            long t2;
            long t3;
            long hibit = 1L << 24;
            if (end - at >= 16) {
                t0 = u32(m, at);
                t1 = u32(m, at + 4);
                t2 = u32(m, at + 8);
                t3 = u32(m, at + 12);
            } else {
                // The last, partial block: its bytes, a 1, then zeros; read as bytes (see XSalsa20Poly1305.word).
                byte[] last = new byte[16];
                System.arraycopy(m, at, last, 0, end - at);
                last[end - at] = 1;
                t0 = XSalsa20Poly1305.word(last, 0) & 0xffffffffL;
                t1 = XSalsa20Poly1305.word(last, 4) & 0xffffffffL;
                t2 = XSalsa20Poly1305.word(last, 8) & 0xffffffffL;
                t3 = XSalsa20Poly1305.word(last, 12) & 0xffffffffL;
                hibit = 0;
            }
            h0 += t0 & MASK26;
            h1 += ((t0 >>> 26) | (t1 << 6)) & MASK26;
            h2 += ((t1 >>> 20) | (t2 << 12)) & MASK26;
            h3 += ((t2 >>> 14) | (t3 << 18)) & MASK26;
            h4 += (t3 >>> 8) | hibit;

            long d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1;
            long d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2;
            long d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3;
            long d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4;
            long d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;

            long c = d0 >>> 26;
            h0 = d0 & MASK26;
            d1 += c;
            c = d1 >>> 26;
            h1 = d1 & MASK26;
            d2 += c;
            c = d2 >>> 26;
            h2 = d2 & MASK26;
            d3 += c;
            c = d3 >>> 26;
            h3 = d3 & MASK26;
            d4 += c;
            c = d4 >>> 26;
            h4 = d4 & MASK26;
            h0 += c * 5;
            c = h0 >>> 26;
            h0 &= MASK26;
            h1 += c;
        }

        // Full carry, then h mod 2^130 - 5.
        long c = h1 >>> 26;
        h1 &= MASK26;
        h2 += c;
        c = h2 >>> 26;
        h2 &= MASK26;
        h3 += c;
        c = h3 >>> 26;
        h3 &= MASK26;
        h4 += c;
        c = h4 >>> 26;
        h4 &= MASK26;
        h0 += c * 5;
        c = h0 >>> 26;
        h0 &= MASK26;
        h1 += c;

        long g0 = h0 + 5;
        c = g0 >>> 26;
        g0 &= MASK26;
        long g1 = h1 + c;
        c = g1 >>> 26;
        g1 &= MASK26;
        long g2 = h2 + c;
        c = g2 >>> 26;
        g2 &= MASK26;
        long g3 = h3 + c;
        c = g3 >>> 26;
        g3 &= MASK26;
        long g4 = h4 + c - (1L << 26);

        // g4 < 0 means h < p: keep h; otherwise take g = h - p. Without a branch on the secret.
        long takeG = (g4 >>> 63) - 1;
        h0 = (h0 & ~takeG) | (g0 & takeG);
        h1 = (h1 & ~takeG) | (g1 & takeG);
        h2 = (h2 & ~takeG) | (g2 & takeG);
        h3 = (h3 & ~takeG) | (g3 & takeG);
        h4 = (h4 & ~takeG) | (g4 & takeG);

        // h mod 2^128, plus the second half of the key.
        long w0 = (h0 | (h1 << 26)) & 0xffffffffL;
        long w1 = ((h1 >>> 6) | (h2 << 20)) & 0xffffffffL;
        long w2 = ((h2 >>> 12) | (h3 << 14)) & 0xffffffffL;
        long w3 = ((h3 >>> 18) | (h4 << 8)) & 0xffffffffL;
        long f = w0 + (key[4] & 0xffffffffL);
        put32(out, outOffset, f);
        f = w1 + (key[5] & 0xffffffffL) + (f >>> 32);
        put32(out, outOffset + 4, f);
        f = w2 + (key[6] & 0xffffffffL) + (f >>> 32);
        put32(out, outOffset + 8, f);
        f = w3 + (key[7] & 0xffffffffL) + (f >>> 32);
        put32(out, outOffset + 12, f);
    }

    /** Compares 16 bytes in a time that does not depend on where they differ. */
    static boolean equal(byte[] a, int aOffset, byte[] b, int bOffset) {
        int diff = 0;
        for (int i = 0; i < 16; i++) {
            diff |= a[aOffset + i] ^ b[bOffset + i];
        }
        return diff == 0;
    }

    private static long u32(byte[] b, int offset) {
        return (int) LE_INT.get(b, offset) & 0xffffffffL;
    }

    private static void put32(byte[] b, int offset, long value) {
        b[offset] = (byte) value;
        b[offset + 1] = (byte) (value >>> 8);
        b[offset + 2] = (byte) (value >>> 16);
        b[offset + 3] = (byte) (value >>> 24);
    }
}
