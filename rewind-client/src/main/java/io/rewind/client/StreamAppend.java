package io.rewind.client;

import java.util.List;
import java.util.Objects;

/**
 * One stream's part of a multi-stream append ({@link RewindClient#append(List, AppendCondition)}): its events and
 * the version it must be at.
 */
public record StreamAppend(String stream, ExpectedVersion expected, List<EventData> events) {

    public StreamAppend {
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(expected, "expected");
        events = List.copyOf(events);
    }

    public static StreamAppend of(String stream, ExpectedVersion expected, EventData... events) {
        return new StreamAppend(stream, expected, List.of(events));
    }
}
