package io.rewind.server.core;

import com.google.common.base.Utf8;
import java.util.List;
import java.util.UUID;

/**
 * An event a client asks to append.
 *
 * @param eventId the client's id, or {@code null} for the server to assign one
 * @param tags    what the event is about, for queries and conditions; never null
 */
public record ProposedEvent(UUID eventId, String type, byte[] data, byte[] metadata, List<String> tags) {

    public ProposedEvent {
        tags = List.copyOf(tags);
    }

    /** An event without tags. */
    public ProposedEvent(UUID eventId, String type, byte[] data, byte[] metadata) {
        this(eventId, type, data, metadata, List.of());
    }

    /** This event with another id. */
    public ProposedEvent withId(UUID id) {
        return new ProposedEvent(id, type, data, metadata, tags);
    }

    /** The wire framing of one tag, which its size counts too: a field tag and a length of up to 3 bytes. */
    public static final int TAG_FRAMING_BYTES = 4;

    /**
     * Bytes this event counts against the size limits: type, data, metadata and tags (each with its framing, so
     * that the largest append the limits allow still fits a message however many tags it has).
     */
    public long sizeInBytes() {
        long size = (long) Utf8.encodedLength(type) + data.length + metadata.length;
        for (String tag : tags) {
            size += Utf8.encodedLength(tag) + TAG_FRAMING_BYTES;
        }
        return size;
    }
}
