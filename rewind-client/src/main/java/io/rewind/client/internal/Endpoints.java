package io.rewind.client.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Works out the live feed's endpoint from what the server announces. */
public final class Endpoints {
    private static final Pattern TCP = Pattern.compile("tcp://(\\[[^\\]]*]|[^:/]*):(\\d+|\\*)");
    /** The port the server's live feed binds by default. */
    private static final String DEFAULT_FEED_PORT = "9091";

    private Endpoints() {}

    /**
     * The endpoint to connect a subscription to: the announced one, with a wildcard host ({@code *},
     * {@code 0.0.0.0}, {@code [::]}) replaced by the host the commands are reached on. A server that
     * announces nothing (older than this client) is taken to use the default port on the commands' host.
     */
    public static String feedEndpoint(String commandEndpoint, String announced) {
        Matcher command = TCP.matcher(commandEndpoint);
        if (announced == null || announced.isEmpty()) {
            return command.matches() ? "tcp://" + command.group(1) + ":" + DEFAULT_FEED_PORT : announced;
        }
        Matcher feed = TCP.matcher(announced);
        if (!feed.matches() || !command.matches()) {
            return announced;
        }
        String host = feed.group(1);
        boolean wildcard = host.equals("*") || host.equals("0.0.0.0") || host.equals("[::]") || host.equals("[::0]")
                || host.isEmpty();
        return wildcard ? "tcp://" + command.group(1) + ":" + feed.group(2) : announced;
    }
}
