package io.rewind.server.transport;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.rewind.protocol.v1.AppendRequest;
import io.rewind.protocol.v1.AppendResponse;
import io.rewind.protocol.v1.ConditionFailed;
import io.rewind.protocol.v1.DeleteStreamRequest;
import io.rewind.protocol.v1.EraseEventRequest;
import io.rewind.protocol.v1.EraseEventResponse;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.SetStreamMetadataRequest;
import io.rewind.protocol.v1.StreamMetadataResponse;
import io.rewind.protocol.v1.TruncateStreamRequest;
import io.rewind.protocol.v1.Query;
import io.rewind.protocol.v1.QueryItem;
import io.rewind.protocol.v1.StreamAppend;
import io.rewind.protocol.v1.StreamAppendResult;
import io.rewind.protocol.v1.Error;
import io.rewind.protocol.v1.EventRecord;
import io.rewind.protocol.v1.NewEvent;
import io.rewind.protocol.v1.NotLeader;
import io.rewind.protocol.v1.Response;
import io.rewind.protocol.v1.WireFormat;
import io.rewind.protocol.v1.WrongExpectedVersion;
import io.rewind.server.core.AppendCommand;
import io.rewind.server.core.AppendCondition;
import io.rewind.server.core.AppendResult;
import io.rewind.server.core.ErrorCode;
import io.rewind.server.core.ExpectedVersion;
import io.rewind.server.core.ProposedEvent;
import io.rewind.server.core.RequestError;
import io.rewind.server.core.RequestException;
import io.rewind.server.core.OperationResult;
import io.rewind.server.core.StreamOperation;
import io.rewind.server.core.StreamPart;
import io.rewind.server.storage.StreamState;
import io.rewind.server.storage.EventQuery;
import io.rewind.server.storage.StoredEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** The server's one bridge between protobuf messages and domain types. */
public final class ProtoCodec {
    private static final byte[] NO_BYTES = new byte[0];

    private ProtoCodec() {}

    /** An append request as the server checks it; throws INVALID_REQUEST naming what is wrong. */
    public static AppendCommand toCommand(AppendRequest request) {
        List<StreamPart> parts = new ArrayList<>(1 + request.getMoreStreamsCount());
        parts.add(toPart(request.getStream(), request.getExpectedVersion(), request.getEventsList()));
        for (StreamAppend more : request.getMoreStreamsList()) {
            parts.add(toPart(more.getStream(), more.getExpectedVersion(), more.getEventsList()));
        }
        AppendCondition condition = null;
        if (request.hasCondition()) {
            io.rewind.protocol.v1.AppendCondition wire = request.getCondition();
            condition = new AppendCondition(toQuery(wire.getFailIfEventsMatch()), wire.hasAfter() ? wire.getAfter() : -1);
            if (wire.hasAfter() && wire.getAfter() < 0) {
                throw RequestException.of(ErrorCode.INVALID_REQUEST, "the condition of the append to stream '"
                        + request.getStream() + "' has after = " + wire.getAfter()
                        + "; a position is >= 0 (leave it unset for none)");
            }
        }
        return new AppendCommand(parts, condition);
    }

    private static StreamPart toPart(String stream, io.rewind.protocol.v1.ExpectedVersion expected,
            List<NewEvent> wireEvents) {
        List<ProposedEvent> events = new ArrayList<>(wireEvents.size());
        for (int i = 0; i < wireEvents.size(); i++) {
            NewEvent event = wireEvents.get(i);
            events.add(new ProposedEvent(toUuid(event.getEventId(), i, stream), event.getType(),
                    bytes(event.getData()), bytes(event.getMetadata()),
                    event.getTagsCount() == 0 ? List.of() : event.getTagsList()));
        }
        return new StreamPart(stream, toExpectedVersion(stream, expected), events);
    }

    /** A query as the storage reads it. */
    public static EventQuery toQuery(Query query) {
        List<EventQuery.Item> items = new ArrayList<>(query.getItemsCount());
        for (QueryItem item : query.getItemsList()) {
            items.add(new EventQuery.Item(item.getTypesList(), item.getTagsList()));
        }
        return new EventQuery(items);
    }


    /** A stream operation request as the writer takes it; throws INVALID_REQUEST naming what is wrong. */
    public static StreamOperation toOperation(Request request) {
        return switch (request.getOperationCase()) {
            case DELETE_STREAM -> toOperation(request.getDeleteStream());
            case TRUNCATE_STREAM -> toOperation(request.getTruncateStream());
            case SET_STREAM_METADATA -> toOperation(request.getSetStreamMetadata());
            case ERASE_EVENT -> toOperation(request.getEraseEvent());
            default -> throw new IllegalArgumentException("not a stream operation: " + request.getOperationCase());
        };
    }

    private static StreamOperation toOperation(DeleteStreamRequest delete) {
        return new StreamOperation.Delete(delete.getStream(),
                toExpectedVersion(delete.getStream(), delete.getExpectedVersion()), delete.getTombstone());
    }

    private static StreamOperation toOperation(TruncateStreamRequest truncate) {
        return new StreamOperation.Truncate(truncate.getStream(), truncate.getBeforeVersion());
    }

    private static StreamOperation toOperation(SetStreamMetadataRequest set) {
        if (set.getMaxAgeSeconds() < 0 || set.getMaxCount() < 0) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST, "max_age_seconds and max_count of stream '"
                    + set.getStream() + "' must be >= 0 (0 or unset: no limit), got " + set.getMaxAgeSeconds()
                    + " and " + set.getMaxCount());
        }
        if (set.getMaxAgeSeconds() > Long.MAX_VALUE / 1_000_000) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST, "max_age_seconds of stream '"
                    + set.getStream() + "' is too large: " + set.getMaxAgeSeconds());
        }
        return new StreamOperation.SetRetention(set.getStream(), set.getMaxAgeSeconds() * 1_000_000,
                set.getMaxCount());
    }

    private static StreamOperation toOperation(EraseEventRequest erase) {
        UUID id = toUuid(erase.getEventId(), 0, "");
        if (id == null) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST, "erase_event needs the event's 16-byte id");
        }
        return new StreamOperation.Erase(id);
    }



    /** A stream's lifecycle as a reply. */
    static Response toResponse(long requestId, OperationResult result, long firstVisibleVersion) {
        if (result.erasedPosition() >= 0) {
            return Response.newBuilder().setRequestId(requestId).setEraseEvent(EraseEventResponse.newBuilder()
                    .setGlobalPosition(result.erasedPosition()).setStream(result.stream())
                    .setStreamVersion(result.erasedVersion())).build();
        }
        return Response.newBuilder().setRequestId(requestId)
                .setStreamMetadata(toProto(result.stream(), result.lastVersion(), result.state(), firstVisibleVersion))
                .build();
    }

    static StreamMetadataResponse toProto(String stream, long lastVersion, StreamState state, long firstVisible) {
        return StreamMetadataResponse.newBuilder().setStream(stream).setLastVersion(lastVersion)
                .setTruncateBefore(state.truncateBefore()).setTombstoned(state.tombstoned())
                .setMaxAgeSeconds(state.maxAgeMicros() / 1_000_000).setMaxCount(state.maxCount())
                .setFirstVisibleVersion(firstVisible).build();
    }



    private static ExpectedVersion toExpectedVersion(String stream, io.rewind.protocol.v1.ExpectedVersion expected) {
        return switch (expected.getKindCase()) {
            case ANY, KIND_NOT_SET -> ExpectedVersion.ANY;
            case NO_STREAM -> ExpectedVersion.NO_STREAM;
            case STREAM_EXISTS -> ExpectedVersion.STREAM_EXISTS;
            case EXACT -> {
                if (expected.getExact() < 0) {
                    throw RequestException.of(ErrorCode.INVALID_REQUEST, "exact expected version must be >= 0, got "
                            + expected.getExact() + " (stream '" + stream + "')");
                }
                yield new ExpectedVersion.Exact(expected.getExact());
            }
        };
    }

    static io.rewind.protocol.v1.ExpectedVersion toProto(ExpectedVersion expected) {
        if (expected instanceof ExpectedVersion.Exact exact) {
            return WireFormat.expectExact(exact.version());
        }
        if (expected instanceof ExpectedVersion.NoStream) {
            return WireFormat.EXPECT_NO_STREAM;
        }
        if (expected instanceof ExpectedVersion.StreamExists) {
            return WireFormat.EXPECT_STREAM_EXISTS;
        }
        return WireFormat.EXPECT_ANY;
    }

    private static UUID toUuid(ByteString id, int index, String stream) {
        if (id.isEmpty()) {
            return null;
        }
        if (id.size() != WireFormat.EVENT_ID_BYTES) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST, "event " + index + " of the append to stream '"
                    + stream + "' has an event_id of " + id.size() + " bytes; it must be 16 bytes or empty");
        }
        return WireFormat.eventId(id);
    }

    private static byte[] bytes(ByteString value) {
        return value.isEmpty() ? NO_BYTES : value.toByteArray();
    }

    static EventRecord toRecord(StoredEvent event) {
        // Stored arrays are never mutated, so they are wrapped, not copied.
        return EventRecord.newBuilder()
                .setEventId(WireFormat.eventId(event.eventId()))
                .setStream(event.stream())
                .setStreamVersion(event.streamVersion())
                .setGlobalPosition(event.globalPosition())
                .setType(event.type())
                .setData(UnsafeByteOperations.unsafeWrap(event.data()))
                .setMetadata(UnsafeByteOperations.unsafeWrap(event.metadata()))
                .setCommitTimestampMicros(event.commitTimestampMicros())
                .addAllTags(event.tags())
                .setErased(event.erased())
                .build();
    }

    static Response toResponse(long requestId, AppendResult result) {
        AppendResponse.Builder append = AppendResponse.newBuilder()
                .setFirstPosition(result.firstPosition())
                .setLastPosition(result.lastPosition())
                .setNextExpectedVersion(result.lastVersion());
        if (!result.streams().isEmpty()) {
            for (AppendResult.StreamResult stream : result.streams()) {
                append.addStreams(StreamAppendResult.newBuilder().setStream(stream.stream())
                        .setFirstPosition(stream.firstPosition()).setLastPosition(stream.lastPosition())
                        .setNextExpectedVersion(stream.lastVersion()));
            }
        }
        return Response.newBuilder().setRequestId(requestId).setAppend(append).build();
    }

    static Response toResponse(long requestId, RequestError error) {
        Error.Builder builder = Error.newBuilder().setCode(toProto(error.code())).setMessage(error.message());
        if (error.conflict() != null) {
            builder.setWrongExpectedVersion(WrongExpectedVersion.newBuilder()
                    .setStream(error.conflict().stream())
                    .setExpected(toProto(error.conflict().expected()))
                    .setActualVersion(error.conflict().actualVersion()));
        }
        if (error.code() == ErrorCode.CONDITION_FAILED) {
            builder.setConditionFailed(ConditionFailed.newBuilder().setPosition(error.matchingPosition()));
        }
        if (error.leader() != null) {
            builder.setNotLeader(NotLeader.newBuilder().setLeaderId(error.leader().id())
                    .setLeaderCommandEndpoint(error.leader().commandEndpoint()));
        }
        return Response.newBuilder().setRequestId(requestId).setError(builder).build();
    }

    static Response error(long requestId, ErrorCode code, String message) {
        return toResponse(requestId, RequestError.of(code, message));
    }

    private static io.rewind.protocol.v1.ErrorCode toProto(ErrorCode code) {
        return switch (code) {
            case INVALID_REQUEST -> io.rewind.protocol.v1.ErrorCode.INVALID_REQUEST;
            case WRONG_EXPECTED_VERSION -> io.rewind.protocol.v1.ErrorCode.WRONG_EXPECTED_VERSION;
            case NOT_FOUND -> io.rewind.protocol.v1.ErrorCode.NOT_FOUND;
            case TOO_LARGE -> io.rewind.protocol.v1.ErrorCode.TOO_LARGE;
            case UNAVAILABLE -> io.rewind.protocol.v1.ErrorCode.UNAVAILABLE;
            case INTERNAL -> io.rewind.protocol.v1.ErrorCode.INTERNAL;
            case NOT_LEADER -> io.rewind.protocol.v1.ErrorCode.NOT_LEADER;
            case PERMISSION_DENIED -> io.rewind.protocol.v1.ErrorCode.PERMISSION_DENIED;
            case CONDITION_FAILED -> io.rewind.protocol.v1.ErrorCode.CONDITION_FAILED;
            case STREAM_DELETED -> io.rewind.protocol.v1.ErrorCode.STREAM_DELETED;
        };
    }
}
