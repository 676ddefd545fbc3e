package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.rewind.protocol.v1.AppendRequest;
import io.rewind.protocol.v1.ErrorCode;
import io.rewind.protocol.v1.EventRecord;
import io.rewind.protocol.v1.NewEvent;
import io.rewind.protocol.v1.ReadRequest;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.Response;
import io.rewind.protocol.v1.ServerInfoRequest;
import io.rewind.testkit.ServerProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * The protocol as a client in another language sees it: raw ZeroMQ sockets and the generated
 * messages, no Rewind client. Covers plain REQ clients, malformed requests, and the live feed's
 * topic filtering.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RawProtocolIT {
    private static final byte[] EMPTY = new byte[0];

    @TempDir
    static Path dataDir;

    ServerProcess server;
    ZContext context;

    @BeforeAll
    void start() {
        server = ServerProcess.start("RawProtocolIT", dataDir.resolve("data"), "rocksdb");
        context = new ZContext();
    }

    @AfterAll
    void stop() {
        if (context != null) {
            context.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private ZMQ.Socket socket(SocketType type) {
        return TestSockets.client(context, type);
    }

    private ZMQ.Socket dealer() {
        ZMQ.Socket socket = socket(SocketType.DEALER);
        socket.connect(server.commandEndpoint());
        return socket;
    }

    private static Response receive(ZMQ.Socket dealer) throws Exception {
        byte[] delimiter = dealer.recv();
        assertThat(delimiter).as("reply delimiter (null means no reply within the timeout)").isEmpty();
        assertThat(dealer.hasReceiveMore()).isTrue();
        byte[] body = dealer.recv();
        assertThat(dealer.hasReceiveMore()).as("a reply is exactly two frames").isFalse();
        return Response.parseFrom(body);
    }

    private static Request append(long id, String stream, String... data) {
        AppendRequest.Builder append = AppendRequest.newBuilder().setStream(stream);
        for (String d : data) {
            append.addEvents(NewEvent.newBuilder().setType("T").setData(ByteString.copyFromUtf8(d)));
        }
        return Request.newBuilder().setRequestId(id).setAppend(append).build();
    }

    @Test
    void aPlainReqSocketWorks() throws Exception {
        try (ZMQ.Socket req = socket(SocketType.REQ)) {
            req.connect(server.commandEndpoint());
            req.send(Request.newBuilder().setRequestId(7)
                    .setServerInfo(ServerInfoRequest.getDefaultInstance()).build().toByteArray());
            Response response = Response.parseFrom(req.recv());
            assertThat(response.getRequestId()).isEqualTo(7);
            assertThat(response.getServerInfo().getStorageEngine()).isEqualTo("rocksdb");

            req.send(append(8, "req-stream", "hello").toByteArray());
            Response appended = Response.parseFrom(req.recv());
            assertThat(appended.getRequestId()).isEqualTo(8);
            assertThat(appended.hasAppend()).isTrue();
        }
    }

    @Test
    void pipelinedRequestsAreMatchedByRequestId() throws Exception {
        try (ZMQ.Socket dealer = dealer()) {
            for (int i = 1; i <= 50; i++) {
                dealer.sendMore(EMPTY);
                dealer.send(append(i, "pipeline", "e" + i).toByteArray());
            }
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                Response response = receive(dealer);
                assertThat(response.hasAppend()).isTrue();
                ids.add(response.getRequestId());
            }
            assertThat(ids).containsExactlyInAnyOrderElementsOf(
                    java.util.stream.LongStream.rangeClosed(1, 50).boxed().toList());
        }
    }

    @Test
    void malformedRequestsGetAnErrorAndTheServerKeepsServing() throws Exception {
        try (ZMQ.Socket dealer = dealer()) {
            // Bytes that are not a Request.
            dealer.sendMore(EMPTY);
            dealer.send(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01});
            Response garbage = receive(dealer);
            assertThat(garbage.getError().getCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
            assertThat(garbage.getError().getMessage()).contains("not a valid rewind.v1.Request");

            // A Request with no operation.
            dealer.sendMore(EMPTY);
            dealer.send(Request.newBuilder().setRequestId(3).build().toByteArray());
            Response none = receive(dealer);
            assertThat(none.getRequestId()).isEqualTo(3);
            assertThat(none.getError().getCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
            assertThat(none.getError().getMessage()).contains("no operation");

            // Too many frames after the delimiter.
            dealer.sendMore(EMPTY);
            dealer.sendMore(append(4, "x", "y").toByteArray());
            dealer.send("extra".getBytes(StandardCharsets.UTF_8));
            Response extra = receive(dealer);
            assertThat(extra.getError().getCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
            assertThat(extra.getError().getMessage()).contains("exactly one Request frame").contains("got 2");

            // Only the delimiter.
            dealer.send(EMPTY);
            Response onlyDelimiter = receive(dealer);
            assertThat(onlyDelimiter.getError().getMessage()).contains("got 0");

            // No delimiter at all.
            dealer.send(append(5, "x", "y").toByteArray());
            Response noDelimiter = receive(dealer);
            assertThat(noDelimiter.getError().getMessage()).contains("no empty delimiter");

            // A read with no source, and one with a negative start.
            dealer.sendMore(EMPTY);
            dealer.send(Request.newBuilder().setRequestId(6).setRead(ReadRequest.newBuilder()).build().toByteArray());
            assertThat(receive(dealer).getError().getMessage()).contains("no source");
            dealer.sendMore(EMPTY);
            dealer.send(Request.newBuilder().setRequestId(7).setRead(ReadRequest.newBuilder().setStream("x")
                    .setFrom(-5)).build().toByteArray());
            assertThat(receive(dealer).getError().getMessage()).contains("-5");

            // An event id that is not 16 bytes.
            dealer.sendMore(EMPTY);
            dealer.send(Request.newBuilder().setRequestId(8).setAppend(AppendRequest.newBuilder().setStream("x")
                    .addEvents(NewEvent.newBuilder().setEventId(ByteString.copyFromUtf8("short"))))
                    .build().toByteArray());
            assertThat(receive(dealer).getError().getMessage()).contains("5 bytes");

            // Nothing above stored anything; the server still answers.
            dealer.sendMore(EMPTY);
            dealer.send(Request.newBuilder().setRequestId(9).setRead(ReadRequest.newBuilder().setStream("x"))
                    .build().toByteArray());
            Response read = receive(dealer);
            assertThat(read.getError().getCode()).isEqualTo(ErrorCode.NOT_FOUND);
        }
    }

    @Test
    void theLiveFeedPublishesEveryEventInOrderWithTopicFiltering() throws Exception {
        try (ZMQ.Socket all = socket(SocketType.SUB);
                ZMQ.Socket exact = socket(SocketType.SUB);
                ZMQ.Socket prefix = socket(SocketType.SUB);
                ZMQ.Socket dealer = dealer()) {
            all.subscribe(EMPTY);
            exact.subscribe("feed-a\0".getBytes(StandardCharsets.UTF_8));
            prefix.subscribe("feed-".getBytes(StandardCharsets.UTF_8));
            for (ZMQ.Socket sub : List.of(all, exact, prefix)) {
                sub.connect(server.streamEndpoint());
            }
            // Subscriptions propagate asynchronously (the slow-joiner problem): wait until a probe arrives.
            awaitSubscribed(dealer, all);

            String[][] appends = {{"feed-a", "a0", "a1"}, {"feed-ab", "ab0"}, {"other", "o0"}, {"feed-a", "a2"},
                    {"feed-b", "b0", "b1"}};
            long id = 100;
            for (String[] append : appends) {
                dealer.sendMore(EMPTY);
                dealer.send(append(id++, append[0], java.util.Arrays.copyOfRange(append, 1, append.length))
                        .toByteArray());
                assertThat(receive(dealer).hasAppend()).isTrue();
            }

            List<EventRecord> everything = receiveUntil(all, "b1");
            assertThat(everything).extracting(r -> r.getData().toStringUtf8())
                    .containsExactly("a0", "a1", "ab0", "o0", "a2", "b0", "b1");
            for (int i = 1; i < everything.size(); i++) {
                assertThat(everything.get(i).getGlobalPosition())
                        .isEqualTo(everything.get(i - 1).getGlobalPosition() + 1);
            }
            assertThat(everything.get(4).getStreamVersion()).isEqualTo(2);

            assertThat(receiveUntil(exact, "a2")).extracting(r -> r.getData().toStringUtf8())
                    .containsExactly("a0", "a1", "a2");
            assertThat(receiveUntil(prefix, "b1")).extracting(r -> r.getData().toStringUtf8())
                    .containsExactly("a0", "a1", "ab0", "a2", "b0", "b1");
        }
    }

    private void awaitSubscribed(ZMQ.Socket dealer, ZMQ.Socket all) throws Exception {
        for (int attempt = 0; attempt < 100; attempt++) {
            dealer.sendMore(EMPTY);
            dealer.send(append(1_000 + attempt, "probe", "probe").toByteArray());
            receive(dealer);
            all.setReceiveTimeOut(100);
            byte[] topic = all.recv();
            if (topic != null) {
                all.recv();
                while (all.recv(ZMQ.DONTWAIT) != null) {
                    // Drain the probes that arrived meanwhile.
                }
                all.setReceiveTimeOut(10_000);
                return;
            }
        }
        throw new AssertionError("the subscriber never received a probe event");
    }

    /** Receives records, skipping probes, until one whose data is {@code last}; checks each topic. */
    private static List<EventRecord> receiveUntil(ZMQ.Socket sub, String last) throws Exception {
        List<EventRecord> records = new ArrayList<>();
        while (true) {
            byte[] topic = sub.recv();
            assertThat(topic).as("a live-feed message within the timeout").isNotNull();
            assertThat(sub.hasReceiveMore()).isTrue();
            EventRecord record = EventRecord.parseFrom(sub.recv());
            assertThat(sub.hasReceiveMore()).isFalse();
            assertThat(topic).isEqualTo((record.getStream() + "\0").getBytes(StandardCharsets.UTF_8));
            if (record.getStream().equals("probe")) {
                continue;
            }
            records.add(record);
            if (record.getData().toStringUtf8().equals(last)) {
                return records;
            }
        }
    }
}
