package io.rewind.server.core;

import io.rewind.server.storage.EventQuery;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/** Checks an append against the limits before it is queued, so the writer only sees well-formed appends. */
public final class AppendValidator {
    /** The wire framing of a further stream of a multi-stream append, besides its name: expected version, lengths. */
    static final int PART_FRAMING_BYTES = 32;
    private final Limits limits;

    public AppendValidator(Limits limits) {
        this.limits = limits;
    }

    /** Throws a {@link RequestException} naming the first problem found. */
    public void validate(AppendCommand command) {
        if (command.parts().isEmpty()) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST, "append names no stream");
        }
        int count = 0;
        long total = 0;
        Set<String> streams = new HashSet<>();
        Set<UUID> ids = new HashSet<>();
        for (StreamPart part : command.parts()) {
            String stream = part.stream();
            StreamNames.validate(stream, limits.maxStreamNameBytes());
            if (!streams.add(stream)) {
                throw RequestException.of(ErrorCode.INVALID_REQUEST, "stream '" + stream
                        + "' appears twice in one append; put all its events in one part");
            }
            if (part.events().isEmpty()) {
                throw RequestException.of(ErrorCode.INVALID_REQUEST, "append to stream '" + stream + "' has no events");
            }
            if (part != command.parts().get(0)) {
                // A further stream's name and framing travel in the message too: counted in the append's size.
                total += com.google.common.base.Utf8.encodedLength(stream) + PART_FRAMING_BYTES;
            }
            count += part.events().size();
            if (count > limits.maxEventsPerAppend()) {
                throw RequestException.of(ErrorCode.TOO_LARGE, "append to " + command.describeStreams() + " has "
                        + command.eventCount() + " events, the limit is " + limits.maxEventsPerAppend());
            }
            for (int i = 0; i < part.events().size(); i++) {
                ProposedEvent event = part.events().get(i);
                long size = event.sizeInBytes();
                if (size > limits.maxEventBytes()) {
                    throw RequestException.of(ErrorCode.TOO_LARGE, "event " + i + " of the append to stream '"
                            + stream + "' is " + size + " bytes, the limit is " + limits.maxEventBytes());
                }
                checkTags(event.tags(), "event " + i + " of the append to stream '" + stream + "'");
                total += size;
                if (event.eventId() != null && !ids.add(event.eventId())) {
                    throw RequestException.of(ErrorCode.INVALID_REQUEST, "event id " + event.eventId()
                            + " appears twice in the append to " + command.describeStreams());
                }
            }
        }
        if (total > limits.maxAppendBytes()) {
            throw RequestException.of(ErrorCode.TOO_LARGE, "append to " + command.describeStreams() + " is "
                    + total + " bytes, the limit is " + limits.maxAppendBytes());
        }
        if (command.condition() != null) {
            if (command.condition().after() < -1) {
                throw RequestException.of(ErrorCode.INVALID_REQUEST, "the condition of the append to "
                        + command.describeStreams() + " has after = " + command.condition().after()
                        + "; a position is >= 0 (leave it unset for none)");
            }
            validate(command.condition().failIfEventsMatch(), "the condition of the append to "
                    + command.describeStreams());
        }
    }

    /** Checks a query (of a read or a condition); {@code where} names it in the error. */
    public void validate(EventQuery query, String where) {
        if (query.items().size() > Limits.MAX_QUERY_ITEMS) {
            throw RequestException.of(ErrorCode.TOO_LARGE, where + " has a query of " + query.items().size()
                    + " items, the limit is " + Limits.MAX_QUERY_ITEMS);
        }
        for (int i = 0; i < query.items().size(); i++) {
            EventQuery.Item item = query.items().get(i);
            String place = where + ", query item " + i;
            if (item.types().size() > Limits.MAX_QUERY_ITEM_TYPES) {
                throw RequestException.of(ErrorCode.TOO_LARGE, place + " names " + item.types().size()
                        + " types, the limit is " + Limits.MAX_QUERY_ITEM_TYPES);
            }
            checkTags(item.tags(), place);
        }
    }

    /** Tags: at most the limit, each non-empty, not too long, without NUL, none twice. */
    private void checkTags(List<String> tags, String where) {
        if (tags.isEmpty()) {
            return;
        }
        if (tags.size() > limits.maxTagsPerEvent()) {
            throw RequestException.of(ErrorCode.TOO_LARGE, where + " has " + tags.size() + " tags, the limit is "
                    + limits.maxTagsPerEvent());
        }
        Set<String> seen = tags.size() > 1 ? new HashSet<>() : null;
        for (String tag : tags) {
            if (tag.isEmpty()) {
                throw RequestException.of(ErrorCode.INVALID_REQUEST, where + " has an empty tag");
            }
            if (tag.indexOf('\0') >= 0) {
                throw RequestException.of(ErrorCode.INVALID_REQUEST, where + " has a tag with a NUL character: '"
                        + tag.replace('\0', '?') + "'");
            }
            int bytes = com.google.common.base.Utf8.encodedLength(tag);
            if (bytes > limits.maxTagBytes()) {
                throw RequestException.of(ErrorCode.TOO_LARGE, where + " has a tag of " + bytes
                        + " bytes, the limit is " + limits.maxTagBytes() + ": '" + tag.substring(0, Math.min(40, tag.length())) + "...'");
            }
            if (seen != null && !seen.add(tag)) {
                throw RequestException.of(ErrorCode.INVALID_REQUEST, where + " has tag '" + tag + "' twice");
            }
        }
    }
}
