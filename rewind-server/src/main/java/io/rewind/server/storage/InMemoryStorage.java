package io.rewind.server.storage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Keeps everything on the heap; for tests and throwaway servers. Nothing survives a restart.
 *
 * <p>Bounded: once the events it holds would take more than its limit of heap, appends are refused
 * with the reason, and reads go on. Without a bound, a busy test server filled its heap and died of
 * an OutOfMemoryError in the middle of a request.
 */
public final class InMemoryStorage implements EventStorage {
    /**
     * Heap an event takes besides its payload, estimated from the objects it needs on a 64-bit JVM with
     * compressed pointers: the event record (40), its id (32) and the id map's entry and location (80),
     * the headers of its arrays and strings (64), its slots in the log and its stream's positions (12),
     * with room to spare.
     */
    public static final long EVENT_OVERHEAD_BYTES = 240;

    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final long maxBytes;
    /** Estimated heap the stored events take; written by the writer thread only. */
    private volatile long bytes;
    private final List<StoredEvent> log = new ArrayList<>();
    private final Map<String, PositionList> streams = new HashMap<>();
    private final Map<UUID, EventLocation> ids = new HashMap<>();
    /** Positions of the events that carry each tag, and of the events of each type: the query indexes. */
    private final Map<String, PositionList> tags = new HashMap<>();
    private final Map<String, PositionList> types = new HashMap<>();
    private final Map<String, StreamState> states = new java.util.concurrent.ConcurrentHashMap<>();

    /** An unbounded store. */
    public InMemoryStorage() {
        this(Long.MAX_VALUE);
    }

    /** @param maxBytes the most heap the events may take, estimated by {@link #footprint} */
    public InMemoryStorage(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** The heap an event of this payload is taken to use. */
    static long footprint(long events, long payloadBytes) {
        return events * EVENT_OVERHEAD_BYTES + payloadBytes;
    }

    /** The estimated heap the stored events take. */
    public long bytes() {
        return bytes;
    }

    @Override
    public String capacityProblem(long events, long payloadBytes) {
        long needed = footprint(events, payloadBytes);
        if (bytes + needed <= maxBytes) {
            return null;
        }
        return "the in-memory store is full: its events take about " + (bytes >> 20) + " MiB of its "
                + (maxBytes >> 20) + " MiB limit (--memory-limit), and this append needs " + needed
                + " bytes more; reads go on, and nothing more can be stored until the server restarts (use"
                + " --storage rocksdb to keep more)";
    }

    @Override
    public String engine() {
        return "memory";
    }

    @Override
    public long nextPosition() {
        lock.readLock().lock();
        try {
            return log.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public long streamCount() {
        lock.readLock().lock();
        try {
            return streams.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public long streamVersion(String stream) {
        lock.readLock().lock();
        try {
            PositionList positions = streams.get(stream);
            return positions == null ? -1 : positions.size - 1;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public Optional<EventLocation> locate(UUID eventId) {
        lock.readLock().lock();
        try {
            return Optional.ofNullable(ids.get(eventId));
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public StreamState streamState(String stream) {
        return states.getOrDefault(stream, StreamState.NONE);
    }

    @Override
    public Map<String, StreamState> streamStates() {
        return java.util.Collections.unmodifiableMap(states);
    }

    @Override
    public void write(Changes changes, boolean sync) {
        List<StoredEvent> events = changes.events();
        lock.writeLock().lock();
        try {
            verifyDense(events);
            for (long position : changes.erasures()) {
                if (position < 0 || position >= log.size()) {
                    throw new StorageException("cannot erase the event at position " + position + ": there is none");
                }
            }
            long added = 0;
            for (StoredEvent event : events) {
                added += footprint(1, event.payloadSize());
                log.add(event);
                streams.computeIfAbsent(event.stream(), s -> new PositionList()).add(event.globalPosition());
                ids.put(event.eventId(), event.location());
                for (String tag : event.tags()) {
                    tags.computeIfAbsent(tag, t -> new PositionList()).add(event.globalPosition());
                }
                types.computeIfAbsent(event.type(), t -> new PositionList()).add(event.globalPosition());
            }
            for (long position : changes.erasures()) {
                StoredEvent erased = log.get((int) position);
                added -= erased.data().length + erased.metadata().length;
                log.set((int) position, erased.erase());
            }
            states.putAll(changes.states());
            bytes += added;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Checks the whole batch before touching anything, so a bad batch stores nothing. */
    private void verifyDense(List<StoredEvent> events) {
        Map<String, Long> heads = new HashMap<>();
        long position = log.size();
        for (StoredEvent event : events) {
            long head = heads.computeIfAbsent(event.stream(), s -> {
                PositionList positions = streams.get(s);
                return positions == null ? -1L : positions.size - 1L;
            });
            if (event.globalPosition() != position || event.streamVersion() != head + 1) {
                throw new StorageException("append is not dense: event " + event.eventId() + " of stream '"
                        + event.stream() + "' has version " + event.streamVersion() + " and position "
                        + event.globalPosition() + ", expected " + (head + 1) + " and " + position);
            }
            heads.put(event.stream(), head + 1);
            position++;
        }
    }

    @Override
    public List<StoredEvent> readAll(long fromPosition, ReadDirection direction, int maxCount, long maxBytes) {
        PageBudget page = new PageBudget(maxCount, maxBytes);
        lock.readLock().lock();
        try {
            int step = direction == ReadDirection.FORWARD ? 1 : -1;
            for (long p = clamp(fromPosition, log.size(), direction); p >= 0 && p < log.size() && page.hasRoom();
                    p += step) {
                if (!page.offer(log.get((int) p))) {
                    break;
                }
            }
        } finally {
            lock.readLock().unlock();
        }
        return page.events();
    }

    @Override
    public List<StoredEvent> readStream(String stream, long fromVersion, ReadDirection direction, int maxCount,
            long maxBytes) {
        PageBudget page = new PageBudget(maxCount, maxBytes);
        lock.readLock().lock();
        try {
            PositionList positions = streams.get(stream);
            if (positions == null) {
                return page.events();
            }
            int step = direction == ReadDirection.FORWARD ? 1 : -1;
            for (long v = clamp(fromVersion, positions.size, direction); v >= 0 && v < positions.size
                    && page.hasRoom(); v += step) {
                if (!page.offer(log.get((int) positions.get((int) v)))) {
                    break;
                }
            }
        } finally {
            lock.readLock().unlock();
        }
        return page.events();
    }

    @Override
    public QueryPage readQuery(EventQuery query, long fromPosition, ReadDirection direction, int maxCount,
            long maxBytes) {
        lock.readLock().lock();
        try {
            return PositionCursor.readPage(cursor(query, direction), fromPosition, direction, log.size(),
                    new PageBudget(maxCount, maxBytes), position -> log.get((int) (long) position));
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public long firstMatch(EventQuery query, long after) {
        lock.readLock().lock();
        try {
            return cursor(query, ReadDirection.FORWARD).seek(after + 1);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The caller holds the read lock. */
    private PositionCursor cursor(EventQuery query, ReadDirection direction) {
        boolean forward = direction == ReadDirection.FORWARD;
        return PositionCursor.of(query, direction, log.size(), tag -> postings(tags, tag, forward),
                type -> postings(types, type, forward));
    }

    private static PositionCursor postings(Map<String, PositionList> index, String key, boolean forward) {
        PositionList positions = index.get(key);
        return positions == null ? target -> PositionCursor.NONE
                : new PositionCursor.Sorted(positions.values, positions.size, forward);
    }

    /** A backward read from past the end starts at the last element. */
    private static long clamp(long from, long size, ReadDirection direction) {
        return direction == ReadDirection.BACKWARD ? Math.min(from, size - 1) : from;
    }

    @Override
    public void close() {
        // Nothing to release.
    }

    /** A growable array of global positions, without boxing. */
    private static final class PositionList {
        private long[] values = new long[4];
        private int size;

        void add(long value) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = value;
        }

        long get(int index) {
            return values[index];
        }
    }
}
