package io.rewind.server.core;

import java.util.List;

/** A request to append events to one stream, atomically. */
public record AppendCommand(String stream, ExpectedVersion expectedVersion, List<ProposedEvent> events) {}
