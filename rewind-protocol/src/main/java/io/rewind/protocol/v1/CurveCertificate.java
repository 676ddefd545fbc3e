package io.rewind.protocol.v1;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The key files of CURVE connections, read the same way by the server and the client: ZeroMQ
 * certificates as czmq's {@code zcert}, JeroMQ's {@code ZCert} and {@code rewind keygen} write them
 * (ZPL text, PROTOCOL.md shows one). Their {@code curve} section holds {@code public-key} and, in
 * the secret file only, {@code secret-key}, each 40 characters of Z85.
 */
public final class CurveCertificate {
    private CurveCertificate() {}

    /**
     * The value of {@code curve/NAME} in the certificate, or null when it has none; throws
     * {@link IllegalArgumentException} naming the file when it cannot be read.
     */
    public static String key(Path file, String name) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("the key file " + file + " does not exist or is not a file");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the key file " + file + ": " + e.getClass().getSimpleName()
                    + " " + e.getMessage(), e);
        }
        boolean inCurve = false;
        for (String line : lines) {
            if (line.isBlank() || line.stripLeading().startsWith("#")) {
                continue;
            }
            boolean indented = Character.isWhitespace(line.charAt(0));
            if (!indented) {
                inCurve = line.strip().equals("curve");
                continue;
            }
            int equals = line.indexOf('=');
            if (inCurve && equals > 0 && line.substring(0, equals).strip().equals(name)) {
                return unquote(line.substring(equals + 1).strip());
            }
        }
        return null;
    }

    private static String unquote(String value) {
        if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
                || value.startsWith("'") && value.endsWith("'"))) {
            return value.substring(1, value.length() - 1);
        }
        return value;
    }
}
