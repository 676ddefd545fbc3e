package io.rewind.server.core;

import io.rewind.server.storage.StreamState;

/**
 * What a {@link StreamOperation} did: the stream's lifecycle after it, and for an erasure the event erased.
 *
 * @param lastVersion    the stream's last version, -1 when it never had an event
 * @param erasedPosition the erased event's global position, -1 for the other operations
 * @param erasedVersion  its stream version, -1 for the other operations
 */
public record OperationResult(String stream, long lastVersion, StreamState state, long erasedPosition,
        long erasedVersion) {}
