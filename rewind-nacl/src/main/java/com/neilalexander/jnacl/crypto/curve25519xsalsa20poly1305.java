package com.neilalexander.jnacl.crypto;

import io.rewind.nacl.X25519;
import io.rewind.nacl.XSalsa20Poly1305;
import java.security.GeneralSecurityException;

/**
 * jnacl's {@code crypto_box} entry points (Curve25519, XSalsa20 and Poly1305), as JeroMQ calls them; see
 * {@link xsalsa20poly1305} for why this class carries jnacl's name.
 *
 * <p>One difference from NaCl, on purpose: for a public key of small order (whose shared secret is zero, so anyone
 * can compute the key) {@code crypto_box_beforenm} returns -1 and a random key, and {@code crypto_box} and
 * {@code crypto_box_open} return -1. JeroMQ ignores {@code beforenm}'s result, so such a peer's handshake fails
 * when its next box does not open, instead of running on a known key.
 */
public final class curve25519xsalsa20poly1305 {
    /** Marks this implementation as rewind-nacl's, for {@link io.rewind.nacl.SelfTest}: jnacl's classes have no such field. */
    public static final boolean REWIND_NACL = true;
    public static final int crypto_secretbox_PUBLICKEYBYTES = X25519.KEY_BYTES;
    public static final int crypto_secretbox_SECRETKEYBYTES = X25519.KEY_BYTES;
    public static final int crypto_secretbox_BEFORENMBYTES = 32;
    public static final int crypto_secretbox_NONCEBYTES = XSalsa20Poly1305.NONCE_BYTES;
    public static final int crypto_secretbox_ZEROBYTES = XSalsa20Poly1305.ZERO_BYTES;
    public static final int crypto_secretbox_BOXZEROBYTES = XSalsa20Poly1305.BOX_ZERO_BYTES;

    private static final byte[] ZERO_NONCE = new byte[16];

    private curve25519xsalsa20poly1305() {
    }

    public static int crypto_box_getpublickey(byte[] pk, byte[] sk) {
        System.arraycopy(X25519.publicKey(sk), 0, pk, 0, X25519.KEY_BYTES);
        return 0;
    }

    public static int crypto_box_keypair(byte[] pk, byte[] sk) {
        byte[] secret = X25519.newSecretKey();
        System.arraycopy(secret, 0, sk, 0, X25519.KEY_BYTES);
        return crypto_box_getpublickey(pk, sk);
    }

    public static int crypto_box_beforenm(byte[] k, byte[] pk, byte[] sk) {
        byte[] key;
        int rc = 0;
        try {
            key = XSalsa20Poly1305.hsalsa20(X25519.scalarMult(sk, pk), ZERO_NONCE);
        } catch (GeneralSecurityException e) {
            key = X25519.newSecretKey();
            rc = -1;
        }
        System.arraycopy(key, 0, k, 0, key.length);
        return rc;
    }

    public static int crypto_box_afternm(byte[] c, byte[] m, long mlen, byte[] n, byte[] k) {
        return XSalsa20Poly1305.seal(c, m, xsalsa20poly1305.length(mlen), n, k);
    }

    public static int crypto_box_open_afternm(byte[] m, byte[] c, long clen, byte[] n, byte[] k) {
        return XSalsa20Poly1305.open(m, c, xsalsa20poly1305.length(clen), n, k);
    }

    public static int crypto_box(byte[] c, byte[] m, long mlen, byte[] n, byte[] pk, byte[] sk) {
        byte[] k = new byte[crypto_secretbox_BEFORENMBYTES];
        if (crypto_box_beforenm(k, pk, sk) != 0) {
            return -1;
        }
        return crypto_box_afternm(c, m, mlen, n, k);
    }

    public static int crypto_box_open(byte[] m, byte[] c, long clen, byte[] n, byte[] pk, byte[] sk) {
        byte[] k = new byte[crypto_secretbox_BEFORENMBYTES];
        if (crypto_box_beforenm(k, pk, sk) != 0) {
            return -1;
        }
        return crypto_box_open_afternm(m, c, clen, n, k);
    }

    public static int crypto_box_afternm(byte[] c, byte[] m, byte[] n, byte[] k) {
        return crypto_box_afternm(c, m, m.length, n, k);
    }

    public static int crypto_box_open_afternm(byte[] m, byte[] c, byte[] n, byte[] k) {
        return crypto_box_open_afternm(m, c, c.length, n, k);
    }

    public static int crypto_box(byte[] c, byte[] m, byte[] n, byte[] pk, byte[] sk) {
        return crypto_box(c, m, m.length, n, pk, sk);
    }

    public static int crypto_box_open(byte[] m, byte[] c, byte[] n, byte[] pk, byte[] sk) {
        return crypto_box_open(m, c, c.length, n, pk, sk);
    }
}
