package io.rewind.client.internal;

import io.rewind.protocol.v1.CurveCertificate;
import java.nio.file.Path;
import org.zeromq.ZMQ;

/** The CURVE keys of a client: the server's public key and the client's own pair, applied to each socket. */
public final class CurveClient {
    private final byte[] serverKey;
    private final byte[] publicKey;
    private final byte[] secretKey;

    public CurveClient(byte[] serverKey, byte[] publicKey, byte[] secretKey) {
        // The cipher JeroMQ will call is Rewind's, and right (an application that declares JeroMQ itself may bring
        // jnacl's classes of the same names): IllegalStateException from the builder otherwise.
        io.rewind.nacl.SelfTest.check();
        this.serverKey = serverKey.clone();
        this.publicKey = publicKey.clone();
        this.secretKey = secretKey.clone();
    }

    /** Makes the socket a CURVE client of the server; before it connects. */
    public void apply(ZMQ.Socket socket) {
        socket.setCurveServerKey(serverKey);
        socket.setCurvePublicKey(publicKey);
        socket.setCurveSecretKey(secretKey);
    }

    /** A Z85 key as its 32 bytes; throws naming {@code what} when it is not one. */
    public static byte[] decode(String what, String z85) {
        byte[] key = null;
        if (z85 != null && z85.length() == 40) {
            try {
                key = ZMQ.Curve.z85Decode(z85);
            } catch (RuntimeException e) {
                key = null;
            }
        }
        if (key == null || key.length != 32 || !ZMQ.Curve.z85Encode(key).equals(z85)) {
            throw new IllegalArgumentException(what + " is not a CurveZMQ key: 40 characters of Z85 expected, got '"
                    + z85 + "'");
        }
        return key;
    }

    /**
     * One key of a ZeroMQ certificate file (as {@code rewind keygen}, czmq's zcert or JeroMQ's ZCert write
     * it): {@code curve/public-key} or {@code curve/secret-key}. Throws naming the file when it has none.
     */
    public static byte[] readKey(Path file, String name) {
        String value = CurveCertificate.key(file, name);
        if (value == null) {
            throw new IllegalArgumentException("the key file " + file + " has no curve/" + name
                    + (name.equals("secret-key") ? ": give the secret certificate (NAME_secret), not the public one"
                            : ""));
        }
        return decode(file + " curve/" + name, value);
    }
}
