package io.rewind.client;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/**
 * An event as stored by the server.
 *
 * @param streamVersion  zero-based, dense within the stream
 * @param globalPosition zero-based, dense across all streams, in commit order
 * @param committedAt    when the server committed it
 */
public record RecordedEvent(
        UUID eventId,
        String stream,
        long streamVersion,
        long globalPosition,
        String type,
        byte[] data,
        byte[] metadata,
        Instant committedAt) {

    /** @return the data decoded as UTF-8 */
    public String dataAsString() {
        return new String(data, StandardCharsets.UTF_8);
    }
}
