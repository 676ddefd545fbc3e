package io.rewind.client;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.UUID;

/**
 * An event to append. The arrays are not copied: do not change them after handing them over.
 *
 * @param eventId  the event's id, or {@code null} to let the server assign a random one; set it to make
 *                 retries idempotent
 * @param type     application-defined type, e.g. "OrderPlaced"
 * @param data     the payload, any bytes
 * @param metadata any bytes, e.g. correlation ids
 */
public record EventData(UUID eventId, String type, byte[] data, byte[] metadata) {
    private static final byte[] NONE = new byte[0];

    /** Rejects null type, data or metadata. */
    public EventData {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(metadata, "metadata");
    }

    /**
     * @return an event with a fresh random id (so that retrying its append is idempotent) and no metadata
     */
    public static EventData of(String type, byte[] data) {
        return new EventData(UUID.randomUUID(), type, data, NONE);
    }

    /** @return an event whose data is the UTF-8 bytes of {@code data}, with a fresh random id */
    public static EventData of(String type, String data) {
        return of(type, data.getBytes(StandardCharsets.UTF_8));
    }

    /** @return this event with another id ({@code null}: the server assigns one) */
    public EventData withId(UUID id) {
        return new EventData(id, type, data, metadata);
    }

    /** @return this event with metadata */
    public EventData withMetadata(byte[] newMetadata) {
        return new EventData(eventId, type, data, newMetadata);
    }
}
