package io.rewind.server.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.rewind.protocol.v1.AppendRequest;
import io.rewind.protocol.v1.NewEvent;
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
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The replicated log entry: every command round-trips, old entries replay, and decoding checks shape only. */
class EntryCodecTest {
    private static final ByteString PROPOSER = ByteString.copyFrom(new byte[16]);

    @Test
    void everyCommandRoundTrips() throws Exception {
        UUID id = UUID.randomUUID();
        List<AppendCommand> commands = List.of(
                new AppendCommand(List.of(
                        new StreamPart("orders-1", new ExpectedVersion.Exact(4), List.of(new ProposedEvent(id, "Placed",
                                new byte[] {1, 2}, new byte[] {3}, List.of("customer:7")))),
                        new StreamPart("orders-2", ExpectedVersion.NO_STREAM, List.of(new ProposedEvent(null, "Placed",
                                new byte[0], new byte[0], List.of())))),
                        new AppendCondition(new EventQuery(List.of(new EventQuery.Item(List.of("Placed"),
                                List.of("customer:7")))), 41)),
                AppendCommand.of(new StreamOperation.Delete("orders-3", ExpectedVersion.STREAM_EXISTS, true)),
                AppendCommand.of(new StreamOperation.Truncate("orders-4", 10)),
                AppendCommand.of(new StreamOperation.SetRetention("orders-5", 3_600_000_000L, 100)),
                AppendCommand.of(new StreamOperation.Erase(id)));
        ReplicatedAppends entry = EntryCodec.encode(PROPOSER, 9, 1_700_000_000_000_000L, commands);
        EntryCodec.Decoded decoded = EntryCodec.decode(ByteBuffer.wrap(entry.toByteArray()));

        assertThat(decoded.entry().getSequence()).isEqualTo(9);
        assertThat(decoded.entry().getCommitTimestampMicros()).isEqualTo(1_700_000_000_000_000L);
        assertThat(decoded.indexes()).containsExactly(0, 1, 2, 3, 4);
        assertThat(decoded.commands()).hasSize(5);
        assertThat(decoded.commands().subList(1, 5)).isEqualTo(commands.subList(1, 5));
        AppendCommand append = decoded.commands().get(0);
        assertThat(append.condition()).isEqualTo(commands.get(0).condition());
        assertThat(append.parts().get(0).expectedVersion()).isEqualTo(new ExpectedVersion.Exact(4));
        assertThat(append.parts().get(0).events().get(0).eventId()).isEqualTo(id);
        assertThat(append.parts().get(0).events().get(0).data()).containsExactly(1, 2);
        assertThat(append.parts().get(0).events().get(0).tags()).containsExactly("customer:7");
        assertThat(append.parts().get(1).stream()).isEqualTo("orders-2");
        assertThat(append.parts().get(1).events().get(0).eventId()).isNull();
    }

    @Test
    void anEntryOfTheFormatBeforeStreamOperationsStillDecodes() throws Exception {
        byte[] old = ReplicatedAppends.newBuilder().setProposer(PROPOSER).setSequence(1)
                .addAppends(AppendRequest.newBuilder().setStream("legacy").addEvents(NewEvent.newBuilder()
                        .setEventId(WireFormat.eventId(UUID.randomUUID())).setType("E"))).build().toByteArray();
        assertThat(EntryCodec.decode(ByteBuffer.wrap(old)).commands()).singleElement()
                .satisfies(c -> assertThat(c.parts().get(0).stream()).isEqualTo("legacy"));
    }

    @Test
    void decodingChecksNoLimitOrNameRule() throws Exception {
        // What the edge refuses (an empty name, one far beyond any limit) replays as the leader decided it.
        String huge = "s".repeat(100_000);
        byte[] entry = ReplicatedAppends.newBuilder().addCommands(ReplicatedCommand.newBuilder()
                .setAppend(AppendRequest.newBuilder().setStream(huge).addEvents(NewEvent.newBuilder().setType("")
                        .setData(ByteString.copyFrom(new byte[2 << 20]))))).addCommands(ReplicatedCommand.newBuilder()
                .setAppend(AppendRequest.newBuilder().setStream(""))).build().toByteArray();
        assertThat(EntryCodec.decode(ByteBuffer.wrap(entry)).commands()).hasSize(2);
    }

    @Test
    void anEntryOfAnotherShapeIsMalformed() {
        assertThatThrownBy(() -> EntryCodec.decode(ByteBuffer.wrap(new byte[] {(byte) 0xff, (byte) 0xff, 1})))
                .isInstanceOf(EntryCodec.MalformedEntry.class).hasMessageContaining("does not parse");
        byte[] shortId = ReplicatedAppends.newBuilder().addCommands(ReplicatedCommand.newBuilder().setAppend(
                AppendRequest.newBuilder().setStream("s").addEvents(NewEvent.newBuilder()
                        .setEventId(ByteString.copyFrom(new byte[3]))))).build().toByteArray();
        assertThatThrownBy(() -> EntryCodec.decode(ByteBuffer.wrap(shortId)))
                .isInstanceOf(EntryCodec.MalformedEntry.class).hasMessageContaining("3 bytes, not 16");
        byte[] unknownKind = ReplicatedAppends.newBuilder().addCommands(ReplicatedCommand.getDefaultInstance())
                .build().toByteArray();
        assertThatThrownBy(() -> EntryCodec.decode(ByteBuffer.wrap(unknownKind)))
                .isInstanceOf(EntryCodec.MalformedEntry.class).hasMessageContaining("does not know");
    }
}
