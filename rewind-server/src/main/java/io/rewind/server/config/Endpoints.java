package io.rewind.server.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Whether an address stays on this host: what the server checks before it speaks plain text. */
public final class Endpoints {
    private static final Pattern TCP = Pattern.compile("tcp://(\\[[^]]+]|[^:/]+):.*");

    private Endpoints() {}

    /** Whether the host is a loopback address, by its text alone (no name lookup beyond localhost). */
    public static boolean isLoopbackHost(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        return h.equals("localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1")
                || h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }

    /**
     * Whether a ZeroMQ endpoint can only be reached from this host: tcp on a loopback address, ipc or
     * inproc. {@code tcp://*:9090} and {@code tcp://0.0.0.0:9090} listen on every interface.
     */
    public static boolean isLocalOnly(String endpoint) {
        if (endpoint.startsWith("ipc://") || endpoint.startsWith("inproc://")) {
            return true;
        }
        Matcher matcher = TCP.matcher(endpoint);
        return matcher.matches() && isLoopbackHost(matcher.group(1));
    }
}
