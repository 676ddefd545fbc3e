package io.rewind.server.core;

import java.util.UUID;

/**
 * A change to a stream's lifecycle or to one stored event, decided and written by the writer in order with the
 * appends (and, in a replicated group, applied by every member from the log like them).
 */
public sealed interface StreamOperation {

    /** Hides every event of the stream; with {@code tombstone}, appends to it fail forever. */
    record Delete(String stream, ExpectedVersion expected, boolean tombstone) implements StreamOperation {}

    /** Hides the stream's events below a version. */
    record Truncate(String stream, long beforeVersion) implements StreamOperation {}

    /** Sets the stream's retention; 0 for no limit. */
    record SetRetention(String stream, long maxAgeMicros, long maxCount) implements StreamOperation {}

    /** Erases one event's data and metadata. */
    record Erase(UUID eventId) implements StreamOperation {}

    /** For messages. */
    default String describe() {
        if (this instanceof Delete d) {
            return (d.tombstone() ? "tombstone of stream '" : "delete of stream '") + d.stream() + "'";
        }
        if (this instanceof Truncate t) {
            return "truncation of stream '" + t.stream() + "' before version " + t.beforeVersion();
        }
        if (this instanceof SetRetention r) {
            return "retention of stream '" + r.stream() + "'";
        }
        return "erasure of event " + ((Erase) this).eventId();
    }
}
