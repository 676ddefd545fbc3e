package io.rewind.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.zeromq.ZCert;
import org.zeromq.ZMQ;

/** CurveZMQ certificates on disk for tests, in the ZeroMQ certificate format the server and client read. */
final class CurveKeys {
    private CurveKeys() {}

    /** A key pair whose certificates are written as DIR/NAME (public) and DIR/NAME_secret. */
    record Pair(String name, Path publicFile, Path secretFile, String publicKey, String secretKey) {
        /** Makes a socket a CURVE client of the server with this pair. */
        void apply(ZMQ.Socket socket, Pair server) {
            socket.setCurveServerKey(ZMQ.Curve.z85Decode(server.publicKey()));
            socket.setCurvePublicKey(ZMQ.Curve.z85Decode(publicKey));
            socket.setCurveSecretKey(ZMQ.Curve.z85Decode(secretKey));
        }

        /** This key's line in an authorized keys file. */
        String line(String permissions) {
            return name + " " + publicKey + " " + permissions;
        }
    }

    /** Makes and writes a new pair. */
    static Pair make(Path dir, String name) {
        ZCert cert = new ZCert();
        Path publicFile = dir.resolve(name);
        Path secretFile = dir.resolve(name + "_secret");
        try {
            Files.createDirectories(dir);
            try (var writer = Files.newBufferedWriter(publicFile)) {
                cert.savePublic(writer);
            }
            try (var writer = Files.newBufferedWriter(secretFile)) {
                cert.saveSecret(writer);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Pair(name, publicFile, secretFile, cert.getPublicKeyAsZ85(), cert.getSecretKeyAsZ85());
    }

    /** Writes the authorized keys file in one move, as an operator's editor or tool would replace it. */
    static void writeAuthorized(Path file, List<String> lines) {
        try {
            Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(temporary, lines);
            Files.move(temporary, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
