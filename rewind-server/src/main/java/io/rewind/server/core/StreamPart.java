package io.rewind.server.core;

import java.util.List;

/** One stream's events in an append, with the version the stream must be at. */
public record StreamPart(String stream, ExpectedVersion expectedVersion, List<ProposedEvent> events) {
    public StreamPart {
        events = List.copyOf(events);
    }
}
