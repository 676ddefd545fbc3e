package io.rewind.server.core;

import com.google.common.base.Utf8;
import java.util.UUID;

/**
 * An event a client asks to append.
 *
 * @param eventId the client's id, or {@code null} for the server to assign one
 */
public record ProposedEvent(UUID eventId, String type, byte[] data, byte[] metadata) {

    /** Bytes this event counts against the size limits: type, data and metadata. */
    public long sizeInBytes() {
        return (long) Utf8.encodedLength(type) + data.length + metadata.length;
    }
}
