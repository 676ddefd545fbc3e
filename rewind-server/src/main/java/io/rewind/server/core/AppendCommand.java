package io.rewind.server.core;

import java.util.List;

/**
 * A request to append events to one stream or several, atomically: all of them, with consecutive global positions
 * in the order of the parts, or none.
 *
 * <p>Or, with {@code operation} set (and no parts), a change to a stream's lifecycle or to one event, which the
 * writer orders with the appends.
 *
 * @param parts     at least one (none for an operation); no stream twice
 * @param condition the append's Dynamic Consistency Boundary condition, or null for none
 * @param operation the stream operation this command is instead of an append, or null
 */
public record AppendCommand(List<StreamPart> parts, AppendCondition condition, StreamOperation operation) {

    public AppendCommand {
        parts = List.copyOf(parts);
    }

    /** An append. */
    public AppendCommand(List<StreamPart> parts, AppendCondition condition) {
        this(parts, condition, null);
    }

    /** A stream operation. */
    public static AppendCommand of(StreamOperation operation) {
        return new AppendCommand(List.of(), null, operation);
    }

    /** An unconditional append to one stream. */
    public AppendCommand(String stream, ExpectedVersion expectedVersion, List<ProposedEvent> events) {
        this(List.of(new StreamPart(stream, expectedVersion, events)), null);
    }

    /** The events of every part, in order. */
    public int eventCount() {
        int count = 0;
        for (StreamPart part : parts) {
            count += part.events().size();
        }
        return count;
    }

    /**
     * Bytes the events take in the store beyond their fixed fields: each event's {@link ProposedEvent#sizeInBytes}
     * and its stream's name in UTF-8. What a group's size bound and the storage's room are counted in, the same
     * way everywhere.
     */
    public long payloadBytes() {
        long bytes = 0;
        for (StreamPart part : parts) {
            long name = com.google.common.base.Utf8.encodedLength(part.stream());
            for (ProposedEvent event : part.events()) {
                bytes += name + event.sizeInBytes();
            }
        }
        return bytes;
    }

    /** For messages: "stream 'a'", or "streams 'a', 'b'". */
    public String describeStreams() {
        if (operation != null) {
            return operation.describe();
        }
        if (parts.size() == 1) {
            return "stream '" + parts.get(0).stream() + "'";
        }
        StringBuilder text = new StringBuilder("streams ");
        for (int i = 0; i < parts.size(); i++) {
            text.append(i == 0 ? "'" : ", '").append(parts.get(i).stream()).append('\'');
        }
        return text.toString();
    }
}
