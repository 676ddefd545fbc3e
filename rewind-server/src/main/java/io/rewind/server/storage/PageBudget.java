package io.rewind.server.storage;

import java.util.ArrayList;
import java.util.List;

/** Collects one read page: at most a number of events and, past the first event, at most a number of bytes. */
final class PageBudget {
    private final int maxCount;
    private final long maxBytes;
    private final List<StoredEvent> events;
    private long bytes;

    PageBudget(int maxCount, long maxBytes) {
        if (maxCount <= 0) {
            throw new IllegalArgumentException("maxCount must be positive, got " + maxCount);
        }
        this.maxCount = maxCount;
        this.maxBytes = maxBytes;
        this.events = new ArrayList<>(Math.min(maxCount, 1024));
    }

    /** Whether another event may be added at all. */
    boolean hasRoom() {
        return events.size() < maxCount && (events.isEmpty() || bytes < maxBytes);
    }

    /** Adds the event unless it would overflow the byte budget; returns whether it was added. */
    boolean offer(StoredEvent event) {
        long size = event.payloadSize();
        if (!events.isEmpty() && bytes + size > maxBytes) {
            return false;
        }
        events.add(event);
        bytes += size;
        return true;
    }

    List<StoredEvent> events() {
        return events;
    }
}
