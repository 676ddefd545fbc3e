package io.rewind.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.InvalidRequestException;
import io.rewind.client.ReadOptions;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindException;
import io.rewind.client.ServerErrorException;
import io.rewind.client.ServerUnavailableException;
import io.rewind.client.StreamNotFoundException;
import io.rewind.client.TooLargeException;
import io.rewind.client.WrongExpectedVersionException;
import io.rewind.protocol.v1.AppendResponse;
import io.rewind.protocol.v1.Direction;
import io.rewind.protocol.v1.Error;
import io.rewind.protocol.v1.ErrorCode;
import io.rewind.protocol.v1.EventRecord;
import io.rewind.protocol.v1.ReadResponse;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.Response;
import io.rewind.protocol.v1.WrongExpectedVersion;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ClientCodecTest {

    private static Response error(ErrorCode code, String message) {
        return Response.newBuilder().setError(Error.newBuilder().setCode(code).setMessage(message)).build();
    }

    @Test
    void anAppendCarriesIdsExpectedVersionAndPayloads() {
        UUID id = UUID.fromString("0b8f4c59-3f0e-4d6a-9a52-6a1d2f6f1c3e");
        Request request = ClientCodec.append("s", ExpectedVersion.exact(7),
                List.of(new EventData(id, "T", new byte[] {1, 2}, new byte[] {3}),
                        new EventData(null, "U", new byte[0], new byte[0]))).build();

        assertThat(request.getAppend().getStream()).isEqualTo("s");
        assertThat(request.getAppend().getExpectedVersion().getExact()).isEqualTo(7);
        ByteBuffer idBytes = request.getAppend().getEvents(0).getEventId().asReadOnlyByteBuffer();
        assertThat(new UUID(idBytes.getLong(), idBytes.getLong())).isEqualTo(id);
        assertThat(request.getAppend().getEvents(0).getData().toByteArray()).containsExactly(1, 2);
        assertThat(request.getAppend().getEvents(1).getEventId().isEmpty()).as("server assigns it").isTrue();
        assertThat(ClientCodec.append("s", ExpectedVersion.noStream(), List.of()).build().getAppend()
                .getExpectedVersion().hasNoStream()).isTrue();
    }

    @Test
    void aReadSetsSourceDirectionAndStartOnlyWhenGiven() {
        Request all = ClientCodec.read(null, ReadOptions.backwards(), -1, 10).build();
        assertThat(all.getRead().hasAll()).isTrue();
        assertThat(all.getRead().getDirection()).isEqualTo(Direction.BACKWARD);
        assertThat(all.getRead().hasFrom()).isFalse();
        Request stream = ClientCodec.read("s", ReadOptions.forwards(), 5, 0).build();
        assertThat(stream.getRead().getStream()).isEqualTo("s");
        assertThat(stream.getRead().getFrom()).isEqualTo(5);
    }

    @Test
    void eachErrorCodeBecomesItsTypedException() {
        Response conflict = Response.newBuilder().setError(Error.newBuilder()
                .setCode(ErrorCode.WRONG_EXPECTED_VERSION).setMessage("conflict")
                .setWrongExpectedVersion(WrongExpectedVersion.newBuilder().setStream("s").setActualVersion(4)
                        .setExpected(io.rewind.protocol.v1.ExpectedVersion.newBuilder().setExact(2)))).build();
        assertThatThrownBy(() -> ClientCodec.toAppendResult(conflict))
                .isInstanceOfSatisfying(WrongExpectedVersionException.class, e -> {
                    assertThat(e.stream()).isEqualTo("s");
                    assertThat(e.expected()).isEqualTo(ExpectedVersion.exact(2));
                    assertThat(e.actualVersion()).isEqualTo(4);
                });
        assertThatThrownBy(() -> ClientCodec.toReadPage(error(ErrorCode.NOT_FOUND, "gone"), "s"))
                .isInstanceOfSatisfying(StreamNotFoundException.class, e -> assertThat(e.stream()).isEqualTo("s"));
        assertThatThrownBy(() -> ClientCodec.toAppendResult(error(ErrorCode.INVALID_REQUEST, "bad")))
                .isInstanceOf(InvalidRequestException.class).hasMessage("bad");
        assertThatThrownBy(() -> ClientCodec.toAppendResult(error(ErrorCode.TOO_LARGE, "big")))
                .isInstanceOf(TooLargeException.class);
        assertThatThrownBy(() -> ClientCodec.toAppendResult(error(ErrorCode.UNAVAILABLE, "busy")))
                .isInstanceOf(ServerUnavailableException.class);
        assertThatThrownBy(() -> ClientCodec.toAppendResult(error(ErrorCode.INTERNAL, "disk")))
                .isInstanceOf(ServerErrorException.class);
        assertThatThrownBy(() -> ClientCodec.toServerInfo(Response.newBuilder()
                .setAppend(AppendResponse.getDefaultInstance()).build()))
                .isInstanceOf(RewindException.class).hasMessageContaining("APPEND");
    }

    @Test
    void recordsDecodeWithTheirCommitTime() {
        UUID id = UUID.randomUUID();
        EventRecord record = EventRecord.newBuilder()
                .setEventId(ByteString.copyFrom(ByteBuffer.allocate(16).putLong(id.getMostSignificantBits())
                        .putLong(id.getLeastSignificantBits()).array()))
                .setStream("s").setStreamVersion(3).setGlobalPosition(9).setType("T")
                .setData(ByteString.copyFromUtf8("d")).setCommitTimestampMicros(1_700_000_000_123_456L).build();

        RecordedEvent event = ClientCodec.toReadPage(Response.newBuilder()
                .setRead(ReadResponse.newBuilder().addEvents(record).setNextFrom(10)).build(), "s").events().get(0);

        assertThat(event.eventId()).isEqualTo(id);
        assertThat(event.streamVersion()).isEqualTo(3);
        assertThat(event.globalPosition()).isEqualTo(9);
        assertThat(event.dataAsString()).isEqualTo("d");
        assertThat(event.committedAt()).isEqualTo(Instant.ofEpochSecond(1_700_000_000L, 123_456_000L));
        assertThatThrownBy(() -> ClientCodec.toRecordedEvent(record.toBuilder().setEventId(ByteString.EMPTY).build()))
                .isInstanceOf(RewindException.class).hasMessageContaining("0 bytes");
    }
}
