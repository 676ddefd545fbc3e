package io.rewind.server.core;

import io.rewind.server.storage.EventLocation;
import io.rewind.server.storage.EventStorage;
import io.rewind.server.storage.StoredEvent;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that writes. It takes every append waiting in its bounded queue, checks them in
 * order (an append may depend on the one before it in the same group), writes the accepted ones in
 * one storage batch with one sync, and only then hands the group's outcomes, in commit order, to the
 * {@link CommitSink}. A rejected append does not affect the others of its group.
 *
 * @param <T> what submitters attach to an append, e.g. where to send its reply
 */
public final class AppendWriter<T> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AppendWriter.class);

    /** Receives each committed group on the writer thread, in commit order. */
    @FunctionalInterface
    public interface CommitSink<T> {
        void committed(List<AppendOutcome<T>> outcomes);
    }

    private record Submission<T>(AppendCommand command, T attachment) {}

    private final EventStorage storage;
    private final boolean sync;
    private final int maxGroupEvents;
    private final CommitSink<T> sink;
    private final BlockingQueue<Submission<T>> queue;
    private final Thread thread;
    /** Guards {@link #accepting} against a submit racing the writer's last drain at close. */
    private final Object submitLock = new Object();
    private volatile boolean accepting = true;

    /**
     * @param queueCapacity  most appends waiting; beyond it {@link #submit} refuses (back-pressure)
     * @param maxGroupEvents a group stops growing once it holds this many events
     */
    public AppendWriter(EventStorage storage, boolean sync, int queueCapacity, int maxGroupEvents,
            CommitSink<T> sink) {
        this.storage = storage;
        this.sync = sync;
        this.maxGroupEvents = maxGroupEvents;
        this.sink = sink;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.thread = new Thread(this::run, "rewind-writer");
    }

    public void start() {
        thread.start();
    }

    /**
     * Queues an append. Returns false, queuing nothing, when the queue is full or the writer is
     * shutting down: the caller answers UNAVAILABLE.
     */
    public boolean submit(AppendCommand command, T attachment) {
        synchronized (submitLock) {
            return accepting && queue.offer(new Submission<>(command, attachment));
        }
    }

    /** Appends waiting to be committed. */
    public int queued() {
        return queue.size();
    }

    /** Counts for the periodic DEBUG line: how big groups are and where the writer's time goes. */
    private long statGroups;
    private long statAppends;
    private long statEvents;
    private long statWriteNanos;
    private long statSinkNanos;
    private long statSince = System.nanoTime();

    private void logStatistics() {
        long now = System.nanoTime();
        if (now - statSince < 10_000_000_000L || statGroups == 0) {
            return;
        }
        log.debug("Writer: {} groups, {} appends, {} events in {} ms; {} appends per group; writing {} ms,"
                        + " handing over {} ms", statGroups, statAppends, statEvents, (now - statSince) / 1_000_000,
                statAppends / statGroups, statWriteNanos / 1_000_000, statSinkNanos / 1_000_000);
        statGroups = statAppends = statEvents = statWriteNanos = statSinkNanos = 0;
        statSince = now;
    }

    private void run() {
        List<Submission<T>> group = new ArrayList<>();
        long nextPosition = storage.nextPosition();
        while (accepting || !queue.isEmpty()) {
            Submission<T> first;
            try {
                first = queue.poll(50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (first == null) {
                continue;
            }
            group.add(first);
            int events = first.command().events().size();
            Submission<T> next;
            while (events < maxGroupEvents && (next = queue.poll()) != null) {
                group.add(next);
                events += next.command().events().size();
            }
            nextPosition = commit(group, nextPosition);
            statGroups++;
            statAppends += group.size();
            statEvents += events;
            group.clear();
            if (log.isDebugEnabled()) {
                logStatistics();
            }
        }
        log.debug("Writer stopped");
    }

    /** Validates and writes one group; returns the next global position after it. */
    private long commit(List<Submission<T>> group, long nextPosition) {
        GroupState state = new GroupState(nextPosition);
        List<AppendOutcome<T>> outcomes = new ArrayList<>(group.size());
        for (Submission<T> submission : group) {
            try {
                outcomes.add(state.apply(submission));
            } catch (RequestException e) {
                outcomes.add(AppendOutcome.failure(submission.attachment(), e.error()));
            } catch (RuntimeException e) {
                log.error("Could not check the append to stream '{}'", submission.command().stream(), e);
                outcomes.add(AppendOutcome.failure(submission.attachment(),
                        RequestError.of(ErrorCode.INTERNAL, "server error checking the append: " + e.getMessage())));
            }
        }
        long committedNext = nextPosition;
        long writeStart = System.nanoTime();
        try {
            storage.append(state.toWrite, sync);
            committedNext = state.nextPosition;
        } catch (RuntimeException e) {
            log.error("Could not write {} events of {} appends; rejecting them all", state.toWrite.size(),
                    group.size(), e);
            // Rejections too: they may have been judged against appends of this group that were never stored.
            RequestError error = RequestError.of(ErrorCode.INTERNAL, "storage write failed, nothing was stored: "
                    + e.getMessage());
            outcomes.replaceAll(o -> AppendOutcome.failure(o.attachment(), error));
        }
        long handOver = System.nanoTime();
        statWriteNanos += handOver - writeStart;
        try {
            sink.committed(outcomes);
        } catch (RuntimeException e) {
            log.error("Commit sink failed", e);
        }
        statSinkNanos += System.nanoTime() - handOver;
        return committedNext;
    }

    /** Stream heads and event ids as they will be once the group is written. */
    private final class GroupState {
        private final Map<String, Long> heads = new HashMap<>();
        private final Map<UUID, EventLocation> ids = new HashMap<>();
        private final List<StoredEvent> toWrite = new ArrayList<>();
        private final long commitMicros = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
        private long nextPosition;

        GroupState(long nextPosition) {
            this.nextPosition = nextPosition;
        }

        AppendOutcome<T> apply(Submission<T> submission) {
            AppendCommand command = submission.command();
            AppendResult duplicate = findDuplicate(command);
            if (duplicate != null) {
                return AppendOutcome.success(submission.attachment(), duplicate, List.of());
            }
            long head = heads.computeIfAbsent(command.stream(), storage::streamVersion);
            if (!command.expectedVersion().matches(head)) {
                throw RequestError.wrongExpectedVersion(command.stream(), command.expectedVersion(), head)
                        .asException();
            }
            List<StoredEvent> written = new ArrayList<>(command.events().size());
            long first = nextPosition;
            for (ProposedEvent event : command.events()) {
                UUID id = event.eventId() != null ? event.eventId() : UUID.randomUUID();
                StoredEvent stored = new StoredEvent(id, command.stream(), ++head, nextPosition++, event.type(),
                        event.data(), event.metadata(), commitMicros);
                written.add(stored);
                ids.put(id, stored.location());
            }
            heads.put(command.stream(), head);
            toWrite.addAll(written);
            return AppendOutcome.success(submission.attachment(),
                    new AppendResult(first, nextPosition - 1, head, false), written);
        }

        /**
         * The original result when every event of the append was already committed, in the same
         * stream and order; null when none was; an error when only some were.
         */
        private AppendResult findDuplicate(AppendCommand command) {
            List<ProposedEvent> events = command.events();
            EventLocation first = events.get(0).eventId() == null ? null : locate(events.get(0).eventId());
            for (int i = 0; i < events.size(); i++) {
                UUID id = events.get(i).eventId();
                EventLocation found = id == null ? null : (i == 0 ? first : locate(id));
                boolean matches = first != null && found != null && found.stream().equals(command.stream())
                        && found.streamVersion() == first.streamVersion() + i
                        && found.globalPosition() == first.globalPosition() + i;
                if (first == null && found != null || first != null && !matches) {
                    throw RequestException.of(ErrorCode.INVALID_REQUEST, "event " + i + " of the append to stream '"
                            + command.stream() + "' does not match what is stored: "
                            + (found == null ? "event " + id + " is not stored, but event " + events.get(0).eventId()
                                    + " is"
                                    : "event id " + id + " is already stored in stream '" + found.stream()
                                            + "' at version " + found.streamVersion()));
                }
            }
            if (first == null) {
                return null;
            }
            int last = events.size() - 1;
            return new AppendResult(first.globalPosition(), first.globalPosition() + last,
                    first.streamVersion() + last, true);
        }

        private EventLocation locate(UUID id) {
            EventLocation pending = ids.get(id);
            if (pending != null) {
                return pending;
            }
            Optional<EventLocation> stored = storage.locate(id);
            return stored.orElse(null);
        }
    }

    /** Stops taking appends, commits every one already queued, and waits for the thread to end. */
    @Override
    public void close() {
        synchronized (submitLock) {
            accepting = false;
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
