package io.rewind.client;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

/**
 * An event as stored by the server. A value: equal to another with the same content, and its arrays
 * are its own (copied in, copied out), so no caller can change what another one sees.
 *
 * @param streamVersion  zero-based, dense within the stream
 * @param globalPosition zero-based, dense across all streams, in commit order
 * @param committedAt    when the server committed it
 * @param tags           what the event is about, as appended
 * @param erased         its data and metadata were erased for good ({@link RewindClient#eraseEvent}); both are
 *                       empty, everything else is as appended
 */
public record RecordedEvent(
        UUID eventId,
        String stream,
        long streamVersion,
        long globalPosition,
        String type,
        byte[] data,
        byte[] metadata,
        Instant committedAt,
        Tags tags,
        boolean erased) {

    /** Copies the arrays and rejects nulls. */
    public RecordedEvent {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(type, "type");
        data = data.clone();
        metadata = metadata.clone();
        Objects.requireNonNull(committedAt, "committedAt");
        Objects.requireNonNull(tags, "tags");
    }

    /** An event as appended. */
    public RecordedEvent(UUID eventId, String stream, long streamVersion, long globalPosition, String type,
            byte[] data, byte[] metadata, Instant committedAt, Tags tags) {
        this(eventId, stream, streamVersion, globalPosition, type, data, metadata, committedAt, tags, false);
    }

    /** An event without tags. */
    public RecordedEvent(UUID eventId, String stream, long streamVersion, long globalPosition, String type,
            byte[] data, byte[] metadata, Instant committedAt) {
        this(eventId, stream, streamVersion, globalPosition, type, data, metadata, committedAt, Tags.none());
    }

    /** @return a copy of the data; {@link #dataBuffer()} reads it without copying */
    @Override
    public byte[] data() {
        return data.clone();
    }

    /** @return a copy of the metadata; {@link #metadataBuffer()} reads it without copying */
    @Override
    public byte[] metadata() {
        return metadata.clone();
    }

    /** @return the data, read-only, without a copy */
    public ByteBuffer dataBuffer() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer();
    }

    /** @return the metadata, read-only, without a copy */
    public ByteBuffer metadataBuffer() {
        return ByteBuffer.wrap(metadata).asReadOnlyBuffer();
    }

    /** @return the data decoded as UTF-8 */
    public String dataAsString() {
        return new String(data, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RecordedEvent e && streamVersion == e.streamVersion
                && globalPosition == e.globalPosition && eventId.equals(e.eventId) && stream.equals(e.stream)
                && type.equals(e.type) && Arrays.equals(data, e.data) && Arrays.equals(metadata, e.metadata)
                && committedAt.equals(e.committedAt) && tags.equals(e.tags) && erased == e.erased;
    }

    @Override
    public int hashCode() {
        return Objects.hash(eventId, stream, streamVersion, globalPosition, type, Arrays.hashCode(data),
                Arrays.hashCode(metadata), committedAt, tags, erased);
    }

    @Override
    public String toString() {
        return "RecordedEvent[" + stream + "@" + streamVersion + ", position " + globalPosition + ", " + type + ", id "
                + eventId + ", " + data.length + " bytes of data, " + metadata.length + " of metadata, committed "
                + committedAt + (tags.isEmpty() ? "" : ", tags " + tags) + (erased ? ", erased" : "") + "]";
    }
}
