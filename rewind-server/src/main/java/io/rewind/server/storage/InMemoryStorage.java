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

/** Keeps everything on the heap; for tests and throwaway servers. Nothing survives a restart. */
public final class InMemoryStorage implements EventStorage {
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final List<StoredEvent> log = new ArrayList<>();
    private final Map<String, PositionList> streams = new HashMap<>();
    private final Map<UUID, EventLocation> ids = new HashMap<>();

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
    public void append(List<StoredEvent> events, boolean sync) {
        lock.writeLock().lock();
        try {
            verifyDense(events);
            for (StoredEvent event : events) {
                log.add(event);
                streams.computeIfAbsent(event.stream(), s -> new PositionList()).add(event.globalPosition());
                ids.put(event.eventId(), event.location());
            }
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
