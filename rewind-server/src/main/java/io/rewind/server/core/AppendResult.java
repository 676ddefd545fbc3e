package io.rewind.server.core;

import java.util.List;

/**
 * The result of a successful append.
 *
 * @param lastVersion stream version of the first stream's last event: the exact expected version of its next append
 * @param duplicate   true when the events were already committed by an earlier identical append
 * @param streams     each stream's part of the result, in the order of the append's parts; empty for an
 *                    append to one stream
 */
public record AppendResult(long firstPosition, long lastPosition, long lastVersion, boolean duplicate,
        List<StreamResult> streams) {

    /** One stream's events in an append: their positions and the stream's version after them. */
    public record StreamResult(String stream, long firstPosition, long lastPosition, long lastVersion) {}

    public AppendResult {
        streams = List.copyOf(streams);
    }

    /** A one-stream result. */
    public AppendResult(long firstPosition, long lastPosition, long lastVersion, boolean duplicate) {
        this(firstPosition, lastPosition, lastVersion, duplicate, List.of());
    }
}
