package io.rewind.server.replication;

import io.rewind.server.replication.log.ReplicatedAppends;
import io.rewind.server.config.ClusterConfig;
import io.rewind.server.core.RequestError;
import io.rewind.server.storage.RocksDbStorage;
import io.rewind.server.storage.StorageException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This server's membership of a replicated group: an Apache Ratis server embedded in the process,
 * with its Raft log under {@code DATA_DIR/raft} and {@link RewindStateMachine} applying the log to the
 * RocksDB store. The leader proposes entries with {@link #propose}; every member applies them.
 */
public final class RaftReplication implements ClusterView, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RaftReplication.class);

    /** One group per Rewind cluster: its id is fixed, so that members need no more than the peer list. */
    static final RaftGroupId GROUP_ID = RaftGroupId.valueOf(UUID.nameUUIDFromBytes(
            "rewind-replicated-log".getBytes(StandardCharsets.US_ASCII)));
    /** The election timeout's range: a leader silent for this long is replaced. */
    static final TimeDuration ELECTION_TIMEOUT_MIN = TimeDuration.valueOf(1000, TimeUnit.MILLISECONDS);
    static final TimeDuration ELECTION_TIMEOUT_MAX = TimeDuration.valueOf(2000, TimeUnit.MILLISECONDS);
    /** Target size of one log entry (one group commit); a single larger append still goes alone. */
    public static final long GROUP_BYTES = 4L << 20;
    /** How long a snapshot or a leadership hand-over for an erasure may take before the next cleanup tries again. */
    private static final long ERASURE_CALL_MILLIS = 10_000;

    private final ClusterConfig cluster;
    private final RaftServer server;
    private final RaftServer.Division division;
    /**
     * This member's own proposer: the only client whose entries its state machine lets into the log (see
     * {@link RewindStateMachine#startTransaction}). Random per process and never sent to anyone but the members.
     */
    private final ClientId clientId;
    private final AtomicLong callIds = new AtomicLong();

    private RaftReplication(ClusterConfig cluster, RaftServer server, ClientId clientId) throws IOException {
        this.cluster = cluster;
        this.server = server;
        this.clientId = clientId;
        this.division = server.getDivision(GROUP_ID);
    }

    /**
     * Starts this member: checks that the store and the Raft log under {@code dataDir/raft} belong together,
     * starts Ratis, and returns at once; an election follows.
     *
     * @param maxEntryBytes the largest entry the leader will propose: every buffer on the way is sized for it
     * @throws StorageException when the store and the log do not belong together (the message says how)
     */
    public static RaftReplication start(ClusterConfig cluster, Path dataDir, RocksDbStorage storage,
            long maxEntryBytes, RewindStateMachine.Listener listener, Runnable undecodableEntry) {
        Path raftDir = dataDir.resolve("raft");
        checkStoreAndLog(dataDir, raftDir, storage);
        RaftProperties properties = properties(cluster, raftDir, maxEntryBytes);
        List<RaftPeer> peers = cluster.peers().stream().map(peer -> RaftPeer.newBuilder().setId(peer.id())
                .setAddress(peer.raftAddress()).build()).toList();
        ClientId proposer = ClientId.randomId();
        Parameters parameters = new Parameters();
        if (cluster.tls() != null) {
            // One port carries the members' traffic, the client and the admin protocols: all three take it.
            GrpcConfigKeys.TLS.setConf(parameters, new GrpcTlsConfig(cluster.tls().keyManager(),
                    cluster.tls().trustManager(), true));
        }
        try {
            Files.createDirectories(raftDir);
            RaftServer server = RaftServer.newBuilder()
                    .setServerId(RaftPeerId.valueOf(cluster.nodeId()))
                    .setGroup(RaftGroup.valueOf(GROUP_ID, peers))
                    .setStateMachine(new RewindStateMachine(storage, listener, proposer, undecodableEntry))
                    .setProperties(properties)
                    .setParameters(parameters)
                    .setOption(RaftStorage.StartupOption.RECOVER)
                    .build();
            server.start();
            log.info("Member '{}' of a replicated group of {} ({}): Raft on {}, log in {}", cluster.nodeId(),
                    peers.size(), cluster.peers(), cluster.self().raftAddress(), raftDir);
            if (cluster.tls() != null) {
                log.info("Raft port: mutual TLS, this member's certificate {} ({}), {} trusted (from {})",
                        cluster.tls().certificate().getSubjectX500Principal(), cluster.tls().fingerprint(),
                        cluster.tls().trusted().size(), cluster.tls().file());
            } else if (cluster.loopbackOnly()) {
                log.info("Raft port {} in plain text, on loopback: any process on this host may connect to it (it"
                        + " takes entries from this member's own proposer only); --raft-tls admits members only",
                        cluster.self().raftAddress());
            }
            return new RaftReplication(cluster, server, proposer);
        } catch (IOException e) {
            throw new StorageException("cannot start replication for member '" + cluster.nodeId() + "' (Raft on "
                    + cluster.self().raftAddress() + ", log in " + raftDir + "): " + e.getMessage(), e);
        }
    }

    /**
     * A store that was written alone cannot join a group (its events are in no member's log), and a store
     * that applied a log must find that log again: starting over without it would let this member vote and
     * accept entries as if it had never promised anything.
     */
    private static void checkStoreAndLog(Path dataDir, Path raftDir, RocksDbStorage storage) {
        long[] applied = storage.replicatedTermIndex();
        boolean hasLog = Files.isDirectory(raftDir.resolve(GROUP_ID.getUuid().toString()));
        if (applied == null && storage.nextPosition() > 0) {
            throw new StorageException("the store in " + dataDir + " holds " + storage.nextPosition() + " events"
                    + " written by a server running alone; a replicated group starts from empty data directories"
                    + " (copy events over with the rewind tool, or run this store without --peers)");
        }
        if (applied != null && !hasLog) {
            throw new StorageException("the store in " + dataDir + " has applied the replicated log up to index "
                    + applied[1] + ", but the log is missing from " + raftDir + "; restore that directory, or start"
                    + " this member from an empty data directory so that it copies everything from the others");
        }
    }

    private static RaftProperties properties(ClusterConfig cluster, Path raftDir, long maxEntryBytes) {
        RaftProperties properties = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(properties, List.of(raftDir.toFile()));
        GrpcConfigKeys.Server.setHost(properties, cluster.self().raftHost());
        GrpcConfigKeys.Server.setPort(properties, cluster.self().raftPort());
        RaftServerConfigKeys.Rpc.setTimeoutMin(properties, ELECTION_TIMEOUT_MIN);
        RaftServerConfigKeys.Rpc.setTimeoutMax(properties, ELECTION_TIMEOUT_MAX);
        // A snapshot (a checkpoint of the store, see RewindStateMachine) every so many entries, and the log purged
        // up to it: a member behind the purged log installs the leader's snapshot.
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(properties, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(properties, cluster.snapshotInterval());
        RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(properties, false);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(properties, true);
        // Every snapshot purges what it covers: snapshots are far apart anyway, and the one an erasure asks for
        // (see eraseFromLog) must purge at once.
        RaftServerConfigKeys.Log.setPurgeGap(properties, 1);
        RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(properties, true);
        // How the leader retries a follower it cannot reach. Ratis' default backs off to every 5 s and stops
        // after about 40 minutes: a member restarted after a longer stop would wait for nothing. Here it is
        // every 250 ms for 10 s, then every second without end, so a member that comes back rejoins within
        // a second.
        RaftServerConfigKeys.Log.Appender.setRetryPolicy(properties, "1ms,10, 250ms,40, 1s,1000000000");
        // Every buffer an entry passes through holds the largest one: the leader's appender, the log's write
        // buffer and segment, and the gRPC message between members.
        long entry = Math.max(maxEntryBytes, GROUP_BYTES) + (1 << 20);
        RaftServerConfigKeys.Log.Appender.setBufferByteLimit(properties, SizeInBytes.valueOf(entry));
        RaftServerConfigKeys.Log.setWriteBufferSize(properties, SizeInBytes.valueOf(entry + 64));
        // The log is purged a segment at a time; an entry larger than a segment gets one of its own.
        RaftServerConfigKeys.Log.setSegmentSizeMax(properties, SizeInBytes.valueOf(cluster.segmentBytes()));
        RaftServerConfigKeys.Log.setPreallocatedSize(properties, SizeInBytes.valueOf(Math.min(cluster.segmentBytes(),
                RaftServerConfigKeys.Log.PREALLOCATED_SIZE_DEFAULT.getSize())));
        RaftServerConfigKeys.Write.setByteLimit(properties, SizeInBytes.valueOf(Math.max(256L << 20, 4 * entry)));
        GrpcConfigKeys.setMessageSizeMax(properties, SizeInBytes.valueOf(entry + (1 << 20)));
        return properties;
    }

    /** Proposes an entry; the future fails when this member is not the leader or loses the leadership. */
    CompletableFuture<RaftClientReply> propose(ReplicatedAppends entry) {
        RaftClientRequest request = RaftClientRequest.newBuilder()
                .setClientId(clientId)
                .setServerId(server.getId())
                .setGroupId(GROUP_ID)
                .setCallId(callIds.incrementAndGet())
                .setMessage(Message.valueOf(UnsafeByteOperations.unsafeWrap(entry.toByteString().asReadOnlyByteBuffer())))
                .setType(RaftClientRequest.writeRequestType())
                .build();
        try {
            return server.submitClientRequestAsync(request);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * On the cleanup's thread, after each pass: takes an erasure's bytes out of this member's Raft log and snapshot.
     * The store no longer holds them once the cleanup compacted them away, but the log still holds the entry that
     * appended the erased event, and the snapshot (a checkpoint of the store) the event as it was. Ratis purges log
     * segments up to a snapshot, closed ones only, and a segment closes when it is full or the term changes. So:
     * <ol>
     *   <li>once its store has compacted the erasure, the leader hands its leadership to another member (or steps
     *       down): the new term closes every member's open segment;</li>
     *   <li>once a member has applied an entry of a later term than the erasure's, it takes a snapshot (a snapshot
     *       compacts erasures away before its checkpoint, and deletes the one before) and Ratis purges the log up
     *       to it, the segments holding the erased event included.</li>
     * </ol>
     * The erasure's position is kept in the store, so a restart goes on with it; a pass that cannot finish (no
     * leader, a snapshot being installed) leaves it for the next.
     */
    public void eraseFromLog(RocksDbStorage storage) {
        long[] erasure = storage.erasureInReplicatedLog();
        if (erasure == null || !storage.erasuresCompacted()) {
            return;
        }
        long term = erasure[0];
        long index = erasure[1];
        long logStart = division.getRaftLog().getStartIndex();
        if (logStart > index) {
            storage.erasedFromReplicatedLog(erasure);
            log.info("Erased events are gone from member '{}': its Raft log starts at index {}, after the erasure at"
                    + " index {}, and its snapshot was made after the erasure", cluster.nodeId(), logStart, index);
            return;
        }
        TermIndex applied = division.getStateMachine().getLastAppliedTermIndex();
        try {
            if (applied.getTerm() <= term) {
                if (isLeader()) {
                    closeTermForErasure(index);
                }
                return;
            }
            long snapshot = server.snapshotManagementAsync(SnapshotManagementRequest.newCreate(clientId,
                    server.getId(), GROUP_ID, callIds.incrementAndGet(), ERASURE_CALL_MILLIS, 1))
                    .get(ERASURE_CALL_MILLIS, TimeUnit.MILLISECONDS).getLogIndex();
            log.info("Member '{}' made a snapshot at log index {} so that its Raft log is purged of the events erased"
                    + " at index {}", cluster.nodeId(), snapshot, index);
        } catch (IOException | ExecutionException | TimeoutException e) {
            log.warn("Member '{}' could not yet take the events erased at log index {} out of its Raft log (it tries"
                    + " again after the next cleanup): {}", cluster.nodeId(), index, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** On the leader: a new term, so that every member closes the log segment holding the erasure at this index. */
    private void closeTermForErasure(long index) throws IOException, InterruptedException, ExecutionException,
            TimeoutException {
        for (ClusterConfig.Peer peer : cluster.peers()) {
            if (peer.id().equals(cluster.nodeId())) {
                continue;
            }
            log.info("Member '{}' hands its leadership to '{}': the new term closes the Raft log segment of every"
                    + " member that holds the events erased at index {}", cluster.nodeId(), peer.id(), index);
            RaftClientReply reply = server.transferLeadershipAsync(new TransferLeadershipRequest(clientId,
                    server.getId(), GROUP_ID, callIds.incrementAndGet(), RaftPeerId.valueOf(peer.id()), 5_000))
                    .get(ERASURE_CALL_MILLIS, TimeUnit.MILLISECONDS);
            if (reply.isSuccess()) {
                return;
            }
            log.info("Member '{}' could not hand its leadership to '{}': {}", cluster.nodeId(), peer.id(),
                    reply.getException() == null ? "no reason given" : reply.getException().getMessage());
        }
        log.info("Member '{}' steps down as leader: the new term closes the Raft log segment of every member that"
                + " holds the events erased at index {}", cluster.nodeId(), index);
        server.transferLeadershipAsync(new TransferLeadershipRequest(clientId, server.getId(), GROUP_ID,
                callIds.incrementAndGet(), null, 5_000)).get(ERASURE_CALL_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public String nodeId() {
        return cluster.nodeId();
    }

    @Override
    public List<ClusterConfig.Peer> members() {
        return cluster.peers();
    }

    /** Whether this member leads the group and may propose now. */
    public boolean isLeader() {
        DivisionInfo info = division.getInfo();
        return info.isLeader() && info.isLeaderReady();
    }

    /**
     * The leader to send appends to, as this member knows it; empty fields when it knows none, and when it
     * is the leader itself but not ready yet (a new leader first commits an entry of its own term): naming
     * itself would send a client straight back.
     */
    public RequestError.Leader leader() {
        DivisionInfo info = division.getInfo();
        RaftPeerId leader = info.getLeaderId();
        if (leader == null || leader.equals(server.getId()) && !info.isLeaderReady()) {
            return new RequestError.Leader("", "");
        }
        String id = leader.toString();
        return new RequestError.Leader(id, cluster.peer(id).map(ClusterConfig.Peer::commandEndpoint).orElse(""));
    }

    @Override
    public Status status() {
        DivisionInfo info = division.getInfo();
        RaftPeerRole role = info.getCurrentRole();
        String name = switch (role) {
            case LEADER -> "leader";
            case CANDIDATE -> "candidate";
            case FOLLOWER -> "follower";
            default -> role.name().toLowerCase(java.util.Locale.ROOT);
        };
        RaftPeerId leader = info.getLeaderId();
        return new Status(name, leader == null ? "" : leader.toString(), info.getCurrentTerm(),
                division.getRaftLog().getLastCommittedIndex());
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            log.warn("Could not stop Raft cleanly: {}", e.toString());
        }
    }
}
