package io.rewind.server.core;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

/** Checks an append against the limits before it is queued, so the writer only sees well-formed appends. */
public final class AppendValidator {
    private final Limits limits;

    public AppendValidator(Limits limits) {
        this.limits = limits;
    }

    /** Throws a {@link RequestException} naming the first problem found. */
    public void validate(AppendCommand command) {
        StreamNames.validate(command.stream(), limits.maxStreamNameBytes());
        int count = command.events().size();
        if (count == 0) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST,
                    "append to stream '" + command.stream() + "' has no events");
        }
        if (count > limits.maxEventsPerAppend()) {
            throw RequestException.of(ErrorCode.TOO_LARGE, "append to stream '" + command.stream() + "' has "
                    + count + " events, the limit is " + limits.maxEventsPerAppend());
        }
        long total = 0;
        Set<UUID> ids = count > 1 ? new HashSet<>() : null;
        for (int i = 0; i < count; i++) {
            ProposedEvent event = command.events().get(i);
            long size = event.sizeInBytes();
            if (size > limits.maxEventBytes()) {
                throw RequestException.of(ErrorCode.TOO_LARGE, "event " + i + " of the append to stream '"
                        + command.stream() + "' is " + size + " bytes, the limit is " + limits.maxEventBytes());
            }
            total += size;
            if (ids != null && event.eventId() != null && !ids.add(event.eventId())) {
                throw RequestException.of(ErrorCode.INVALID_REQUEST, "event id " + event.eventId()
                        + " appears twice in the append to stream '" + command.stream() + "'");
            }
        }
        if (total > limits.maxAppendBytes()) {
            throw RequestException.of(ErrorCode.TOO_LARGE, "append to stream '" + command.stream() + "' is "
                    + total + " bytes, the limit is " + limits.maxAppendBytes());
        }
    }
}
