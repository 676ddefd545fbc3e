package io.rewind.server.replication;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.rewind.protocol.v1.AppendRequest;
import io.rewind.protocol.v1.DeleteStreamRequest;
import io.rewind.protocol.v1.EraseEventRequest;
import io.rewind.protocol.v1.NewEvent;
import io.rewind.protocol.v1.Query;
import io.rewind.protocol.v1.QueryItem;
import io.rewind.protocol.v1.SetStreamMetadataRequest;
import io.rewind.protocol.v1.StreamAppend;
import io.rewind.protocol.v1.TruncateStreamRequest;
import io.rewind.protocol.v1.WireFormat;
import io.rewind.server.core.AppendCommand;
import io.rewind.server.core.AppendCondition;
import io.rewind.server.core.ExpectedVersion;
import io.rewind.server.core.ProposedEvent;
import io.rewind.server.core.StreamOperation;
import io.rewind.server.core.StreamPart;
import io.rewind.server.replication.log.ReplicatedAppends;
import io.rewind.server.replication.log.ReplicatedCommand;
import io.rewind.server.storage.EventQuery;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The replicated log entry's codec: commands to {@link ReplicatedAppends} on the leader, and back on every member.
 * Decoding checks the entry's shape only (it parses; every id is 16 bytes; an erasure names an event): never a
 * limit, a name rule or any check a release might tighten. Requests are checked once, at the edge, before they are
 * proposed; a log written by an older release must always replay, and every member, whatever its release, must
 * decide each entry from its bytes alone.
 */
final class EntryCodec {
    private static final byte[] NO_BYTES = new byte[0];

    private EntryCodec() {}

    /** An entry that is not of Rewind's shape; every member finds the same from the same bytes. */
    static final class MalformedEntry extends Exception {
        MalformedEntry(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** An entry's header and commands, in the order the decider takes them; indexes are the commands' own. */
    record Decoded(ReplicatedAppends entry, List<AppendCommand> commands, List<Integer> indexes) {}

    /** The entry of one group commit. */
    static ReplicatedAppends encode(ByteString proposer, long sequence, long commitMicros, List<AppendCommand> commands) {
        ReplicatedAppends.Builder entry = ReplicatedAppends.newBuilder().setProposer(proposer).setSequence(sequence)
                .setCommitTimestampMicros(commitMicros);
        for (AppendCommand command : commands) {
            entry.addCommands(encode(command));
        }
        return entry.build();
    }

    static Decoded decode(ByteBuffer data) throws MalformedEntry {
        ReplicatedAppends entry;
        try {
            entry = ReplicatedAppends.parseFrom(data);
        } catch (InvalidProtocolBufferException e) {
            throw new MalformedEntry("it does not parse as a ReplicatedAppends: " + e.getMessage(), e);
        }
        List<AppendCommand> commands = new ArrayList<>(entry.getAppendsCount() + entry.getCommandsCount());
        List<Integer> indexes = new ArrayList<>(entry.getAppendsCount() + entry.getCommandsCount());
        // Entries written before stream operations existed hold appends only.
        for (AppendRequest append : entry.getAppendsList()) {
            indexes.add(commands.size());
            commands.add(append(append));
        }
        for (ReplicatedCommand command : entry.getCommandsList()) {
            indexes.add(commands.size());
            commands.add(decode(command));
        }
        return new Decoded(entry, commands, indexes);
    }

    private static ReplicatedCommand encode(AppendCommand command) {
        StreamOperation operation = command.operation();
        ReplicatedCommand.Builder replicated = ReplicatedCommand.newBuilder();
        if (operation == null) {
            return replicated.setAppend(request(command)).build();
        }
        if (operation instanceof StreamOperation.Delete delete) {
            replicated.setDeleteStream(DeleteStreamRequest.newBuilder().setStream(delete.stream())
                    .setExpectedVersion(expected(delete.expected())).setTombstone(delete.tombstone()));
        } else if (operation instanceof StreamOperation.Truncate truncate) {
            replicated.setTruncateStream(TruncateStreamRequest.newBuilder().setStream(truncate.stream())
                    .setBeforeVersion(truncate.beforeVersion()));
        } else if (operation instanceof StreamOperation.SetRetention retention) {
            replicated.setSetStreamMetadata(SetStreamMetadataRequest.newBuilder().setStream(retention.stream())
                    .setMaxAgeSeconds(retention.maxAgeMicros() / 1_000_000).setMaxCount(retention.maxCount()));
        } else {
            replicated.setEraseEvent(EraseEventRequest.newBuilder()
                    .setEventId(WireFormat.eventId(((StreamOperation.Erase) operation).eventId())));
        }
        return replicated.build();
    }

    private static AppendCommand decode(ReplicatedCommand command) throws MalformedEntry {
        return switch (command.getKindCase()) {
            case APPEND -> append(command.getAppend());
            case DELETE_STREAM -> AppendCommand.of(new StreamOperation.Delete(command.getDeleteStream().getStream(),
                    expected(command.getDeleteStream().getExpectedVersion()), command.getDeleteStream().getTombstone()));
            case TRUNCATE_STREAM -> AppendCommand.of(new StreamOperation.Truncate(
                    command.getTruncateStream().getStream(), command.getTruncateStream().getBeforeVersion()));
            case SET_STREAM_METADATA -> {
                SetStreamMetadataRequest set = command.getSetStreamMetadata();
                // Seconds as the leader wrote them, in microseconds; no product overflows what was checked before.
                long micros = set.getMaxAgeSeconds() > Long.MAX_VALUE / 1_000_000 ? Long.MAX_VALUE
                        : set.getMaxAgeSeconds() * 1_000_000;
                yield AppendCommand.of(new StreamOperation.SetRetention(set.getStream(), micros, set.getMaxCount()));
            }
            case ERASE_EVENT -> {
                UUID id = id(command.getEraseEvent().getEventId(), "the erasure");
                if (id == null) {
                    throw new MalformedEntry("an erasure names no event", null);
                }
                yield AppendCommand.of(new StreamOperation.Erase(id));
            }
            case KIND_NOT_SET -> throw new MalformedEntry("a command of a kind this release does not know (field "
                    + command.getUnknownFields().asMap().keySet() + "), or none", null);
        };
    }

    private static AppendRequest request(AppendCommand command) {
        StreamPart first = command.parts().get(0);
        AppendRequest.Builder request = AppendRequest.newBuilder().setStream(first.stream())
                .setExpectedVersion(expected(first.expectedVersion()));
        for (ProposedEvent event : first.events()) {
            request.addEvents(event(event));
        }
        for (StreamPart part : command.parts().subList(1, command.parts().size())) {
            StreamAppend.Builder more = request.addMoreStreamsBuilder().setStream(part.stream())
                    .setExpectedVersion(expected(part.expectedVersion()));
            for (ProposedEvent event : part.events()) {
                more.addEvents(event(event));
            }
        }
        if (command.condition() != null) {
            Query.Builder query = Query.newBuilder();
            for (EventQuery.Item item : command.condition().failIfEventsMatch().items()) {
                query.addItems(QueryItem.newBuilder().addAllTypes(item.types()).addAllTags(item.tags()));
            }
            io.rewind.protocol.v1.AppendCondition.Builder condition = io.rewind.protocol.v1.AppendCondition
                    .newBuilder().setFailIfEventsMatch(query);
            if (command.condition().after() >= 0) {
                condition.setAfter(command.condition().after());
            }
            request.setCondition(condition);
        }
        return request.build();
    }

    private static AppendCommand append(AppendRequest request) throws MalformedEntry {
        List<StreamPart> parts = new ArrayList<>(1 + request.getMoreStreamsCount());
        parts.add(part(request.getStream(), request.getExpectedVersion(), request.getEventsList()));
        for (StreamAppend more : request.getMoreStreamsList()) {
            parts.add(part(more.getStream(), more.getExpectedVersion(), more.getEventsList()));
        }
        AppendCondition condition = null;
        if (request.hasCondition()) {
            List<EventQuery.Item> items = new ArrayList<>();
            for (QueryItem item : request.getCondition().getFailIfEventsMatch().getItemsList()) {
                items.add(new EventQuery.Item(item.getTypesList(), item.getTagsList()));
            }
            condition = new AppendCondition(new EventQuery(items),
                    request.getCondition().hasAfter() ? request.getCondition().getAfter() : -1);
        }
        return new AppendCommand(parts, condition);
    }

    private static StreamPart part(String stream, io.rewind.protocol.v1.ExpectedVersion expected, List<NewEvent> wire)
            throws MalformedEntry {
        List<ProposedEvent> events = new ArrayList<>(wire.size());
        for (NewEvent event : wire) {
            events.add(new ProposedEvent(id(event.getEventId(), "an event of stream '" + stream + "'"),
                    event.getType(), bytes(event.getData()), bytes(event.getMetadata()),
                    event.getTagsCount() == 0 ? List.of() : event.getTagsList()));
        }
        return new StreamPart(stream, expected(expected), events);
    }

    private static ExpectedVersion expected(io.rewind.protocol.v1.ExpectedVersion expected) throws MalformedEntry {
        return switch (expected.getKindCase()) {
            case ANY, KIND_NOT_SET -> ExpectedVersion.ANY;
            case NO_STREAM -> ExpectedVersion.NO_STREAM;
            case STREAM_EXISTS -> ExpectedVersion.STREAM_EXISTS;
            case EXACT -> {
                if (expected.getExact() < 0) {
                    throw new MalformedEntry("an exact expected version of " + expected.getExact(), null);
                }
                yield new ExpectedVersion.Exact(expected.getExact());
            }
        };
    }

    private static io.rewind.protocol.v1.ExpectedVersion expected(ExpectedVersion expected) {
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

    private static NewEvent event(ProposedEvent event) {
        NewEvent wire = WireFormat.newEvent(event.eventId(), event.type(), event.data(), event.metadata());
        return event.tags().isEmpty() ? wire : wire.toBuilder().addAllTags(event.tags()).build();
    }

    private static UUID id(ByteString id, String of) throws MalformedEntry {
        if (id.isEmpty()) {
            return null;
        }
        if (id.size() != WireFormat.EVENT_ID_BYTES) {
            throw new MalformedEntry(of + " has an id of " + id.size() + " bytes, not 16", null);
        }
        return WireFormat.eventId(id);
    }

    private static byte[] bytes(ByteString value) {
        return value.isEmpty() ? NO_BYTES : value.toByteArray();
    }
}
