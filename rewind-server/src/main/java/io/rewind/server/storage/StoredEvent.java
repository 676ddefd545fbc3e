package io.rewind.server.storage;

import java.util.UUID;

/** An event as stored: its identity, its place in its stream and in the global log, and its payload. */
public record StoredEvent(
        UUID eventId,
        String stream,
        long streamVersion,
        long globalPosition,
        String type,
        byte[] data,
        byte[] metadata,
        long commitTimestampMicros) {

    /** Bytes this event counts against a read page's byte budget. */
    public long payloadSize() {
        return (long) stream.length() + type.length() + data.length + metadata.length;
    }

    public EventLocation location() {
        return new EventLocation(stream, streamVersion, globalPosition);
    }
}
