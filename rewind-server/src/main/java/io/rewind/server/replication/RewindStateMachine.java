package io.rewind.server.replication;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rewind.protocol.v1.AppendRequest;
import io.rewind.protocol.v1.ReplicatedAppends;
import io.rewind.server.FatalErrors;
import io.rewind.server.core.AppendCommand;
import io.rewind.server.core.AppendDecider;
import io.rewind.server.core.AppendOutcome;
import io.rewind.server.storage.RocksDbStorage;
import io.rewind.server.transport.ProtoCodec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the replicated log to the store: every member runs each entry ({@link ReplicatedAppends})
 * through the same {@link AppendDecider}, in log order, so each decides the same expected-version
 * conflicts and duplicates, assigns the same positions and stores byte-identical events. The entry's
 * Raft term and index are stored in the same atomic write as its events, which is what makes the
 * RocksDB store itself the state machine's snapshot: after a restart Ratis replays the entries after
 * that index, and nothing before it.
 *
 * <p>Runs on Ratis' apply thread, the store's only writer in a replicated group. What each entry
 * decided goes to the {@link Listener}, which publishes it and answers the appends this process
 * proposed.
 */
final class RewindStateMachine extends BaseStateMachine {
    private static final Logger log = LoggerFactory.getLogger(RewindStateMachine.class);

    /** One applied entry and what it decided, append by append; attachments are the appends' indexes. */
    record Applied(byte[] proposer, long sequence, List<AppendOutcome<Integer>> outcomes) {}

    /** Told of every applied entry, on the apply thread, in log order. */
    interface Listener {
        void applied(Applied entry);
    }

    private final RocksDbStorage storage;
    private final AppendDecider decider;
    private final Listener listener;

    RewindStateMachine(RocksDbStorage storage, Listener listener) {
        this.storage = storage;
        this.decider = new AppendDecider(storage);
        this.listener = listener;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        TermIndex applied = storedTermIndex();
        setLastAppliedTermIndex(applied);
        log.info("The store holds the replicated log up to index {} (term {}); later entries are applied from the log",
                applied.getIndex(), applied.getTerm());
    }

    private TermIndex storedTermIndex() {
        long[] stored = storage.replicatedTermIndex();
        return stored == null ? TermIndex.INITIAL_VALUE : TermIndex.valueOf(stored[0], stored[1]);
    }

    /**
     * The store is the snapshot: it holds every entry up to the index stored with the last one applied,
     * and Ratis replays the log after it. It has no files to send: a member that falls behind catches up
     * from the leader's log, which is kept whole ({@link #takeSnapshot()} is never asked to purge it: it
     * is BaseStateMachine's, which takes none).
     */
    @Override
    public SnapshotInfo getLatestSnapshot() {
        TermIndex stored = storedTermIndex();
        return stored.getIndex() < 0 ? null : new FileListSnapshotInfo(List.of(), stored);
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext transaction) {
        LogEntryProto entry = transaction.getLogEntry();
        ReplicatedAppends appends;
        try {
            appends = ReplicatedAppends.parseFrom(entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
        } catch (InvalidProtocolBufferException e) {
            FatalErrors.halt("replicated log entry " + entry.getIndex() + " is not a Rewind entry (" + e.getMessage()
                    + "); a member must not skip an entry the others apply", e);
            throw new IllegalStateException(e);
        }
        List<AppendCommand> commands = new ArrayList<>(appends.getAppendsCount());
        List<Integer> indexes = new ArrayList<>(appends.getAppendsCount());
        for (AppendRequest request : appends.getAppendsList()) {
            indexes.add(commands.size());
            commands.add(ProtoCodec.toCommand(request));
        }
        AppendDecider.Decision<Integer> decision = decider.decide(commands, indexes,
                appends.getCommitTimestampMicros(), false);
        try {
            storage.appendReplicated(decision.toWrite(), entry.getTerm(), entry.getIndex());
        } catch (RuntimeException e) {
            // Going on would leave this member without events the others hold at the same positions. A
            // restart applies the entry again from the log, once the store can write.
            FatalErrors.halt("cannot store replicated log entry " + entry.getIndex() + " (" + decision.toWrite().size()
                    + " events): " + e.getMessage(), e);
            throw e;
        }
        decider.written(decision);
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        listener.applied(new Applied(appends.getProposer().toByteArray(), appends.getSequence(), decision.outcomes()));
        return CompletableFuture.completedFuture(Message.EMPTY);
    }
}
