package io.rewind.server.security;

import io.rewind.protocol.v1.CurveCertificate;
import java.nio.file.Path;
import org.zeromq.ZMQ;

/**
 * A CurveZMQ key pair read from a ZeroMQ certificate file, as czmq's {@code zcert}, JeroMQ's
 * {@code ZCert} and {@code rewind keygen} write it: a {@code curve} section with {@code public-key}
 * and {@code secret-key}, each 40 Z85 characters.
 */
public record CurveKeyPair(String publicKey, byte[] secretKey) {
    /**
     * Reads the certificate; throws {@link IllegalArgumentException} naming the file and what is wrong
     * with it.
     */
    public static CurveKeyPair load(Path file) {
        String publicKey = CurveCertificate.key(file, "public-key");
        String secretKey = CurveCertificate.key(file, "secret-key");
        if (secretKey == null) {
            throw new IllegalArgumentException("the key file " + file + " has no curve/secret-key: give the secret"
                    + " certificate (NAME_secret as rewind keygen writes it), not the public one");
        }
        if (publicKey == null) {
            throw new IllegalArgumentException("the key file " + file + " has no curve/public-key");
        }
        decode(file + " curve/public-key", publicKey);
        return new CurveKeyPair(publicKey, decode(file + " curve/secret-key", secretKey));
    }

    /** Never shows the secret key, e.g. when the configuration is logged. */
    @Override
    public String toString() {
        return "CurveKeyPair[publicKey=" + publicKey + ", secretKey=(not shown)]";
    }

    /** A Z85 key as its 32 bytes; throws naming {@code what} when it is not one. */
    public static byte[] decode(String what, String z85) {
        if (z85.length() != 40) {
            throw new IllegalArgumentException(what + " '" + z85 + "' is " + z85.length() + " characters long, a"
                    + " CurveZMQ key in Z85 is 40");
        }
        byte[] key;
        try {
            key = ZMQ.Curve.z85Decode(z85);
        } catch (RuntimeException e) {
            key = null;
        }
        if (key == null || key.length != 32 || !ZMQ.Curve.z85Encode(key).equals(z85)) {
            throw new IllegalArgumentException(what + " '" + z85 + "' is not a Z85-encoded CurveZMQ key");
        }
        return key;
    }
}
