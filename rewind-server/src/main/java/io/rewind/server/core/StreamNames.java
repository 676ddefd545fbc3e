package io.rewind.server.core;

import java.nio.charset.StandardCharsets;

/** The rules for stream names: non-empty UTF-8 without NUL, at most the configured number of bytes. */
public final class StreamNames {
    private StreamNames() {}

    /** Returns the name's UTF-8 bytes, or throws INVALID_REQUEST naming what is wrong. */
    public static byte[] validate(String name, int maxBytes) {
        if (name.isEmpty()) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST, "stream name must not be empty");
        }
        if (name.indexOf('\0') >= 0) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST, "stream name must not contain a NUL byte");
        }
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > maxBytes) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST,
                    "stream name is " + utf8.length + " bytes, the limit is " + maxBytes + ": '"
                            + name.substring(0, Math.min(name.length(), 40)) + "…'");
        }
        return utf8;
    }
}
