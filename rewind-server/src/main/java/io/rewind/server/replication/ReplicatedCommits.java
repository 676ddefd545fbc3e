package io.rewind.server.replication;

import com.google.protobuf.ByteString;
import io.rewind.server.replication.log.ReplicatedAppends;
import io.rewind.server.core.AppendCommand;
import io.rewind.server.core.AppendOutcome;
import io.rewind.server.core.AppendWriter;
import io.rewind.server.core.ErrorCode;
import io.rewind.server.core.RequestError;
import io.rewind.server.storage.Visibility;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The command thread's side of replication. As leader, it turns each group the writer takes from its
 * queue into one entry of the replicated log and remembers whom to answer; every applied entry (on
 * every member, whoever proposed it) comes back through {@link #applied} and is handed to the commit
 * sink on the command thread, in log order: the sink publishes its events on this member's live feed
 * and answers the appends this process proposed. An entry the log did not take is answered with
 * NOT_LEADER or UNAVAILABLE; a client retries it with the same event ids, so one that was taken after
 * all is stored once.
 *
 * @param <T> what the writer's submitters attach: where to send the reply
 */
public final class ReplicatedCommits<T> implements AppendWriter.Replicator<T>, RewindStateMachine.Listener {
    private static final Logger log = LoggerFactory.getLogger(ReplicatedCommits.class);

    private record Failure(long sequence, Throwable error) {}

    /**
     * Entries the leader keeps on their way through the log at once. More appends meanwhile wait and go
     * into the next entry: a few large entries cost Ratis far less than many small ones.
     */
    static final int MAX_ENTRIES_IN_FLIGHT = 4;

    private final String nodeId;
    private final AppendWriter.CommitSink<T> sink;
    private final Runnable wakeCommandThread;
    /** Names this process in the entries it proposes: a restarted process is another proposer. */
    private final byte[] proposer = new byte[16];
    private final ByteString proposerBytes;
    private final long maxGroupBytes;
    private volatile RaftReplication raft;
    /** Command thread only: the attachments of each entry proposed and not yet answered, by sequence. */
    private final Map<Long, List<T>> waiting = new HashMap<>();
    /** Command thread only: when each entry in {@link #waiting} was proposed, for the DEBUG timing line. */
    private final Map<Long, Long> proposedAt = new HashMap<>();
    private long sequence;
    private final Queue<RewindStateMachine.Applied> applied = new ConcurrentLinkedQueue<>();
    private final Queue<Failure> failures = new ConcurrentLinkedQueue<>();

    /**
     * @param sink              gets each applied entry's outcomes, and the failures, on the command thread
     * @param wakeCommandThread called from other threads when there is something to hand over
     */
    public ReplicatedCommits(String nodeId, long maxGroupBytes, AppendWriter.CommitSink<T> sink,
            Runnable wakeCommandThread) {
        this.nodeId = nodeId;
        this.maxGroupBytes = maxGroupBytes;
        this.sink = sink;
        this.wakeCommandThread = wakeCommandThread;
        new SecureRandom().nextBytes(proposer);
        this.proposerBytes = ByteString.copyFrom(proposer);
    }

    /** Connects the Raft member, once started: proposals before it are refused as from a follower. */
    public void attach(RaftReplication raft) {
        this.raft = raft;
    }

    @Override
    public long maxGroupBytes() {
        return maxGroupBytes;
    }

    @Override
    public boolean canPropose() {
        return waiting.size() < MAX_ENTRIES_IN_FLIGHT;
    }

    @Override
    public void propose(List<AppendCommand> commands, List<T> attachments) {
        RaftReplication member = raft;
        if (member == null || !member.isLeader()) {
            RequestError error = RequestError.notLeader(nodeId, member == null ? new RequestError.Leader("", "")
                    : member.leader());
            answer(attachments, error);
            return;
        }
        long number = ++sequence;
        ReplicatedAppends entry = EntryCodec.encode(proposerBytes, number, Visibility.nowMicros(), commands);
        waiting.put(number, attachments);
        proposedAt.put(number, System.nanoTime());
        member.propose(entry).whenComplete((reply, error) -> {
            Throwable failure = error != null ? error : reply.isSuccess() ? null : reply.getException();
            if (failure != null) {
                failures.add(new Failure(number, failure));
                wakeCommandThread.run();
            }
        });
    }

    /** On the apply thread: queues the entry for the command thread. */
    @Override
    public void applied(RewindStateMachine.Applied entry) {
        applied.add(entry);
        wakeCommandThread.run();
    }

    /** Whether applied entries or failures wait for {@link #handOver}. */
    public boolean pending() {
        return !applied.isEmpty() || !failures.isEmpty();
    }

    /** On the command thread: hands applied entries to the sink in log order, then answers failed proposals. */
    public void handOver() {
        RewindStateMachine.Applied entry;
        while ((entry = applied.poll()) != null) {
            List<T> owners = Arrays.equals(entry.proposer(), proposer) ? waiting.remove(entry.sequence()) : null;
            Long at = proposedAt.remove(entry.sequence());
            if (at != null && log.isDebugEnabled()) {
                log.debug("Entry {} ({} appends): {} us from its proposal to its hand-over, {} us of it after it was"
                        + " applied", entry.sequence(), entry.outcomes().size(), (System.nanoTime() - at) / 1000,
                        (System.nanoTime() - entry.appliedNanos()) / 1000);
            }
            if (entry.undecodable() != null) {
                if (owners != null) {
                    answer(owners, RequestError.of(ErrorCode.INTERNAL, "the replicated log entry holding the append"
                            + " did not decode on applying (" + entry.undecodable() + "); every member skipped it,"
                            + " nothing was stored. Retry it with the same event ids"));
                }
                continue;
            }
            List<AppendOutcome<T>> outcomes = new ArrayList<>(entry.outcomes().size());
            for (AppendOutcome<Integer> outcome : entry.outcomes()) {
                T attachment = owners == null ? null : owners.get(outcome.attachment());
                outcomes.add(outcome.withAttachment(attachment));
            }
            deliver(outcomes);
        }
        Failure failure;
        while ((failure = failures.poll()) != null) {
            List<T> owners = waiting.remove(failure.sequence());
            proposedAt.remove(failure.sequence());
            if (owners != null) {
                answer(owners, toError(failure.error()));
            }
        }
    }

    private RequestError toError(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        RaftReplication member = raft;
        if (cause instanceof NotLeaderException || member != null && !member.isLeader()) {
            return RequestError.notLeader(nodeId, member == null ? new RequestError.Leader("", "") : member.leader());
        }
        log.debug("The replicated log did not take an entry", cause);
        return RequestError.of(ErrorCode.UNAVAILABLE, "the replicated log did not take the append ("
                + (cause instanceof RaftException ? cause.getMessage() : cause.toString()) + "); it was not"
                + " acknowledged, retry it with the same event ids");
    }

    private void answer(List<T> attachments, RequestError error) {
        List<AppendOutcome<T>> outcomes = new ArrayList<>(attachments.size());
        for (T attachment : attachments) {
            outcomes.add(new AppendOutcome<>(attachment, null, List.of(), error));
        }
        deliver(outcomes);
    }

    private void deliver(List<AppendOutcome<T>> outcomes) {
        try {
            sink.committed(outcomes);
        } catch (RuntimeException e) {
            log.error("Commit sink failed", e);
        }
    }
}
