package com.neilalexander.jnacl.crypto;

import io.rewind.nacl.XSalsa20Poly1305;

/**
 * jnacl's {@code crypto_secretbox} entry points, as JeroMQ calls them, backed by {@link XSalsa20Poly1305}.
 *
 * <p>This class exists only because JeroMQ's CURVE mechanism calls jnacl's classes by name and has no way to be
 * given another cipher: Rewind excludes jnacl (a byte-at-a-time port of NaCl's reference code, about 30 MiB/s)
 * and puts this faster, byte-for-byte compatible implementation in its place.
 */
public final class xsalsa20poly1305 {
    /** Marks this implementation as rewind-nacl's, for {@link io.rewind.nacl.SelfTest}: jnacl's classes have no such field. */
    public static final boolean REWIND_NACL = true;
    public static final int crypto_secretbox_KEYBYTES = XSalsa20Poly1305.KEY_BYTES;
    public static final int crypto_secretbox_NONCEBYTES = XSalsa20Poly1305.NONCE_BYTES;
    public static final int crypto_secretbox_ZEROBYTES = XSalsa20Poly1305.ZERO_BYTES;
    public static final int crypto_secretbox_BOXZEROBYTES = XSalsa20Poly1305.BOX_ZERO_BYTES;

    private xsalsa20poly1305() {
    }

    public static int crypto_secretbox(byte[] c, byte[] m, long mlen, byte[] n, byte[] k) {
        return XSalsa20Poly1305.seal(c, m, length(mlen), n, k);
    }

    public static int crypto_secretbox_open(byte[] m, byte[] c, long clen, byte[] n, byte[] k) {
        return XSalsa20Poly1305.open(m, c, length(clen), n, k);
    }

    static int length(long length) {
        return length > Integer.MAX_VALUE ? -1 : (int) length;
    }
}
