package io.rewind.server.core;

import java.util.List;

/**
 * A request to append events to one stream or several, atomically: all of them, with consecutive global positions
 * in the order of the parts, or none.
 *
 * @param parts     at least one; no stream twice
 * @param condition the append's Dynamic Consistency Boundary condition, or null for none
 */
public record AppendCommand(List<StreamPart> parts, AppendCondition condition) {

    public AppendCommand {
        parts = List.copyOf(parts);
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

    /** For messages: "stream 'a'", or "streams 'a', 'b'". */
    public String describeStreams() {
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
