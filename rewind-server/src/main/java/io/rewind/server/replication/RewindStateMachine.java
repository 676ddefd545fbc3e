package io.rewind.server.replication;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rewind.server.replication.log.ReplicatedAppends;
import io.rewind.server.FatalErrors;
import io.rewind.server.core.AppendCommand;
import io.rewind.server.core.AppendDecider;
import io.rewind.server.core.AppendOutcome;
import io.rewind.server.storage.RocksDbStorage;
import io.rewind.server.storage.StorageException;
import io.rewind.server.storage.StoreBackup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the replicated log to the store: every member runs each entry ({@link ReplicatedAppends})
 * through the same {@link AppendDecider}, in log order, so each decides the same expected-version
 * conflicts and duplicates, assigns the same positions and stores byte-identical events. The entry's
 * Raft term and index are stored in the same atomic write as its events, unsynced: after a restart
 * Ratis replays the entries after that index, and nothing before it.
 *
 * <p>Snapshots are RocksDB checkpoints (a flush and hard links) of the store at an applied index, in
 * Ratis' state-machine directory; once one is taken Ratis may purge the log up to it, and a member
 * that has fallen behind the purged log gets the leader's checkpoint and replaces its store with it.
 *
 * <p>Runs on Ratis' apply thread, the store's only writer in a replicated group. What each entry
 * decided goes to the {@link Listener}, which publishes it and answers the appends this process
 * proposed.
 */
final class RewindStateMachine extends BaseStateMachine {
    private static final Logger log = LoggerFactory.getLogger(RewindStateMachine.class);

    /**
     * One applied entry and what it decided, append by append; attachments are the appends' indexes.
     *
     * @param appliedNanos when it was applied ({@link System#nanoTime()}), for the timing of the hand-over
     * @param undecodable  why the entry was skipped as a no-op (it did not decode), or null when it was applied
     */
    record Applied(byte[] proposer, long sequence, List<AppendOutcome<Integer>> outcomes, long appliedNanos,
            String undecodable) {}

    /** Told of every applied entry, on the apply thread, in log order. */
    interface Listener {
        void applied(Applied entry);
    }

    private static final Pattern SNAPSHOT = Pattern.compile("snapshot\\.(\\d+)_(\\d+)");

    /**
     * Lets entries of any Raft client into the log, unchecked: only for the tests that prove an undecodable entry
     * cannot stop a member (a system property, never an option; the member logs it at start).
     */
    static final String ACCEPT_FOREIGN_ENTRIES = "rewind.test.acceptForeignRaftEntries";

    private final RocksDbStorage storage;
    private final AppendDecider decider;
    private final Listener listener;
    /** The only client that may propose: this member's own proposer. */
    private final ClientId proposer;
    private final boolean acceptForeign = Boolean.getBoolean(ACCEPT_FOREIGN_ENTRIES);
    /** Told of each committed entry that did not decode, which every member skips alike. */
    private final Runnable undecodableEntry;
    /** Ratis' directory for this state machine: its snapshots, each a RocksDB checkpoint named snapshot.TERM_INDEX. */
    private Path snapshots;
    private volatile SnapshotInfo latest;

    RewindStateMachine(RocksDbStorage storage, Listener listener, ClientId proposer, Runnable undecodableEntry) {
        this.storage = storage;
        this.decider = new AppendDecider(storage);
        this.listener = listener;
        this.proposer = proposer;
        this.undecodableEntry = undecodableEntry;
        if (acceptForeign) {
            log.warn("-D{}=true: this member lets entries of any Raft client into the log, unchecked. For tests only",
                    ACCEPT_FOREIGN_ENTRIES);
        }
    }

    /**
     * On the leader, before an entry enters the log: only this member's own proposer may propose (a Raft client
     * that reached the port is refused, whatever it sends), and only an entry that decodes as a Rewind entry.
     * Ratis answers the refusal to the client and appends nothing.
     */
    @Override
    public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
        TransactionContext transaction = super.startTransaction(request);
        if (acceptForeign) {
            return transaction;
        }
        if (!proposer.equals(request.getClientId())) {
            log.warn("Refused an entry from Raft client {}: only this member's own proposer may write to the log",
                    request.getClientId());
            return transaction.setException(new IOException("refused: only the members of the group propose entries,"
                    + " through their command endpoints"));
        }
        try {
            // Kept with the transaction: on this member, applying the entry takes it instead of decoding it again.
            return transaction.setStateMachineContext(
                    EntryCodec.decode(request.getMessage().getContent().asReadOnlyByteBuffer()));
        } catch (EntryCodec.MalformedEntry | RuntimeException e) {
            log.error("Refused to propose an entry that does not decode: {}", e.getMessage());
            return transaction.setException(new IOException("refused: not a Rewind entry (" + e.getMessage() + ")"));
        }
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        getLifeCycle().startAndTransition(() -> initializeRunning(server, groupId, raftStorage));
    }

    private void initializeRunning(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
            throws IOException {
        super.initialize(server, groupId, raftStorage);
        snapshots = raftStorage.getStorageDir().getStateMachineDir().toPath();
        Files.createDirectories(snapshots);
        TermIndex applied = storedTermIndex();
        setLastAppliedTermIndex(applied);
        // The store is where the log was applied up to: that is the snapshot, with files to send.
        latest = applied.getIndex() < 0 ? null : snapshotOf(applied);
        log.info("The store holds the replicated log up to index {} (term {}); later entries are applied from the log",
                applied.getIndex(), applied.getTerm());
    }

    private TermIndex storedTermIndex() {
        long[] stored = storage.replicatedTermIndex();
        return stored == null ? TermIndex.INITIAL_VALUE : TermIndex.valueOf(stored[0], stored[1]);
    }

    /**
     * The newest snapshot: a RocksDB checkpoint of the store at a log index, which a member that has
     * fallen behind the leader's purged log installs. Null before the first entry is applied.
     */
    @Override
    public SnapshotInfo getLatestSnapshot() {
        return latest;
    }

    /**
     * On the apply thread, between two entries: records the applied index in the store (so that the
     * checkpoint says where it is in the log) and makes a checkpoint of it (a flush and hard links),
     * whereupon Ratis may purge the log up to that index.
     */
    @Override
    public long takeSnapshot() {
        TermIndex applied = getLastAppliedTermIndex();
        if (applied.getIndex() < 0 || latest != null && latest.getIndex() >= applied.getIndex()) {
            return latest == null ? RaftLog.INVALID_LOG_INDEX : latest.getIndex();
        }
        storage.appendReplicated(List.of(), applied.getTerm(), applied.getIndex());
        latest = snapshotOf(applied);
        return applied.getIndex();
    }

    /**
     * The checkpoint of the store at this index: made now unless it exists, after the erasures are compacted away;
     * older ones are deleted.
     */
    private SnapshotInfo snapshotOf(TermIndex at) {
        Path directory = snapshots.resolve("snapshot." + at.getTerm() + "_" + at.getIndex());
        long started = System.nanoTime();
        try {
            if (!Files.isDirectory(directory)) {
                // A snapshot outlives the log it replaces: it must not keep what was erased.
                storage.compactErasures();
                Path making = snapshots.resolve(".making-" + directory.getFileName());
                StoreBackup.deleteCheckpoint(making);
                storage.checkpoint(making);
                Files.move(making, directory, StandardCopyOption.ATOMIC_MOVE);
                log.info("Snapshot at log index {}: a checkpoint of {} events in {} ms", at.getIndex(),
                        storage.nextPosition(), (System.nanoTime() - started) / 1_000_000);
            }
            try (Stream<Path> all = Files.list(snapshots)) {
                for (Path old : (Iterable<Path>) all::iterator) {
                    if (!old.equals(directory)) {
                        StoreBackup.deleteCheckpoint(old);
                    }
                }
            }
            List<FileInfo> files = new ArrayList<>();
            try (Stream<Path> all = Files.list(directory)) {
                for (Path file : (Iterable<Path>) all::iterator) {
                    files.add(new FileInfo(file, null));
                }
            }
            return new FileListSnapshotInfo(files, at);
        } catch (IOException e) {
            throw new StorageException("cannot make the snapshot " + directory + ": " + e.getMessage(), e);
        }
    }

    /**
     * On the apply thread, after Ratis installed a snapshot from the leader into the snapshot directory
     * (this member was behind the leader's purged log): the store becomes that checkpoint.
     */
    /**
     * Before Ratis installs a snapshot (once for each chunk it receives): nothing is applied until
     * {@link #reinitialize()}.
     */
    @Override
    public synchronized void pause() {
        if (getLifeCycleState() != LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.PAUSING);
            getLifeCycle().transition(LifeCycle.State.PAUSED);
        }
    }

    @Override
    public synchronized void reinitialize() throws IOException {
        replaceStoreWithInstalledSnapshot();
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    private void replaceStoreWithInstalledSnapshot() throws IOException {
        Path installed;
        TermIndex at;
        try (Stream<Path> all = Files.list(snapshots)) {
            installed = all.filter(p -> SNAPSHOT.matcher(p.getFileName().toString()).matches())
                    .max(Comparator.comparingLong(p -> termIndex(p).getIndex()))
                    .orElseThrow(() -> new IOException("no snapshot was installed in " + snapshots));
        }
        at = termIndex(installed);
        log.info("Installing the leader's snapshot at log index {} (term {}) from {}", at.getIndex(), at.getTerm(),
                installed);
        storage.replaceWith(installed);
        decider.forget();
        setLastAppliedTermIndex(at);
        latest = snapshotOf(at);
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId leader) {
        log.info("Member '{}': the leader is now {}", member.getPeerId(), leader == null ? "unknown"
                : "'" + leader + "'");
    }

    @Override
    public void notifyLogFailed(Throwable cause, LogEntryProto failed) {
        log.error("Member cannot write its Raft log{}: {}", failed == null ? "" : " (entry " + failed.getIndex() + ")",
                cause.toString());
    }

    private static TermIndex termIndex(Path snapshot) {
        Matcher name = SNAPSHOT.matcher(snapshot.getFileName().toString());
        if (!name.matches()) {
            throw new IllegalArgumentException("not a snapshot directory: " + snapshot);
        }
        return TermIndex.valueOf(Long.parseLong(name.group(1)), Long.parseLong(name.group(2)));
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext transaction) {
        LogEntryProto entry = transaction.getLogEntry();
        EntryCodec.Decoded decoded;
        try {
            // The proposing leader decoded it before it entered the log; every other member (and the leader after a
            // restart) decodes the log's bytes.
            decoded = transaction.getStateMachineContext() instanceof EntryCodec.Decoded proposed ? proposed
                    : EntryCodec.decode(entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
        } catch (EntryCodec.MalformedEntry | RuntimeException e) {
            // A RuntimeException too: a record's own invariant that an entry breaks is a shape it does not have.
            skipUndecodable(entry, e);
            return CompletableFuture.completedFuture(Message.EMPTY);
        }
        ReplicatedAppends appends = decoded.entry();
        AppendDecider.Decision<Integer> decision = decider.decide(decoded.commands(), decoded.indexes(),
                appends.getCommitTimestampMicros(), false);
        try {
            storage.appendReplicated(decision.changes(), entry.getTerm(), entry.getIndex());
        } catch (RuntimeException e) {
            // Going on would leave this member without events the others hold at the same positions. A
            // restart applies the entry again from the log, once the store can write.
            FatalErrors.halt("cannot store replicated log entry " + entry.getIndex() + " (" + decision.toWrite().size()
                    + " events): " + e.getMessage(), e);
            throw e;
        }
        decider.written(decision);
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        listener.applied(new Applied(appends.getProposer().toByteArray(), appends.getSequence(), decision.outcomes(),
                System.nanoTime(), null));
        return CompletableFuture.completedFuture(Message.EMPTY);
    }

    /**
     * A committed entry that is not a Rewind entry (a release's bug, or one let in unchecked): every member decides
     * the same, from the entry's bytes alone, that it is a no-op. The member records it as applied (a restart does
     * not meet it again), counts and logs it, and goes on; its proposer, if it is this process, is answered.
     */
    private void skipUndecodable(LogEntryProto entry, Exception error) {
        String why = error.getMessage() == null ? error.toString() : error.getMessage();
        try {
            storage.appendReplicated(List.of(), entry.getTerm(), entry.getIndex());
        } catch (RuntimeException e) {
            FatalErrors.halt("cannot record replicated log entry " + entry.getIndex() + " as applied: "
                    + e.getMessage(), e);
            throw e;
        }
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        log.error("Replicated log entry {} (term {}, {} bytes) is not a Rewind entry and was skipped, as on every"
                + " member: {}", entry.getIndex(), entry.getTerm(),
                entry.getStateMachineLogEntry().getLogData().size(), why);
        undecodableEntry.run();
        byte[] proposerId = new byte[0];
        long sequence = -1;
        try {
            // What can be read of it says whom to answer, if anyone.
            ReplicatedAppends partial = ReplicatedAppends.parseFrom(
                    entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
            proposerId = partial.getProposer().toByteArray();
            sequence = partial.getSequence();
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            // Nobody to answer.
        }
        listener.applied(new Applied(proposerId, sequence, List.of(), System.nanoTime(), why));
    }
}
