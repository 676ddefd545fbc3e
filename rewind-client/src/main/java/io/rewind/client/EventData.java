package io.rewind.client;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

/**
 * An event to append. A value: equal to another with the same content, and its arrays are its own
 * (copied in, copied out), so changing an array after handing it over changes nothing.
 *
 * @param eventId  the event's id, or {@code null} to let the server assign a random one; set it to make
 *                 retries idempotent
 * @param type     application-defined type, e.g. "OrderPlaced"
 * @param data     the payload, any bytes
 * @param metadata any bytes, e.g. correlation ids
 * @param tags     what the event is about, for queries and append conditions, e.g. {@code Tags.of("course:c1")}
 */
public record EventData(UUID eventId, String type, byte[] data, byte[] metadata, Tags tags) {
    private static final byte[] NONE = new byte[0];

    /** Rejects null type, data, metadata or tags, and copies the arrays. */
    public EventData {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(tags, "tags");
        data = data.clone();
        metadata = metadata.length == 0 ? NONE : metadata.clone();
    }

    /** An event without tags. */
    public EventData(UUID eventId, String type, byte[] data, byte[] metadata) {
        this(eventId, type, data, metadata, Tags.none());
    }

    /** @return a copy of the data */
    @Override
    public byte[] data() {
        return data.clone();
    }

    /** @return a copy of the metadata */
    @Override
    public byte[] metadata() {
        return metadata.length == 0 ? NONE : metadata.clone();
    }

    /** @return the data, read-only, without a copy */
    public ByteBuffer dataBuffer() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer();
    }

    /** @return the metadata, read-only, without a copy */
    public ByteBuffer metadataBuffer() {
        return ByteBuffer.wrap(metadata).asReadOnlyBuffer();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof EventData e && Objects.equals(eventId, e.eventId) && type.equals(e.type)
                && Arrays.equals(data, e.data) && Arrays.equals(metadata, e.metadata) && tags.equals(e.tags);
    }

    @Override
    public int hashCode() {
        return Objects.hash(eventId, type, Arrays.hashCode(data), Arrays.hashCode(metadata), tags);
    }

    @Override
    public String toString() {
        return "EventData[" + type + ", id " + eventId + ", " + data.length + " bytes of data, " + metadata.length
                + " of metadata" + (tags.isEmpty() ? "" : ", tags " + tags) + "]";
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
        return new EventData(id, type, data, metadata, tags);
    }

    /** @return this event with metadata */
    public EventData withMetadata(byte[] newMetadata) {
        return new EventData(eventId, type, data, newMetadata, tags);
    }

    /** @return this event with these tags (instead of its own) */
    public EventData withTags(Tags newTags) {
        return new EventData(eventId, type, data, metadata, newTags);
    }

    /** @return this event with these tags (instead of its own) */
    public EventData withTags(String... newTags) {
        return withTags(Tags.of(newTags));
    }
}
