package io.rewind.server.core;

import io.rewind.server.storage.EventLocation;
import io.rewind.server.storage.EventStorage;
import io.rewind.server.storage.StoredEvent;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks and writes appends in groups. Any thread may {@link #submit} an append into the bounded
 * queue; one thread, the committer, calls {@link #commitQueued}, which takes what is waiting, checks
 * it in order (an append may depend on the one before it in the same group), writes the accepted ones
 * in one storage batch with one sync, and only then hands the group's outcomes, in commit order, to
 * the {@link CommitSink} on the same thread. A rejected append does not affect the others of its group.
 *
 * <p>The committer is the thread that reads the requests, so an append crosses no thread between
 * its request and its reply: on two cores, every hand-over between threads cost more than the work.
 * While a group syncs, ZeroMQ keeps receiving the next one.
 *
 * @param <T> what submitters attach to an append, e.g. where to send its reply
 */
public final class AppendWriter<T> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AppendWriter.class);

    /** Receives each committed group on the committer thread, in commit order. */
    @FunctionalInterface
    public interface CommitSink<T> {
        void committed(List<AppendOutcome<T>> outcomes);
    }

    /** Told of each group commit's storage write, on the committer thread: for metrics. */
    @FunctionalInterface
    public interface GroupObserver {
        void written(int events, long writeNanos);
    }

    private record Submission<T>(AppendCommand command, T attachment) {}

    /** Stream heads the writer knows without asking the storage; bounded, the least recently used go first. */
    private static final int HEAD_CACHE_STREAMS = 100_000;

    private final EventStorage storage;
    private final boolean sync;
    private final int maxGroupEvents;
    private final CommitSink<T> sink;
    private final Runnable wakeCommitter;
    private final BlockingQueue<Submission<T>> queue;
    /** Guards {@link #accepting} against a submit racing {@link #close()}. */
    private final Object submitLock = new Object();
    private volatile boolean accepting = true;
    private GroupObserver groupObserver = (events, nanos) -> { };
    /** The global position of the next event written; -1 until the first commit asks the storage. */
    private long nextGlobalPosition = -1;
    /** Set when a storage write failed: before the next one the storage recovers and positions are asked again. */
    private boolean storageFailed;
    /** Heads as committed, owned by the committer: a stream's head changes only through it. */
    private final Map<String, Long> headCache = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > HEAD_CACHE_STREAMS;
        }
    };
    /**
     * Ids for events sent without one. They need to be unique, not unpredictable: a generator seeded
     * once from a secure source is enough, and far cheaper than {@link UUID#randomUUID()} per event.
     */
    private final SplittableRandom idSource = new SplittableRandom(new SecureRandom().nextLong());

    /**
     * @param queueCapacity  most appends waiting; beyond it {@link #submit} refuses (back-pressure)
     * @param maxGroupEvents a group stops growing once it holds this many events
     * @param wakeCommitter  called after each accepted submit, so that a committer waiting for work
     *                       (not one that submits itself) knows there is some
     */
    public AppendWriter(EventStorage storage, boolean sync, int queueCapacity, int maxGroupEvents,
            CommitSink<T> sink, Runnable wakeCommitter) {
        this.storage = storage;
        this.sync = sync;
        this.maxGroupEvents = maxGroupEvents;
        this.sink = sink;
        this.wakeCommitter = wakeCommitter;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
    }

    /**
     * Queues an append. Returns false, queuing nothing, when the queue is full or the writer is
     * closed: the caller answers UNAVAILABLE.
     */
    public boolean submit(AppendCommand command, T attachment) {
        boolean queued;
        synchronized (submitLock) {
            queued = accepting && queue.offer(new Submission<>(command, attachment));
        }
        if (queued) {
            wakeCommitter.run();
        }
        return queued;
    }

    /** Has each group commit's write reported to the observer; call before the first commit. */
    public void observeGroups(GroupObserver observer) {
        this.groupObserver = observer;
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

    /**
     * Commits everything queued, in groups of at most {@code maxGroupEvents} events, and hands each
     * group's outcomes to the sink. Called by the committer thread only.
     *
     * @return the number of appends committed or rejected
     */
    public int commitQueued() {
        if (queue.isEmpty()) {
            return 0;
        }
        if (storageFailed) {
            try {
                storage.recoverWrites();
                storageFailed = false;
                // A reopened store may hold more than the writer knew: a write that failed after
                // reaching its log is replayed. Heads and positions are asked again.
                nextGlobalPosition = -1;
                headCache.clear();
            } catch (RuntimeException e) {
                return rejectQueued(RequestError.of(ErrorCode.UNAVAILABLE, "the storage cannot write: "
                        + e.getMessage() + "; nothing was stored, retry later"));
            }
        }
        if (nextGlobalPosition < 0) {
            nextGlobalPosition = storage.nextPosition();
        }
        List<Submission<T>> group = new ArrayList<>(queue.size());
        int handled = 0;
        Submission<T> next;
        while ((next = queue.poll()) != null) {
            group.add(next);
            int events = next.command().events().size();
            while (events < maxGroupEvents && (next = queue.poll()) != null) {
                group.add(next);
                events += next.command().events().size();
            }
            nextGlobalPosition = commit(group, nextGlobalPosition);
            statGroups++;
            statAppends += group.size();
            statEvents += events;
            handled += group.size();
            group.clear();
        }
        if (log.isDebugEnabled()) {
            logStatistics();
        }
        return handled;
    }

    /** Answers everything queued with this error, storing nothing. */
    private int rejectQueued(RequestError error) {
        List<AppendOutcome<T>> outcomes = new ArrayList<>();
        Submission<T> next;
        while ((next = queue.poll()) != null) {
            outcomes.add(AppendOutcome.failure(next.attachment(), error));
        }
        try {
            sink.committed(outcomes);
        } catch (RuntimeException e) {
            log.error("Commit sink failed", e);
        }
        return outcomes.size();
    }

    /** Validates and writes one group; returns the next global position after it. */
    private long commit(List<Submission<T>> group, long nextPosition) {
        GroupState state = new GroupState(nextPosition, storedIds(group));
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
            headCache.putAll(state.heads);
        } catch (RuntimeException e) {
            log.error("Could not write {} events of {} appends; rejecting them all: {}", state.toWrite.size(),
                    group.size(), e.getMessage());
            log.debug("Write failure", e);
            storageFailed = true;
            // Rejections too: they may have been judged against appends of this group that were never stored.
            RequestError error = RequestError.of(ErrorCode.INTERNAL, "storage write failed, the append was not"
                    + " acknowledged: " + e.getMessage());
            outcomes.replaceAll(o -> AppendOutcome.failure(o.attachment(), error));
        }
        long handOver = System.nanoTime();
        statWriteNanos += handOver - writeStart;
        if (!state.toWrite.isEmpty()) {
            groupObserver.written(state.toWrite.size(), handOver - writeStart);
        }
        try {
            sink.committed(outcomes);
        } catch (RuntimeException e) {
            log.error("Commit sink failed", e);
        }
        statSinkNanos += System.nanoTime() - handOver;
        return committedNext;
    }

    /**
     * Where the group's event ids are already stored, looked up in one batch (an id stored nowhere
     * is absent); null when the batched lookup failed.
     */
    private Map<UUID, EventLocation> storedIds(List<Submission<T>> group) {
        List<UUID> ids = new ArrayList<>();
        for (Submission<T> submission : group) {
            for (ProposedEvent event : submission.command().events()) {
                if (event.eventId() != null) {
                    ids.add(event.eventId());
                }
            }
        }
        try {
            return storage.locateAll(ids);
        } catch (RuntimeException e) {
            // Each append then looks its ids up alone, and fails alone if the storage does.
            log.warn("Could not look up the {} event ids of a group at once: {}", ids.size(), e.toString());
            return null;
        }
    }

    /** Stream heads and event ids as they will be once the group is written. */
    private final class GroupState {
        private final Map<String, Long> heads = new HashMap<>();
        private final Map<UUID, EventLocation> ids = new HashMap<>();
        private final List<StoredEvent> toWrite = new ArrayList<>();
        private final long commitMicros = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
        /** Where the group's ids were stored before it, or null to look each up alone. */
        private final Map<UUID, EventLocation> stored;
        private long nextPosition;
        /** Payload of {@link #toWrite}, as {@link StoredEvent#payloadSize()} counts it. */
        private long bytes;

        GroupState(long nextPosition, Map<UUID, EventLocation> stored) {
            this.nextPosition = nextPosition;
            this.stored = stored;
        }

        AppendOutcome<T> apply(Submission<T> submission) {
            AppendCommand command = submission.command();
            AppendResult duplicate = findDuplicate(command);
            if (duplicate != null) {
                return AppendOutcome.success(submission.attachment(), duplicate, List.of());
            }
            long head = heads.computeIfAbsent(command.stream(), this::committedHead);
            if (!command.expectedVersion().matches(head)) {
                throw RequestError.wrongExpectedVersion(command.stream(), command.expectedVersion(), head)
                        .asException();
            }
            long payload = 0;
            for (ProposedEvent event : command.events()) {
                payload += command.stream().length() + event.type().length() + event.data().length
                        + event.metadata().length;
            }
            String full = storage.capacityProblem(toWrite.size() + command.events().size(), bytes + payload);
            if (full != null) {
                throw RequestException.of(ErrorCode.UNAVAILABLE, full);
            }
            bytes += payload;
            List<StoredEvent> written = new ArrayList<>(command.events().size());
            long first = nextPosition;
            for (ProposedEvent event : command.events()) {
                UUID id = event.eventId() != null ? event.eventId() : newEventId();
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

        private long committedHead(String stream) {
            Long cached = headCache.get(stream);
            return cached != null ? cached : storage.streamVersion(stream);
        }

        /** A random (version 4) UUID. */
        private UUID newEventId() {
            long most = idSource.nextLong() & ~0xF000L | 0x4000L;
            long least = idSource.nextLong() & ~(0xC000L << 48) | (0x8000L << 48);
            return new UUID(most, least);
        }

        private EventLocation locate(UUID id) {
            EventLocation pending = ids.get(id);
            if (pending != null) {
                return pending;
            }
            return stored != null ? stored.get(id) : storage.locate(id).orElse(null);
        }
    }

    /**
     * Stops taking appends: a submit from now on returns false. The committer commits what is
     * already queued with a last {@link #commitQueued}.
     */
    @Override
    public void close() {
        synchronized (submitLock) {
            accepting = false;
        }
    }
}
