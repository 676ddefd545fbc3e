package io.rewind.client;

import java.util.List;

/**
 * The result of a successful append.
 *
 * @param firstPosition       global position of the append's first event
 * @param lastPosition        global position of its last event
 * @param nextExpectedVersion the stream version of its last event (of the first stream's, for a multi-stream
 *                            append): pass {@code ExpectedVersion.exact(it)} to the next append to the stream
 * @param streams             each stream's result, in the order of the append; empty for a one-stream append
 */
public record AppendResult(long firstPosition, long lastPosition, long nextExpectedVersion,
        List<StreamResult> streams) {

    /** One stream's events of an append: their positions, and the stream's version after them. */
    public record StreamResult(String stream, long firstPosition, long lastPosition, long nextExpectedVersion) {}

    public AppendResult {
        streams = List.copyOf(streams);
    }

    /** A result without per-stream details. */
    public AppendResult(long firstPosition, long lastPosition, long nextExpectedVersion) {
        this(firstPosition, lastPosition, nextExpectedVersion, List.of());
    }

    /** The result for one stream of the append. */
    public StreamResult stream(String name) {
        return streams.stream().filter(s -> s.stream().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("stream '" + name + "' is not part of this append"));
    }
}
