package io.rewind.nacl;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import javax.crypto.KeyAgreement;

/**
 * Curve25519 scalar multiplication (RFC 7748's X25519, which is NaCl's {@code crypto_scalarmult}) by the JDK's
 * {@code XDH} provider, with NaCl's byte conventions: 32-byte little-endian scalars and u-coordinates.
 */
public final class X25519 {
    public static final int KEY_BYTES = 32;

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] BASE_POINT = new byte[KEY_BYTES];

    static {
        BASE_POINT[0] = 9;
    }

    private X25519() {
    }

    /** A new secret key: 32 random bytes (clamped when used, as NaCl does). */
    public static byte[] newSecretKey() {
        byte[] secret = new byte[KEY_BYTES];
        RANDOM.nextBytes(secret);
        return secret;
    }

    /** The public key of {@code secretKey}. */
    public static byte[] publicKey(byte[] secretKey) {
        try {
            return scalarMult(secretKey, BASE_POINT);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("X25519 of the base point failed", e);
        }
    }

    /**
     * {@code scalar} times the point whose u-coordinate is {@code u}. The u-coordinate's top bit is ignored, as
     * RFC 7748 says.
     *
     * @throws GeneralSecurityException when the JDK refuses the point: it does for points of small order, whose
     *         product is zero (NaCl would return the zero key, which anyone can compute).
     */
    public static byte[] scalarMult(byte[] scalar, byte[] u) throws GeneralSecurityException {
        if (scalar.length < KEY_BYTES || u.length < KEY_BYTES) {
            throw new GeneralSecurityException("X25519 keys are 32 bytes");
        }
        byte[] bigEndian = new byte[KEY_BYTES];
        for (int i = 0; i < KEY_BYTES; i++) {
            bigEndian[i] = u[KEY_BYTES - 1 - i];
        }
        bigEndian[0] &= 0x7f;
        KeyFactory keys = KeyFactory.getInstance("XDH");
        PrivateKey privateKey = keys.generatePrivate(
                new XECPrivateKeySpec(NamedParameterSpec.X25519, java.util.Arrays.copyOf(scalar, KEY_BYTES)));
        PublicKey publicKey = keys.generatePublic(
                new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(1, bigEndian)));
        KeyAgreement agreement = KeyAgreement.getInstance("XDH");
        agreement.init(privateKey);
        agreement.doPhase(publicKey, true);
        return agreement.generateSecret();
    }
}
