package io.rewind.server.core;

import io.rewind.server.storage.EventStorage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks and writes appends in groups. Any thread may {@link #submit} an append into the bounded
 * queue; one thread, the committer, calls {@link #commitQueued}, which takes what is waiting, checks
 * it in order with an {@link AppendDecider} (an append may depend on the one before it in the same
 * group), writes the accepted ones in one storage batch with one sync, and only then hands the
 * group's outcomes, in commit order, to the {@link CommitSink} on the same thread. A rejected append
 * does not affect the others of its group.
 *
 * <p>In a replicated group the committer does not write: each group goes to a {@link Replicator},
 * which proposes it as one entry of the replicated log, and the outcomes come later, when the entry is
 * applied (see {@code io.rewind.server.replication}).
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

    /** Takes groups instead of the storage, on the committer thread, when the store is replicated. */
    public interface Replicator<T> {
        /**
         * Proposes one group. Every event of the commands has an id (the writer assigns those the clients
         * did not), so that every member stores the same. The replicator answers each attachment later.
         */
        void propose(List<AppendCommand> commands, List<T> attachments);

        /** Most payload bytes in one group: a replicated log entry stays below what its transport takes. */
        long maxGroupBytes();

        /**
         * Whether a group may be proposed now. While it may not (enough entries are on their way), appends
         * wait in the queue and the next group proposed is the larger for it, as a sync makes the groups of a
         * single server larger.
         */
        boolean canPropose();
    }

    private record Submission<T>(AppendCommand command, T attachment) {}

    private final EventStorage storage;
    private final AppendDecider decider;
    private final boolean sync;
    private final int maxGroupEvents;
    private final CommitSink<T> sink;
    private final Runnable wakeCommitter;
    private final BlockingQueue<Submission<T>> queue;
    /** Guards {@link #accepting} against a submit racing {@link #close()}. */
    private final Object submitLock = new Object();
    private volatile boolean accepting = true;
    private GroupObserver groupObserver = (events, nanos) -> { };
    private Replicator<T> replicator;
    /** Set when a storage write failed: before the next one the storage recovers and positions are asked again. */
    private boolean storageFailed;

    /**
     * @param queueCapacity  most appends waiting; beyond it {@link #submit} refuses (back-pressure)
     * @param maxGroupEvents a group stops growing once it holds this many events
     * @param wakeCommitter  called after each accepted submit, so that a committer waiting for work
     *                       (not one that submits itself) knows there is some
     */
    public AppendWriter(EventStorage storage, boolean sync, int queueCapacity, int maxGroupEvents,
            CommitSink<T> sink, Runnable wakeCommitter) {
        this.storage = storage;
        this.decider = new AppendDecider(storage);
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

    /** Sends every group to the replicator instead of the storage; call before the first commit. */
    public void replicateThrough(Replicator<T> replicator) {
        this.replicator = replicator;
    }

    /** Appends waiting to be committed. */
    public int queued() {
        return queue.size();
    }

    /** Whether {@link #commitQueued} has work it can do now. */
    public boolean canCommit() {
        return !queue.isEmpty() && (replicator == null || replicator.canPropose());
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
     * Commits (or, replicated, proposes) everything queued, in groups of at most {@code maxGroupEvents}
     * events, and hands each committed group's outcomes to the sink. Called by the committer thread only.
     *
     * @return the number of appends committed, rejected or proposed
     */
    public int commitQueued() {
        if (queue.isEmpty() || replicator != null && !replicator.canPropose()) {
            return 0;
        }
        if (replicator == null && storageFailed) {
            try {
                storage.recoverWrites();
                storageFailed = false;
                // A reopened store may hold more than the writer knew: a write that failed after
                // reaching its log is replayed. Heads and positions are asked again.
                decider.forget();
            } catch (RuntimeException e) {
                return rejectQueued(RequestError.of(ErrorCode.UNAVAILABLE, "the storage cannot write: "
                        + e.getMessage() + "; nothing was stored, retry later"));
            }
        }
        // Only a replicated group bounds a group in bytes (a log entry); alone, appends are not measured here.
        boolean boundedInBytes = replicator != null;
        long maxBytes = boundedInBytes ? replicator.maxGroupBytes() : Long.MAX_VALUE;
        List<AppendCommand> commands = new ArrayList<>(queue.size());
        List<T> attachments = new ArrayList<>(queue.size());
        int handled = 0;
        Submission<T> next = queue.poll();
        long nextBytes = boundedInBytes && next != null ? next.command().payloadBytes() : 0;
        while (next != null) {
            int events = 0;
            long bytes = 0;
            // A group takes at least one append, then more while they fit.
            do {
                commands.add(next.command());
                attachments.add(next.attachment());
                events += next.command().eventCount();
                bytes += nextBytes;
                next = queue.poll();
                nextBytes = boundedInBytes && next != null ? next.command().payloadBytes() : 0;
            } while (next != null && events < maxGroupEvents && bytes + nextBytes <= maxBytes);
            if (replicator != null) {
                replicator.propose(withIds(commands), List.copyOf(attachments));
            } else {
                commit(commands, attachments);
            }
            statGroups++;
            statAppends += commands.size();
            statEvents += events;
            handled += commands.size();
            commands.clear();
            attachments.clear();
        }
        if (log.isDebugEnabled()) {
            logStatistics();
        }
        return handled;
    }

    /** The commands with an id on every event: those sent without get a random one now. */
    private List<AppendCommand> withIds(List<AppendCommand> commands) {
        List<AppendCommand> complete = new ArrayList<>(commands.size());
        for (AppendCommand command : commands) {
            if (command.parts().stream().allMatch(part -> part.events().stream().allMatch(e -> e.eventId() != null))) {
                complete.add(command);
                continue;
            }
            List<StreamPart> parts = new ArrayList<>(command.parts().size());
            for (StreamPart part : command.parts()) {
                List<ProposedEvent> events = new ArrayList<>(part.events().size());
                for (ProposedEvent event : part.events()) {
                    events.add(event.eventId() != null ? event : event.withId(decider.newEventId()));
                }
                parts.add(new StreamPart(part.stream(), part.expectedVersion(), events));
            }
            complete.add(new AppendCommand(parts, command.condition()));
        }
        return complete;
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

    /** Decides and writes one group, then hands its outcomes to the sink. */
    private void commit(List<AppendCommand> commands, List<T> attachments) {
        // The one clock of commit times, here and in a replicated group's proposals (the decider keeps them rising).
        long commitMicros = io.rewind.server.storage.Visibility.nowMicros();
        AppendDecider.Decision<T> decision = decider.decide(commands, attachments, commitMicros, true);
        List<AppendOutcome<T>> outcomes = decision.outcomes();
        long writeStart = System.nanoTime();
        try {
            storage.write(decision.changes(), sync);
            decider.written(decision);
        } catch (RuntimeException e) {
            log.error("Could not write {} events of {} appends; rejecting them all: {}", decision.toWrite().size(),
                    commands.size(), e.getMessage());
            log.debug("Write failure", e);
            storageFailed = true;
            // Rejections too: they may have been judged against appends of this group that were never stored.
            RequestError error = RequestError.of(ErrorCode.INTERNAL, "storage write failed, the append was not"
                    + " acknowledged: " + e.getMessage());
            outcomes = new ArrayList<>(outcomes);
            outcomes.replaceAll(o -> AppendOutcome.failure(o.attachment(), error));
        }
        long handOver = System.nanoTime();
        statWriteNanos += handOver - writeStart;
        if (!decision.toWrite().isEmpty()) {
            groupObserver.written(decision.toWrite().size(), handOver - writeStart);
        }
        try {
            sink.committed(outcomes);
        } catch (RuntimeException e) {
            log.error("Commit sink failed", e);
        }
        statSinkNanos += System.nanoTime() - handOver;
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
