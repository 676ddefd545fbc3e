package io.rewind.server.transport;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rewind.server.replication.ClusterView;
import io.rewind.protocol.v1.ClusterMember;
import io.rewind.protocol.v1.ReadRequest;
import io.rewind.protocol.v1.ReadResponse;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.Response;
import io.rewind.protocol.v1.ServerInfoResponse;
import io.rewind.server.config.ClusterConfig;
import io.rewind.server.core.AppendCommand;
import io.rewind.server.core.AppendValidator;
import io.rewind.server.core.AppendWriter;
import io.rewind.server.core.ErrorCode;
import io.rewind.server.core.Limits;
import io.rewind.server.core.RequestException;
import io.rewind.server.core.StreamNames;
import io.rewind.server.core.StreamOperation;
import io.rewind.server.core.StreamPart;
import io.rewind.server.http.ServerMetrics;
import io.rewind.server.security.AccessControl;
import io.rewind.server.storage.EventQuery;
import io.rewind.server.storage.EventStorage;
import io.rewind.server.storage.QueryPage;
import io.rewind.server.storage.ReadDirection;
import io.rewind.server.storage.StoredEvent;
import io.rewind.server.storage.TimestampSearch;
import io.rewind.server.storage.Visibility;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The command protocol: turns one request frame into a reply. Reads and server info are answered at
 * once, appends are validated and queued for the writer, whose commit produces their reply later.
 */
final class RequestHandler implements RouterEndpoint.FrameHandler {
    private static final Logger log = LoggerFactory.getLogger(RequestHandler.class);

    private final EventStorage storage;
    private final AppendWriter<ReplyTo> writer;
    private final AppendValidator validator;
    private final Limits limits;
    private final String version;
    private final Supplier<String> feedEndpoint;
    private final Backups backups;
    private final ServerMetrics metrics;
    private final Supplier<ClusterView> cluster;
    private final AccessControl access;

    RequestHandler(EventStorage storage, AppendWriter<ReplyTo> writer, Limits limits, String version,
            Supplier<String> feedEndpoint) {
        this(storage, writer, limits, version, feedEndpoint, null, ServerMetrics.NONE, () -> null, AccessControl.OPEN);
    }

    /**
     * @param backups takes backups, or null for none
     * @param cluster this member's view of its replicated group, null while there is none (alone)
     * @param access  what each key may do; {@link AccessControl#OPEN} without CURVE
     */
    RequestHandler(EventStorage storage, AppendWriter<ReplyTo> writer, Limits limits, String version,
            Supplier<String> feedEndpoint, Backups backups, ServerMetrics metrics, Supplier<ClusterView> cluster,
            AccessControl access) {
        this.storage = storage;
        this.access = access;
        this.cluster = cluster;
        this.metrics = metrics;
        this.feedEndpoint = feedEndpoint;
        this.backups = backups;
        this.writer = writer;
        this.validator = new AppendValidator(limits);
        this.limits = limits;
        this.version = version;
    }

    @Override
    public byte[][] handle(byte[][] envelope, List<byte[]> body, String key) {
        Response response = body.size() == 1 ? handle(body.get(0), envelope, key)
                : ProtoCodec.error(0, ErrorCode.INVALID_REQUEST,
                        "expected exactly one Request frame after the empty delimiter, got " + body.size());
        return response == null ? null : new byte[][] {response.toByteArray()};
    }

    @Override
    public byte[][] missingDelimiter() {
        return new byte[][] {ProtoCodec.error(0, ErrorCode.INVALID_REQUEST,
                "the message has no empty delimiter frame: send [empty frame][Request] (REQ sockets add the"
                        + " delimiter themselves, DEALER sockets must send it)").toByteArray()};
    }

    /**
     * Returns the reply now, or null when the writer will reply once the append is committed.
     *
     * @param key the client's public key when CURVE is on, else null
     */
    Response handle(byte[] frame, byte[][] envelope, String key) {
        Request request;
        try {
            request = Request.parseFrom(frame);
        } catch (InvalidProtocolBufferException e) {
            return ProtoCodec.error(0, ErrorCode.INVALID_REQUEST,
                    "the request frame (" + frame.length + " bytes) is not a valid rewind.v1.Request: "
                            + e.getMessage());
        }
        long id = request.getRequestId();
        try {
            // A key removed from the list while its connection stays open: nothing more for it.
            access.checkListed(key);
            return switch (request.getOperationCase()) {
                case APPEND -> append(request, envelope, key);
                case READ -> readWhenApplied(id, request.getRead(), envelope, key);
                case SERVER_INFO -> serverInfo(id, key);
                case BACKUP -> backup(id, request, envelope, key);
                case DELETE_STREAM, TRUNCATE_STREAM, SET_STREAM_METADATA, ERASE_EVENT ->
                        streamOperation(request, envelope, key);
                case GET_STREAM_METADATA -> streamMetadata(id, request.getGetStreamMetadata().getStream(), key);
                case OPERATION_NOT_SET -> ProtoCodec.error(id, ErrorCode.INVALID_REQUEST,
                        "the request has no operation (or one this server does not know): set append, read,"
                                + " server_info, backup, delete_stream, truncate_stream, set_stream_metadata,"
                                + " get_stream_metadata or erase_event");
            };
        } catch (RequestException e) {
            if (e.error().code() == ErrorCode.PERMISSION_DENIED) {
                boolean read = request.getOperationCase() == Request.OperationCase.READ;
                metrics.denied(read && request.getRead().getSourceCase() == ReadRequest.SourceCase.ALL ? "read_all"
                        : read && request.getRead().getSourceCase() == ReadRequest.SourceCase.QUERY ? "read_query"
                        : request.getOperationCase().name().toLowerCase(java.util.Locale.ROOT));
            }
            return ProtoCodec.toResponse(id, e.error());
        } catch (RuntimeException e) {
            log.error("Failed to handle a {} request", request.getOperationCase(), e);
            return ProtoCodec.error(id, ErrorCode.INTERNAL, "server error: " + e);
        }
    }

    private Response append(Request request, byte[][] envelope, String key) {
        AppendCommand command = ProtoCodec.toCommand(request.getAppend());
        validator.validate(command);
        for (StreamPart part : command.parts()) {
            access.checkWrite(key, part.stream());
        }
        if (command.condition() != null) {
            // Its answer (the position of a matching event) tells of events in every stream.
            access.checkReadAll(key, "append with a condition");
        }
        if (!writer.submit(command, new ReplyTo(envelope, request.getRequestId(), false, System.nanoTime(), key))) {
            return ProtoCodec.error(request.getRequestId(), ErrorCode.UNAVAILABLE,
                    "the server is overloaded or shutting down (" + writer.queued()
                            + " appends queued); nothing was stored, retry later");
        }
        return null;
    }

    /** A lifecycle change: checked, then ordered with the appends by the writer (and replicated like them). */
    private Response streamOperation(Request request, byte[][] envelope, String key) {
        StreamOperation operation = ProtoCodec.toOperation(request);
        if (!(operation instanceof StreamOperation.Erase)) {
            String stream = operation instanceof StreamOperation.Delete d ? d.stream()
                    : operation instanceof StreamOperation.Truncate t ? t.stream()
                    : ((StreamOperation.SetRetention) operation).stream();
            StreamNames.validate(stream, limits.maxStreamNameBytes());
        }
        access.checkAdmin(key, operation.describe());
        if (!writer.submit(AppendCommand.of(operation), new ReplyTo(envelope, request.getRequestId(), false,
                System.nanoTime(), key))) {
            return ProtoCodec.error(request.getRequestId(), ErrorCode.UNAVAILABLE,
                    "the server is overloaded or shutting down (" + writer.queued()
                            + " appends queued); nothing was changed, retry later");
        }
        return null;
    }

    private Response streamMetadata(long id, String stream, String key) {
        StreamNames.validate(stream, limits.maxStreamNameBytes());
        access.checkRead(key, stream);
        return Response.newBuilder().setRequestId(id).setStreamMetadata(ProtoCodec.toProto(stream,
                storage.streamVersion(stream), storage.streamState(stream),
                Visibility.firstVisibleVersion(storage, stream, Visibility.nowMicros()))).build();
    }

    /** How long a read waits for its min_position to be applied before UNAVAILABLE. */
    static final long READ_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** Reads waiting at most: beyond, a read that would wait gets UNAVAILABLE at once. */
    static final int MAX_WAITING_READS = 10_000;

    /** A read whose min_position is not applied yet, with its deadline. */
    private record WaitingRead(long id, ReadRequest read, byte[][] envelope, long deadlineNanos) {}

    private final Deque<WaitingRead> waitingReads = new ArrayDeque<>();

    /** Answers now, or parks the read (returning null) until this server has applied its min_position. */
    private Response readWhenApplied(long id, ReadRequest read, byte[][] envelope, String key) {
        // Checked before the read waits: the answer later goes out without a key at hand. Without CURVE there is
        // nothing to check, and read() validates the source itself.
        if (access.enabled()) {
            checkAccess(read, key);
        }
        if (read.hasMinPosition()) {
            if (read.getMinPosition() < 0) {
                throw RequestException.of(ErrorCode.INVALID_REQUEST, "read 'min_position' must be >= 0, got "
                        + read.getMinPosition());
            }
            if (read.getMinPosition() > storage.nextPosition() - 1) {
                if (waitingReads.size() >= MAX_WAITING_READS) {
                    return ProtoCodec.error(id, ErrorCode.UNAVAILABLE, MAX_WAITING_READS + " reads already wait for"
                            + " positions not applied yet; retry later");
                }
                waitingReads.add(new WaitingRead(id, read, envelope, System.nanoTime() + READ_WAIT_NANOS));
                return null;
            }
        }
        return read(id, read);
    }

    /**
     * On the command thread, after each commit step: answers the waiting reads whose position is applied
     * now, and those whose wait is over with UNAVAILABLE.
     */
    List<RouterEndpoint.DeferredReply> answerWaitingReads() {
        if (waitingReads.isEmpty()) {
            return List.of();
        }
        long applied = storage.nextPosition() - 1;
        long now = System.nanoTime();
        List<RouterEndpoint.DeferredReply> answers = new ArrayList<>();
        for (Iterator<WaitingRead> it = waitingReads.iterator(); it.hasNext(); ) {
            WaitingRead waiting = it.next();
            Response response;
            if (waiting.read().getMinPosition() <= applied) {
                response = answer(waiting.id(), () -> read(waiting.id(), waiting.read()));
            } else if (now - waiting.deadlineNanos() > 0) {
                response = ProtoCodec.error(waiting.id(), ErrorCode.UNAVAILABLE, "this server has applied the log"
                        + " up to position " + applied + ", not yet to " + waiting.read().getMinPosition() + " within "
                        + TimeUnit.NANOSECONDS.toMillis(READ_WAIT_NANOS) + " ms; retry, or read from the leader");
            } else {
                continue;
            }
            it.remove();
            answers.add(new RouterEndpoint.DeferredReply(waiting.envelope(), response.toByteArray()));
        }
        return answers;
    }

    private Response answer(long id, Supplier<Response> reply) {
        try {
            return reply.get();
        } catch (RequestException e) {
            return ProtoCodec.toResponse(id, e.error());
        } catch (RuntimeException e) {
            log.error("Failed to answer a waiting read", e);
            return ProtoCodec.error(id, ErrorCode.INTERNAL, "server error: " + e);
        }
    }

    private void checkAccess(ReadRequest read, String key) {
        switch (read.getSourceCase()) {
            case STREAM -> {
                StreamNames.validate(read.getStream(), limits.maxStreamNameBytes());
                access.checkRead(key, read.getStream());
            }
            case ALL -> access.checkReadAll(key, "read the global log");
            case QUERY -> access.checkReadAll(key, "read by query");
            default -> throw RequestException.of(ErrorCode.INVALID_REQUEST,
                    "read has no source: set stream, all or query");
        }
    }

    private Response read(long id, ReadRequest read) {
        ReadDirection direction = switch (read.getDirection()) {
            case FORWARD -> ReadDirection.FORWARD;
            case BACKWARD -> ReadDirection.BACKWARD;
            case UNRECOGNIZED -> throw RequestException.of(ErrorCode.INVALID_REQUEST,
                    "unknown read direction " + read.getDirectionValue());
        };
        if (read.hasFrom() && read.getFrom() < 0) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST, "read 'from' must be >= 0, got " + read.getFrom());
        }
        if (read.hasFrom() && read.hasFromTimestampMicros()) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST,
                    "a read starts at 'from' or at 'from_timestamp_micros', not both");
        }
        int count = read.getMaxCount() == 0 ? limits.maxReadCount()
                : (int) Math.min(Integer.toUnsignedLong(read.getMaxCount()), limits.maxReadCount());
        boolean forward = direction == ReadDirection.FORWARD;
        boolean isStream = read.getSourceCase() == ReadRequest.SourceCase.STREAM;
        if (isStream) {
            StreamNames.validate(read.getStream(), limits.maxStreamNameBytes());
            if (storage.streamVersion(read.getStream()) < 0) {
                throw RequestException.of(ErrorCode.NOT_FOUND, "stream '" + read.getStream() + "' does not exist");
            }
        }
        // Where the read starts: -1 for the first (forward) or last (backward) event.
        long start = read.hasFrom() ? read.getFrom() : -1;
        if (read.hasFromTimestampMicros()) {
            long micros = read.getFromTimestampMicros();
            start = isStream ? TimestampSearch.streamVersion(storage, read.getStream(), micros, direction)
                    : TimestampSearch.globalPosition(storage, micros, direction);
            if (start < 0) {
                // Backward, and nothing was committed at or before that time.
                return readReply(id, List.of(), -1, true);
            }
        }
        long from = start >= 0 ? start : forward ? 0 : Long.MAX_VALUE;
        long now = Visibility.nowMicros();
        if (read.getSourceCase() == ReadRequest.SourceCase.QUERY) {
            if (read.getTypesCount() > 0) {
                throw RequestException.of(ErrorCode.INVALID_REQUEST, "a read by query names its types in the"
                        + " query's items, not in 'types'");
            }
            return queryPage(id, ProtoCodec.toQuery(read.getQuery()), start, direction, count, now);
        }
        EventQuery.Item ofTypes = read.getTypesCount() == 0 ? null
                : new EventQuery.Item(read.getTypesList(), List.of());
        switch (read.getSourceCase()) {
            case STREAM -> {
                String stream = read.getStream();
                long head = storage.streamVersion(stream);
                // Deleted, truncated or expired events are never returned: the stream starts later.
                long first = Visibility.firstVisibleVersion(storage, stream, head, now);
                if (first > head) {
                    throw RequestException.of(ErrorCode.NOT_FOUND, "stream '" + stream + "' has no events left"
                            + (storage.streamState(stream).tombstoned() ? ": it was deleted for good"
                            : " (deleted, truncated or expired); its last version is " + head));
                }
                if (ofTypes == null && first == 0) {
                    return directPage(id, storage.readStream(stream, from, direction, count, limits.maxReadBytes()),
                            true, from, head, forward);
                }
                return scanPage(id, (cursor, batch) -> storage.readStream(stream, cursor, direction, batch,
                        limits.maxReadBytes()), StoredEvent::streamVersion, from, first, head, direction, count,
                        ofTypes == null ? event -> true : event -> ofTypes.matches(event.type(), event.tags()));
            }
            case ALL -> {
                if (ofTypes != null) {
                    // The global log by type is a read by query: the type index finds the events.
                    return queryPage(id, new EventQuery(List.of(ofTypes)), start, direction, count, now);
                }
                long head = storage.nextPosition() - 1;
                if (!Visibility.anyHidden(storage)) {
                    return directPage(id, storage.readAll(from, direction, count, limits.maxReadBytes()), false, from,
                            head, forward);
                }
                return scanPage(id, (cursor, batch) -> storage.readAll(cursor, direction, batch,
                        limits.maxReadBytes()), StoredEvent::globalPosition, from, 0, head, direction, count,
                        Visibility.inGlobalLog(storage, now));
            }
            default -> throw RequestException.of(ErrorCode.INVALID_REQUEST,
                    "read has no source: set stream, all or query");
        }
    }

    /** A page as the storage read it: nothing to filter. */
    private Response directPage(long id, List<StoredEvent> events, boolean isStream, long from, long head,
            boolean forward) {
        long next;
        if (events.isEmpty()) {
            next = forward ? from : Math.min(from, head);
        } else {
            StoredEvent last = events.get(events.size() - 1);
            long lastPosition = isStream ? last.streamVersion() : last.globalPosition();
            next = forward ? lastPosition + 1 : lastPosition - 1;
        }
        return readReply(id, events, next, forward ? next > head : next < 0);
    }

    private Response queryPage(long id, EventQuery query, long from, ReadDirection direction, int count, long now) {
        validator.validate(query, "the read");
        QueryPage page = storage.readQuery(query, from, direction, count, limits.maxReadBytes());
        List<StoredEvent> events = page.events();
        if (Visibility.anyHidden(storage)) {
            // A page may come back smaller, even empty; next_from still says how far it looked.
            events = events.stream().filter(Visibility.inGlobalLog(storage, now)).toList();
        }
        return readReply(id, events, page.nextFrom(), page.endReached());
    }

    /** Most events one filtered page looks at: a page is bounded in its work, not only its size. */
    static final int FILTER_SCAN_LIMIT = 65_536;

    /** Reads a batch of events from a version or position, in the read's direction. */
    @FunctionalInterface
    private interface BatchReader {
        List<StoredEvent> read(long cursor, int batch);
    }

    /**
     * A page of the events that {@code keep} accepts, of a stream or the global log: reads in batches from
     * {@code from} (not below {@code low}) and keeps what it accepts, until the page is full, the end (or
     * {@code low}) is reached, or {@link #FILTER_SCAN_LIMIT} events were looked at. next_from is past the last
     * event looked at, so that the next page goes on from there, whatever it skipped; a page may hold no event
     * without end_reached.
     */
    private Response scanPage(long id, BatchReader reader, java.util.function.ToLongFunction<StoredEvent> positionOf,
            long from, long low, long head, ReadDirection direction, int count,
            java.util.function.Predicate<StoredEvent> keep) {
        boolean forward = direction == ReadDirection.FORWARD;
        long cursor = forward ? Math.max(from, low) : Math.min(from, head);
        List<StoredEvent> kept = new ArrayList<>();
        long bytes = 0;
        int scanned = 0;
        boolean full = false;
        while (!full && scanned < FILTER_SCAN_LIMIT && (forward ? cursor <= head : cursor >= low)) {
            List<StoredEvent> read = reader.read(cursor, Math.min(1024, FILTER_SCAN_LIMIT - scanned));
            if (read.isEmpty()) {
                break;
            }
            for (StoredEvent event : read) {
                long position = positionOf.applyAsLong(event);
                if (!forward && position < low) {
                    cursor = low - 1;
                    break;
                }
                if (keep.test(event)) {
                    if (kept.size() == count || !kept.isEmpty() && bytes + event.payloadSize() > limits.maxReadBytes()) {
                        full = true;
                        break;
                    }
                    kept.add(event);
                    bytes += event.payloadSize();
                }
                scanned++;
                cursor = forward ? position + 1 : position - 1;
            }
        }
        boolean end = forward ? cursor > head : cursor < low;
        return readReply(id, kept, !forward && end ? -1 : cursor, end);
    }

    private Response readReply(long id, List<StoredEvent> events, long next, boolean endReached) {
        metrics.read(events.size());
        ReadResponse.Builder reply = ReadResponse.newBuilder();
        for (StoredEvent event : events) {
            reply.addEvents(ProtoCodec.toRecord(event));
        }
        reply.setNextFrom(next).setEndReached(endReached);
        return Response.newBuilder().setRequestId(id).setRead(reply).build();
    }

    /** The checkpoint is taken now, on this thread; the reply comes once the backup is copied. */
    private Response backup(long id, Request request, byte[][] envelope, String key) {
        if (backups == null) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST, "this endpoint takes no backups");
        }
        access.checkAdmin(key, "take a backup");
        backups.start(id, envelope, request.getBackup().getDirectory());
        return null;
    }

    /**
     * The server's version, endpoints and group, which every listed key needs to find the leader and the feed; and
     * its head and stream count, which tell of every stream: those only for a key that reads every stream, or an
     * admin.
     */
    private Response serverInfo(long id, String key) {
        boolean counts = access.mayReadAllOrAdmin(key);
        long head = counts ? storage.nextPosition() - 1 : -1;
        ServerInfoResponse.Builder info = ServerInfoResponse.newBuilder()
                .setVersion(version)
                .setHeadPosition(head)
                .setStreamCount(counts ? storage.streamCount() : 0)
                .setStorageEngine(storage.engine())
                .setStreamEndpoint(String.valueOf(feedEndpoint.get()))
                .setAppliedPosition(head)
                .setCountsWithheld(!counts);
        ClusterView view = cluster.get();
        if (view == null) {
            info.setRole("standalone").setCommitIndex(-1);
        } else {
            ClusterView.Status status = view.status();
            info.setNodeId(view.nodeId()).setRole(status.role()).setLeaderId(status.leaderId())
                    .setTerm(status.term()).setCommitIndex(status.commitIndex());
            for (ClusterConfig.Peer peer : view.members()) {
                info.addMembers(ClusterMember.newBuilder().setId(peer.id())
                        .setCommandEndpoint(peer.commandEndpoint()));
            }
        }
        return Response.newBuilder().setRequestId(id).setServerInfo(info).build();
    }
}
