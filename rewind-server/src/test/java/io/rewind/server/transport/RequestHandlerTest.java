package io.rewind.server.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.rewind.protocol.v1.AppendRequest;
import io.rewind.protocol.v1.Direction;
import io.rewind.protocol.v1.ErrorCode;
import io.rewind.protocol.v1.ExpectedVersion;
import io.rewind.protocol.v1.NewEvent;
import io.rewind.protocol.v1.ReadRequest;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.Response;
import io.rewind.server.core.AppendWriter;
import io.rewind.server.core.Limits;
import io.rewind.server.storage.InMemoryStorage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each malformed shape or broken limit gets its exact error code, and nothing is queued for writing. */
class RequestHandlerTest {
    private static final byte[][] ENVELOPE = {{1, 2, 3}, {}};
    private final InMemoryStorage storage = new InMemoryStorage();
    private final AppendWriter<ReplyTo> writer = new AppendWriter<>(storage, true, 4, 10_000, outcomes -> { }, () -> { });
    private final Limits limits = new Limits(255, 100, 3, 250, 50, 1 << 20, 4, 20);
    private final RequestHandler handler = new RequestHandler(storage, writer, limits, "test",
            () -> "tcp://127.0.0.1:9091");

    private Response handle(Request request) {
        return handler.handle(request.toByteArray(), ENVELOPE, null);
    }

    private static Request append(String stream, NewEvent... events) {
        return Request.newBuilder().setRequestId(42).setAppend(AppendRequest.newBuilder().setStream(stream)
                .addAllEvents(List.of(events))).build();
    }

    private static NewEvent event(int dataBytes) {
        return NewEvent.newBuilder().setType("T").setData(ByteString.copyFrom(new byte[dataBytes])).build();
    }

    private void assertError(Response response, ErrorCode code, String... mentions) {
        assertThat(response).as("an immediate reply").isNotNull();
        assertThat(response.getError().getCode()).isEqualTo(code);
        for (String mention : mentions) {
            assertThat(response.getError().getMessage()).contains(mention);
        }
        assertThat(writer.queued()).as("nothing queued").isZero();
    }

    @Test
    void bytesThatAreNotARequest() {
        assertError(handler.handle(new byte[] {(byte) 0x80}, ENVELOPE, null), ErrorCode.INVALID_REQUEST,
                "not a valid rewind.v1.Request");
        assertError(handler.handle(new byte[] {0x0a, 0x05, 'a'}, ENVELOPE, null), ErrorCode.INVALID_REQUEST);
    }

    @Test
    void aRequestWithoutOperation() {
        Response response = handle(Request.newBuilder().setRequestId(9).build());
        assertError(response, ErrorCode.INVALID_REQUEST, "no operation");
        assertThat(response.getRequestId()).isEqualTo(9);
    }

    @Test
    void invalidUtf8InAStreamNameIsRejectedByTheParser() {
        // Field 2 (append) holding field 1 (stream) with the bytes 0xC3 0x28, which are not UTF-8.
        byte[] frame = {0x12, 0x04, 0x0a, 0x02, (byte) 0xc3, 0x28};
        assertError(handler.handle(frame, ENVELOPE, null), ErrorCode.INVALID_REQUEST, "UTF-8");
    }

    @Test
    void appendShapesAndLimits() {
        assertError(handle(append("s")), ErrorCode.INVALID_REQUEST, "no events");
        assertError(handle(append("", event(1))), ErrorCode.INVALID_REQUEST, "empty");
        assertError(handle(append("a\0b", event(1))), ErrorCode.INVALID_REQUEST, "NUL");
        assertError(handle(append("x".repeat(256), event(1))), ErrorCode.INVALID_REQUEST, "256 bytes", "255");
        assertError(handle(append("s", event(1), event(1), event(1), event(1))), ErrorCode.TOO_LARGE, "4 events",
                "limit is 3");
        assertError(handle(append("s", event(1), event(200))), ErrorCode.TOO_LARGE, "event 1", "limit is 100");
        assertError(handle(append("s", event(99), event(99), event(99))), ErrorCode.TOO_LARGE, "300 bytes",
                "limit is 250");
        assertError(handle(append("s", NewEvent.newBuilder().setEventId(ByteString.copyFrom(new byte[15])).build())),
                ErrorCode.INVALID_REQUEST, "15 bytes");
        NewEvent same = NewEvent.newBuilder().setEventId(ByteString.copyFrom(new byte[16])).build();
        assertError(handle(append("s", same, same)), ErrorCode.INVALID_REQUEST, "appears twice");
        assertError(handle(Request.newBuilder().setAppend(AppendRequest.newBuilder().setStream("s").addEvents(event(1))
                .setExpectedVersion(ExpectedVersion.newBuilder().setExact(-3))).build()),
                ErrorCode.INVALID_REQUEST, "-3");
    }

    @Test
    void aValidAppendIsQueuedAndRepliedToLater() {
        assertThat(handle(append("s", event(1)))).isNull();
        assertThat(writer.queued()).isEqualTo(1);
    }

    @Test
    void aFullQueueAnswersUnavailable() {
        for (int i = 0; i < 4; i++) {
            assertThat(handle(append("s", event(1)))).isNull();
        }
        Response response = handle(append("s", event(1)));
        assertThat(response.getError().getCode()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(response.getError().getMessage()).contains("retry");
    }

    @Test
    void readShapes() {
        assertError(handle(Request.newBuilder().setRead(ReadRequest.newBuilder()).build()),
                ErrorCode.INVALID_REQUEST, "no source");
        assertError(handle(Request.newBuilder().setRead(ReadRequest.newBuilder().setStream("nope")).build()),
                ErrorCode.NOT_FOUND, "'nope'");
        assertError(handle(Request.newBuilder().setRead(ReadRequest.newBuilder().setStream("")).build()),
                ErrorCode.INVALID_REQUEST, "empty");
        assertError(handle(Request.newBuilder().setRead(ReadRequest.newBuilder()
                .setAll(ReadRequest.AllStreams.getDefaultInstance()).setFrom(-1)).build()),
                ErrorCode.INVALID_REQUEST, "-1");
        assertError(handle(Request.newBuilder().setRead(ReadRequest.newBuilder()
                .setAll(ReadRequest.AllStreams.getDefaultInstance()).setDirectionValue(7)).build()),
                ErrorCode.INVALID_REQUEST, "direction 7");
    }

    @Test
    void aReadPageIsCappedByTheLimitNotRefused() {
        for (int i = 0; i < 60; i++) {
            storage.append(List.of(new io.rewind.server.storage.StoredEvent(java.util.UUID.randomUUID(), "s", i, i,
                    "T", new byte[1], new byte[0], 0)), true);
        }
        Response capped = handle(Request.newBuilder().setRead(ReadRequest.newBuilder().setStream("s")
                .setMaxCount(1_000_000)).build());
        assertThat(capped.getRead().getEventsCount()).isEqualTo(50);
        assertThat(capped.getRead().getEndReached()).isFalse();
        assertThat(capped.getRead().getNextFrom()).isEqualTo(50);
        Response defaulted = handle(Request.newBuilder().setRead(ReadRequest.newBuilder()
                .setAll(ReadRequest.AllStreams.getDefaultInstance())).build());
        assertThat(defaulted.getRead().getEventsCount()).isEqualTo(50);
        Response unsigned = handle(Request.newBuilder().setRead(ReadRequest.newBuilder()
                .setAll(ReadRequest.AllStreams.getDefaultInstance()).setMaxCount(-1)).build());
        assertThat(unsigned.getRead().getEventsCount()).as("max_count is unsigned: 2^32-1 is capped too")
                .isEqualTo(50);
    }

    @Test
    void aNameWithinTheConfiguredLimitPassesAndOneBeyondItDoesNot() {
        RequestHandler strict = new RequestHandler(storage, writer, new Limits(8, 100, 3, 250, 50, 1 << 20, 4, 20), "test",
                () -> "tcp://127.0.0.1:9091");
        assertThat(strict.handle(append("12345678", event(1)).toByteArray(), ENVELOPE, null)).isNull();
        Response response = strict.handle(append("123456789", event(1)).toByteArray(), ENVELOPE, null);
        assertThat(response.getError().getCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(response.getError().getMessage()).contains("9 bytes").contains("limit is 8");
    }

    @Test
    void readsOfAnEmptyLogReachTheEndAtOnce() {
        Response forward = handle(Request.newBuilder().setRead(ReadRequest.newBuilder()
                .setAll(ReadRequest.AllStreams.getDefaultInstance())).build());
        assertThat(forward.getRead().getEventsCount()).isZero();
        assertThat(forward.getRead().getEndReached()).isTrue();
        assertThat(forward.getRead().getNextFrom()).isZero();

        Response backward = handle(Request.newBuilder().setRead(ReadRequest.newBuilder()
                .setAll(ReadRequest.AllStreams.getDefaultInstance()).setDirection(Direction.BACKWARD)).build());
        assertThat(backward.getRead().getEndReached()).isTrue();
        assertThat(backward.getRead().getNextFrom()).isEqualTo(-1);
    }

    @Test
    void aReadWithAMinimumPositionWaitsUntilThePositionIsApplied() {
        Request read = Request.newBuilder().setRequestId(7).setRead(ReadRequest.newBuilder()
                .setAll(ReadRequest.AllStreams.getDefaultInstance()).setMinPosition(1)).build();
        assertThat(handle(read)).as("parked: nothing applied yet").isNull();
        assertThat(handler.answerWaitingReads()).isEmpty();

        storage.append(List.of(stored(0)), false);
        assertThat(handler.answerWaitingReads()).as("position 1 is not applied yet").isEmpty();
        storage.append(List.of(stored(1)), false);
        List<RouterEndpoint.DeferredReply> answers = handler.answerWaitingReads();
        assertThat(answers).hasSize(1);
        assertThat(answers.get(0).envelope()).isEqualTo(ENVELOPE);
        Response response = parse(answers.get(0).frames()[0]);
        assertThat(response.getRequestId()).isEqualTo(7);
        assertThat(response.getRead().getEventsCount()).isEqualTo(2);
        assertThat(handler.answerWaitingReads()).as("answered once").isEmpty();

        // Applied already: answered at once.
        assertThat(handle(read).getRead().getEventsCount()).isEqualTo(2);
        assertError(handle(read.toBuilder().setRead(read.getRead().toBuilder().setMinPosition(-1)).build()),
                ErrorCode.INVALID_REQUEST, "min_position", "-1");
    }

    private static io.rewind.server.storage.StoredEvent stored(long position) {
        return new io.rewind.server.storage.StoredEvent(java.util.UUID.randomUUID(), "s", position, position, "T",
                new byte[0], new byte[0], 0);
    }

    private static Response parse(byte[] frame) {
        try {
            return Response.parseFrom(frame);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }
}
