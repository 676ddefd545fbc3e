package io.rewind.server.storage;

import java.util.List;
import java.util.UUID;

/**
 * An event as stored: its identity, its place in its stream and in the global log, its payload and its tags.
 *
 * @param tags   what the event is about (e.g. "course:c1"), for queries and append conditions; never null
 * @param erased its data and metadata were erased for good (both are empty); the rest is as appended
 */
public record StoredEvent(
        UUID eventId,
        String stream,
        long streamVersion,
        long globalPosition,
        String type,
        byte[] data,
        byte[] metadata,
        long commitTimestampMicros,
        List<String> tags,
        boolean erased) {

    private static final byte[] NONE = new byte[0];

    public StoredEvent {
        tags = List.copyOf(tags);
    }

    /** An event as appended. */
    public StoredEvent(UUID eventId, String stream, long streamVersion, long globalPosition, String type, byte[] data,
            byte[] metadata, long commitTimestampMicros, List<String> tags) {
        this(eventId, stream, streamVersion, globalPosition, type, data, metadata, commitTimestampMicros, tags, false);
    }

    /** An event without tags. */
    public StoredEvent(UUID eventId, String stream, long streamVersion, long globalPosition, String type, byte[] data,
            byte[] metadata, long commitTimestampMicros) {
        this(eventId, stream, streamVersion, globalPosition, type, data, metadata, commitTimestampMicros, List.of());
    }

    /** This event with its data and metadata erased. */
    public StoredEvent erase() {
        return new StoredEvent(eventId, stream, streamVersion, globalPosition, type, NONE, NONE, commitTimestampMicros,
                tags, true);
    }

    /** Bytes this event counts against a read page's byte budget. */
    public long payloadSize() {
        long size = (long) stream.length() + type.length() + data.length + metadata.length;
        for (String tag : tags) {
            size += tag.length();
        }
        return size;
    }

    public EventLocation location() {
        return new EventLocation(stream, streamVersion, globalPosition);
    }
}
