package io.rewind.server.storage;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background cleanup of a RocksDB store: every interval, removes from the disk what the streams' lifecycles
 * hide and compacts erased events away ({@link RocksDbStorage#cleanup}), at most a number of events per second.
 * Its own thread, {@code rewind-cleanup}; a failed pass is logged and tried again at the next interval.
 */
public final class Cleanup implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Cleanup.class);
    private static final int BATCH = 1_000;

    private final RocksDbStorage storage;
    private final Duration interval;
    private final long eventsPerSecond;
    private final boolean replicated;
    private final Runnable afterPass;
    private final Thread thread;
    private volatile boolean closing;

    /**
     * @param replicated in a replicated group, ages are measured against the newest commit time stored (the log's
     *                   time, which every member shares), not this machine's clock
     * @param afterPass  run after each pass, on the cleanup's thread (in a group: the erasures' way out of the Raft
     *                   log); null for none
     */
    public Cleanup(RocksDbStorage storage, Duration interval, long eventsPerSecond, boolean replicated,
            Runnable afterPass) {
        this.storage = storage;
        this.interval = interval;
        this.eventsPerSecond = eventsPerSecond;
        this.replicated = replicated;
        this.afterPass = afterPass;
        this.thread = new Thread(this::run, "rewind-cleanup");
        this.thread.setDaemon(true);
    }

    public Cleanup start() {
        thread.start();
        return this;
    }

    private void run() {
        while (!closing) {
            try {
                TimeUnit.MILLISECONDS.sleep(interval.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            if (closing) {
                return;
            }
            try {
                long started = System.nanoTime();
                RocksDbStorage.CleanupReport report = storage.cleanup(logTimeMicros(), BATCH, this::pause);
                if (report.didWork()) {
                    log.info("Cleanup: removed {} events of {} streams from the disk, compacted {} erased events"
                            + " away, in {} ms ({} ms compacting)", report.removedEvents(), report.streams(),
                            report.erasedEvents(), (System.nanoTime() - started) / 1_000_000,
                            report.compactionMillis());
                }
                if (afterPass != null && !closing) {
                    afterPass.run();
                }
            } catch (RuntimeException e) {
                if (!closing) {
                    log.warn("Cleanup failed; trying again in {} ms: {}", interval.toMillis(), e.getMessage());
                }
            }
        }
    }

    /** The time against which ages count: this machine's alone, the newest commit time stored in a group. */
    private long logTimeMicros() {
        if (!replicated) {
            return Visibility.nowMicros();
        }
        long head = storage.nextPosition() - 1;
        if (head < 0) {
            return Long.MIN_VALUE;
        }
        List<StoredEvent> newest = storage.readAll(head, ReadDirection.BACKWARD, 1, Long.MAX_VALUE);
        return newest.isEmpty() ? Long.MIN_VALUE : newest.get(0).commitTimestampMicros();
    }

    /** After a batch of {@code removed} events: keeps to the rate; a close stops the wait. */
    private void pause(long removed) {
        if (closing) {
            throw new IllegalStateException("the server is stopping");
        }
        try {
            TimeUnit.MICROSECONDS.sleep(removed * 1_000_000L / eventsPerSecond);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() {
        closing = true;
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
