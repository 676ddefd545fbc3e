package io.rewind.server.transport;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.rewind.protocol.v1.AppendRequest;
import io.rewind.protocol.v1.AppendResponse;
import io.rewind.protocol.v1.Error;
import io.rewind.protocol.v1.EventRecord;
import io.rewind.protocol.v1.NewEvent;
import io.rewind.protocol.v1.NotLeader;
import io.rewind.protocol.v1.Response;
import io.rewind.protocol.v1.WireFormat;
import io.rewind.protocol.v1.WrongExpectedVersion;
import io.rewind.server.core.AppendCommand;
import io.rewind.server.core.AppendResult;
import io.rewind.server.core.ErrorCode;
import io.rewind.server.core.ExpectedVersion;
import io.rewind.server.core.ProposedEvent;
import io.rewind.server.core.RequestError;
import io.rewind.server.core.RequestException;
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
        List<ProposedEvent> events = new ArrayList<>(request.getEventsCount());
        for (int i = 0; i < request.getEventsCount(); i++) {
            NewEvent event = request.getEvents(i);
            events.add(new ProposedEvent(toUuid(event.getEventId(), i, request.getStream()), event.getType(),
                    bytes(event.getData()), bytes(event.getMetadata())));
        }
        return new AppendCommand(request.getStream(), toExpectedVersion(request), events);
    }

    /** The command as a request, event ids included: what a replicated log entry carries. */
    public static AppendRequest toRequest(AppendCommand command) {
        AppendRequest.Builder request = AppendRequest.newBuilder().setStream(command.stream())
                .setExpectedVersion(toProto(command.expectedVersion()));
        for (ProposedEvent event : command.events()) {
            request.addEvents(WireFormat.newEvent(event.eventId(), event.type(), event.data(), event.metadata()));
        }
        return request.build();
    }

    private static ExpectedVersion toExpectedVersion(AppendRequest request) {
        io.rewind.protocol.v1.ExpectedVersion expected = request.getExpectedVersion();
        return switch (expected.getKindCase()) {
            case ANY, KIND_NOT_SET -> ExpectedVersion.ANY;
            case NO_STREAM -> ExpectedVersion.NO_STREAM;
            case STREAM_EXISTS -> ExpectedVersion.STREAM_EXISTS;
            case EXACT -> {
                if (expected.getExact() < 0) {
                    throw RequestException.of(ErrorCode.INVALID_REQUEST, "exact expected version must be >= 0, got "
                            + expected.getExact() + " (stream '" + request.getStream() + "')");
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
                .build();
    }

    static Response toResponse(long requestId, AppendResult result) {
        return Response.newBuilder().setRequestId(requestId).setAppend(AppendResponse.newBuilder()
                .setFirstPosition(result.firstPosition())
                .setLastPosition(result.lastPosition())
                .setNextExpectedVersion(result.lastVersion())).build();
    }

    static Response toResponse(long requestId, RequestError error) {
        Error.Builder builder = Error.newBuilder().setCode(toProto(error.code())).setMessage(error.message());
        if (error.conflict() != null) {
            builder.setWrongExpectedVersion(WrongExpectedVersion.newBuilder()
                    .setStream(error.conflict().stream())
                    .setExpected(toProto(error.conflict().expected()))
                    .setActualVersion(error.conflict().actualVersion()));
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
        };
    }
}
