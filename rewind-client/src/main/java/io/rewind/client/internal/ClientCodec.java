package io.rewind.client.internal;

import io.rewind.client.AppendCondition;
import io.rewind.client.AppendResult;
import io.rewind.client.ConditionFailedException;
import io.rewind.client.ErasedEvent;
import io.rewind.client.StreamDeletedException;
import io.rewind.client.StreamMetadata;
import io.rewind.client.StreamRetention;
import io.rewind.client.BackupResult;
import io.rewind.client.Direction;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.InvalidRequestException;
import io.rewind.client.ReadOptions;
import io.rewind.client.ReadPage;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindException;
import io.rewind.client.ServerErrorException;
import io.rewind.client.NotLeaderException;
import io.rewind.client.PermissionDeniedException;
import io.rewind.client.ServerInfo;
import io.rewind.client.Query;
import io.rewind.client.QueryItem;
import io.rewind.client.ServerUnavailableException;
import io.rewind.client.StreamAppend;
import io.rewind.client.Tags;
import io.rewind.client.StreamNotFoundException;
import io.rewind.client.TooLargeException;
import io.rewind.client.WrongExpectedVersionException;
import io.rewind.protocol.v1.AppendRequest;
import io.rewind.protocol.v1.EventRecord;
import io.rewind.protocol.v1.NewEvent;
import io.rewind.protocol.v1.ReadRequest;
import io.rewind.protocol.v1.ReadResponse;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.Response;
import io.rewind.protocol.v1.WireFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** The client's one bridge between protobuf messages and its public types. */
public final class ClientCodec {
    private ClientCodec() {}

    public static Request.Builder append(String stream, ExpectedVersion expected, List<EventData> events) {
        return append(List.of(new StreamAppend(stream, expected, events)), null);
    }

    /** One append to every stream of {@code streams}, the first one in AppendRequest's own fields. */
    public static Request.Builder append(List<StreamAppend> streams, AppendCondition condition) {
        StreamAppend first = streams.get(0);
        AppendRequest.Builder append = AppendRequest.newBuilder().setStream(first.stream())
                .setExpectedVersion(toProto(first.expected()));
        for (EventData event : first.events()) {
            append.addEvents(toProto(event));
        }
        for (StreamAppend more : streams.subList(1, streams.size())) {
            io.rewind.protocol.v1.StreamAppend.Builder part = append.addMoreStreamsBuilder().setStream(more.stream())
                    .setExpectedVersion(toProto(more.expected()));
            for (EventData event : more.events()) {
                part.addEvents(toProto(event));
            }
        }
        if (condition != null) {
            io.rewind.protocol.v1.AppendCondition.Builder wire = io.rewind.protocol.v1.AppendCondition.newBuilder()
                    .setFailIfEventsMatch(toProto(condition.failIfEventsMatch()));
            if (condition.after() >= 0) {
                wire.setAfter(condition.after());
            }
            append.setCondition(wire);
        }
        return Request.newBuilder().setAppend(append);
    }

    private static NewEvent toProto(EventData event) {
        // EventData's accessors copy; the builder wraps what it is given.
        NewEvent wire = WireFormat.newEvent(event.eventId(), event.type(), event.data(), event.metadata());
        return event.tags().isEmpty() ? wire : wire.toBuilder().addAllTags(event.tags().asList()).build();
    }

    private static io.rewind.protocol.v1.Query toProto(Query query) {
        io.rewind.protocol.v1.Query.Builder wire = io.rewind.protocol.v1.Query.newBuilder();
        for (QueryItem item : query.items()) {
            wire.addItems(io.rewind.protocol.v1.QueryItem.newBuilder().addAllTypes(item.types())
                    .addAllTags(item.tags().asList()));
        }
        return wire.build();
    }

    /** A page of the events that match a query. */
    public static Request.Builder readQuery(Query query, ReadOptions options, long from, int maxCount) {
        Request.Builder request = read(null, options, from, maxCount);
        request.getReadBuilder().setQuery(toProto(query));
        return request;
    }

    /**
     * @param stream the stream to read, or null for the global log
     * @param from   where this page starts, -1 for the first (forwards) or last (backwards) event
     */
    public static Request.Builder read(String stream, ReadOptions options, long from, int maxCount) {
        ReadRequest.Builder read = ReadRequest.newBuilder()
                .setDirection(options.direction() == Direction.FORWARDS ? io.rewind.protocol.v1.Direction.FORWARD
                        : io.rewind.protocol.v1.Direction.BACKWARD)
                .setMaxCount(maxCount);
        if (stream == null) {
            read.setAll(ReadRequest.AllStreams.getDefaultInstance());
        } else {
            read.setStream(stream);
        }
        if (from >= 0) {
            read.setFrom(from);
        }
        if (options.minPosition() >= 0) {
            read.setMinPosition(options.minPosition());
        }
        read.addAllTypes(options.types());
        if (options.fromTime() != null && from < 0) {
            // Only the first page starts at a time; the next ones go on from next_from.
            read.setFromTimestampMicros(WireFormat.epochMicros(options.fromTime()));
        }
        return Request.newBuilder().setRead(read);
    }

    public static Request.Builder deleteStream(String stream, ExpectedVersion expected, boolean tombstone) {
        return Request.newBuilder().setDeleteStream(io.rewind.protocol.v1.DeleteStreamRequest.newBuilder()
                .setStream(stream).setExpectedVersion(toProto(expected)).setTombstone(tombstone));
    }

    public static Request.Builder truncateStream(String stream, long beforeVersion) {
        return Request.newBuilder().setTruncateStream(io.rewind.protocol.v1.TruncateStreamRequest.newBuilder()
                .setStream(stream).setBeforeVersion(beforeVersion));
    }

    public static Request.Builder setStreamRetention(String stream, StreamRetention retention) {
        return Request.newBuilder().setSetStreamMetadata(io.rewind.protocol.v1.SetStreamMetadataRequest.newBuilder()
                .setStream(stream).setMaxAgeSeconds(retention.maxAge().toSeconds()).setMaxCount(retention.maxCount()));
    }

    public static Request.Builder getStreamMetadata(String stream) {
        return Request.newBuilder().setGetStreamMetadata(io.rewind.protocol.v1.GetStreamMetadataRequest.newBuilder()
                .setStream(stream));
    }

    public static Request.Builder eraseEvent(UUID eventId) {
        return Request.newBuilder().setEraseEvent(io.rewind.protocol.v1.EraseEventRequest.newBuilder()
                .setEventId(WireFormat.eventId(eventId)));
    }

    public static StreamMetadata toStreamMetadata(Response response) {
        var metadata = expect(response, Response.ResultCase.STREAM_METADATA).getStreamMetadata();
        return new StreamMetadata(metadata.getStream(), metadata.getLastVersion(), metadata.getTruncateBefore(),
                metadata.getTombstoned(), java.time.Duration.ofSeconds(metadata.getMaxAgeSeconds()),
                metadata.getMaxCount(), metadata.getFirstVisibleVersion());
    }

    public static ErasedEvent toErasedEvent(Response response) {
        var erased = expect(response, Response.ResultCase.ERASE_EVENT).getEraseEvent();
        return new ErasedEvent(erased.getGlobalPosition(), erased.getStream(), erased.getStreamVersion());
    }

    public static Request.Builder backup(String directory) {
        return Request.newBuilder().setBackup(io.rewind.protocol.v1.BackupRequest.newBuilder().setDirectory(directory));
    }

    public static BackupResult toBackupResult(Response response) {
        var backup = expect(response, Response.ResultCase.BACKUP).getBackup();
        return new BackupResult(backup.getPosition(), backup.getBackupId(), backup.getDirectory(), backup.getNewBytes(),
                backup.getTotalBytes());
    }

    public static Request.Builder serverInfo() {
        return Request.newBuilder().setServerInfo(io.rewind.protocol.v1.ServerInfoRequest.getDefaultInstance());
    }

    public static AppendResult toAppendResult(Response response) {
        var append = expect(response, Response.ResultCase.APPEND).getAppend();
        List<AppendResult.StreamResult> streams = new ArrayList<>(append.getStreamsCount());
        for (io.rewind.protocol.v1.StreamAppendResult stream : append.getStreamsList()) {
            streams.add(new AppendResult.StreamResult(stream.getStream(), stream.getFirstPosition(),
                    stream.getLastPosition(), stream.getNextExpectedVersion()));
        }
        return new AppendResult(append.getFirstPosition(), append.getLastPosition(), append.getNextExpectedVersion(),
                streams);
    }

    /** @param stream the stream that was read, or null for the global log */
    public static ReadPage toReadPage(Response response, String stream) {
        ReadResponse read = expect(response, Response.ResultCase.READ, stream).getRead();
        List<RecordedEvent> events = new ArrayList<>(read.getEventsCount());
        for (EventRecord record : read.getEventsList()) {
            events.add(toRecordedEvent(record));
        }
        return new ReadPage(events, read.getEndReached(), read.getNextFrom());
    }

    public static ServerInfo toServerInfo(Response response) {
        var info = expect(response, Response.ResultCase.SERVER_INFO).getServerInfo();
        String role = info.getRole().isEmpty() ? "standalone" : info.getRole();
        return new ServerInfo(info.getVersion(), info.getHeadPosition(), info.getStreamCount(),
                info.getStorageEngine(), info.getStreamEndpoint(), info.getNodeId(), role, info.getLeaderId(),
                info.getTerm(), info.getNodeId().isEmpty() ? -1 : info.getCommitIndex(),
                info.getNodeId().isEmpty() ? info.getHeadPosition() : info.getAppliedPosition(),
                info.getMembersList().stream().map(m -> new ServerInfo.Member(m.getId(), m.getCommandEndpoint()))
                        .toList());
    }

    /** Decodes an event from a read reply or the live feed. */
    public static RecordedEvent toRecordedEvent(EventRecord record) {
        UUID id;
        try {
            id = WireFormat.eventId(record.getEventId());
        } catch (IllegalArgumentException e) {
            throw new RewindException("the server sent an event id of " + record.getEventId().size()
                    + " bytes, not 16", e);
        }
        return new RecordedEvent(id, record.getStream(), record.getStreamVersion(),
                record.getGlobalPosition(), record.getType(), record.getData().toByteArray(),
                record.getMetadata().toByteArray(), WireFormat.instant(record.getCommitTimestampMicros()),
                record.getTagsCount() == 0 ? Tags.none() : Tags.of(record.getTagsList()), record.getErased());
    }

    private static Response expect(Response response, Response.ResultCase expected) {
        return expect(response, expected, null);
    }

    private static Response expect(Response response, Response.ResultCase expected, String stream) {
        if (response.getResultCase() == expected) {
            return response;
        }
        if (response.getResultCase() == Response.ResultCase.ERROR) {
            throw toException(response.getError(), stream);
        }
        throw new RewindException("the server answered " + response.getResultCase() + " to a " + expected
                + " request");
    }

    private static RewindException toException(io.rewind.protocol.v1.Error error, String stream) {
        String message = error.getMessage();
        return switch (error.getCode()) {
            case WRONG_EXPECTED_VERSION -> {
                var details = error.getWrongExpectedVersion();
                yield new WrongExpectedVersionException(message, details.getStream(),
                        fromProto(details.getExpected()), details.getActualVersion());
            }
            case NOT_FOUND -> new StreamNotFoundException(message, stream);
            case INVALID_REQUEST -> new InvalidRequestException(message);
            case TOO_LARGE -> new TooLargeException(message);
            case UNAVAILABLE -> new ServerUnavailableException(message);
            case INTERNAL -> new ServerErrorException(message);
            case PERMISSION_DENIED -> new PermissionDeniedException(message);
            case CONDITION_FAILED -> new ConditionFailedException(message, error.getConditionFailed().getPosition());
            case STREAM_DELETED -> new StreamDeletedException(message);
            case NOT_LEADER -> new NotLeaderException(message, error.getNotLeader().getLeaderId(),
                    error.getNotLeader().getLeaderCommandEndpoint());
            default -> new RewindException("server error " + error.getCode() + ": " + message);
        };
    }

    private static io.rewind.protocol.v1.ExpectedVersion toProto(ExpectedVersion expected) {
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

    private static ExpectedVersion fromProto(io.rewind.protocol.v1.ExpectedVersion expected) {
        return switch (expected.getKindCase()) {
            case NO_STREAM -> ExpectedVersion.noStream();
            case STREAM_EXISTS -> ExpectedVersion.streamExists();
            case EXACT -> ExpectedVersion.exact(expected.getExact());
            case ANY, KIND_NOT_SET -> ExpectedVersion.any();
        };
    }
}
