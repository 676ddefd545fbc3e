package io.rewind.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.testkit.ServerProcess;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * The original Rewind protocol, driven with raw ZeroMQ sockets as the README's "Drop-in replacement"
 * section describes it: what an unchanged client of the Python server sends and expects.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LegacyProtocolIT {
    private static final byte[] EMPTY = new byte[0];

    @TempDir
    static Path tmp;

    ServerProcess server;
    ZContext context;
    ZMQ.Socket req;

    @BeforeAll
    void start() {
        server = ServerProcess.start("LegacyProtocolIT", tmp.resolve("data"), "rocksdb",
                "--legacy-query-endpoint", "tcp://127.0.0.1:*", "--legacy-stream-endpoint", "tcp://127.0.0.1:*",
                "--legacy-stream", "python-app");
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

    @BeforeEach
    void connect() {
        if (req != null) {
            req.close();
        }
        req = socket(SocketType.REQ);
        req.connect(server.legacyQueryEndpoint());
    }

    private ZMQ.Socket socket(SocketType type) {
        return TestSockets.client(context, type);
    }

    /**
     * A SUB socket misses what is published before its subscription reaches the server: publishes
     * {@code probe} events until one arrives, drains the feed, and returns the last id it saw.
     */
    private String awaitSubscribed(ZMQ.Socket sub, String probe) {
        sub.setReceiveTimeOut(200);
        try {
            while (true) {
                publish(ascii(probe));
                byte[] id = sub.recv();
                if (id == null) {
                    continue;
                }
                String last;
                do {
                    last = new String(id, US_ASCII);
                    sub.recv();
                    sub.recv();
                } while ((id = sub.recv(ZMQ.DONTWAIT)) != null);
                return last;
            }
        } finally {
            sub.setReceiveTimeOut(10_000);
        }
    }

    private static byte[] ascii(String text) {
        return text.getBytes(US_ASCII);
    }

    /** Sends a multipart request and returns every frame of the reply. */
    private List<byte[]> request(byte[]... frames) {
        for (int i = 0; i < frames.length; i++) {
            req.send(frames[i], i < frames.length - 1 ? ZMQ.SNDMORE : 0);
        }
        List<byte[]> reply = new ArrayList<>();
        do {
            byte[] frame = req.recv();
            assertThat(frame).as("a reply within the timeout").isNotNull();
            reply.add(frame);
        } while (req.hasReceiveMore());
        return reply;
    }

    private void publish(byte[] data) {
        List<byte[]> reply = request(ascii("PUBLISH"), data);
        assertThat(reply).hasSize(1);
        assertThat(new String(reply.get(0), US_ASCII)).isEqualTo("PUBLISHED");
    }

    /** QUERY with ids as text ("" for none): returns [pairs..., END?]. */
    private List<byte[]> query(String from, String to) {
        return request(ascii("QUERY"), ascii(from), ascii(to));
    }

    private static boolean ended(List<byte[]> reply) {
        return reply.size() % 2 == 1 && new String(reply.get(reply.size() - 1), US_ASCII).equals("END");
    }

    private static void assertError(List<byte[]> reply, String mention) {
        assertThat(reply).hasSize(1);
        assertThat(new String(reply.get(0), US_ASCII)).startsWith("ERROR ").contains(mention);
    }

    /** Every (id, data) pair of the whole log, paging as the original client does. */
    private List<byte[][]> queryAll(String from) {
        List<byte[][]> events = new ArrayList<>();
        String cursor = from;
        while (true) {
            List<byte[]> reply = query(cursor, "");
            int pairs = reply.size() / 2;
            assertThat(pairs).isLessThanOrEqualTo(100);
            for (int i = 0; i < pairs; i++) {
                events.add(new byte[][] {reply.get(2 * i), reply.get(2 * i + 1)});
            }
            if (ended(reply)) {
                return events;
            }
            assertThat(pairs).as("a reply without END is capped at 100").isEqualTo(100);
            cursor = new String(reply.get(reply.size() - 2), US_ASCII);
        }
    }

    private String lastId() {
        List<byte[][]> all = queryAll("");
        return all.isEmpty() ? "" : new String(all.get(all.size() - 1)[0], US_ASCII);
    }

    @Test
    void publishedEventsAreBroadcastWithThePreviousIdChain() throws Exception {
        try (ZMQ.Socket sub = socket(SocketType.SUB)) {
            sub.subscribe(EMPTY);
            sub.connect(server.legacyStreamEndpoint());
            String previous = awaitSubscribed(sub, "probe");
            for (int i = 0; i < 20; i++) {
                publish(ascii("event " + i));
            }
            for (int i = 0; i < 20; i++) {
                byte[] id = sub.recv();
                assertThat(sub.hasReceiveMore()).isTrue();
                byte[] prev = sub.recv();
                byte[] data = sub.recv();
                assertThat(sub.hasReceiveMore()).as("exactly three frames").isFalse();
                assertThat(id).hasSize(36);
                assertThat(UUID.fromString(new String(id, US_ASCII)).toString()).isEqualTo(new String(id, US_ASCII));
                assertThat(new String(prev, US_ASCII)).isEqualTo(previous);
                assertThat(new String(data, US_ASCII)).isEqualTo("event " + i);
                previous = new String(id, US_ASCII);
            }
        }
    }

    @Test
    void queriesPageByHundredsWithExclusiveFromAndInclusiveTo() {
        String before = lastId();
        for (int i = 0; i < 250; i++) {
            publish(ascii("page " + i));
        }
        List<byte[][]> mine = queryAll(before);
        assertThat(mine).extracting(pair -> new String(pair[1], US_ASCII))
                .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 250).mapToObj(i -> "page " + i).toList());

        // Capped: exactly 100 pairs and no END.
        List<byte[]> first = query(before, "");
        assertThat(first).hasSize(200);
        assertThat(ended(first)).isFalse();

        // Uncapped: from exclusive, to inclusive, END.
        String id10 = new String(mine.get(10)[0], US_ASCII);
        String id15 = new String(mine.get(15)[0], US_ASCII);
        List<byte[]> range = query(id10, id15);
        assertThat(range).hasSize(11);
        assertThat(ended(range)).isTrue();
        assertThat(new String(range.get(1), US_ASCII)).isEqualTo("page 11");
        assertThat(new String(range.get(9), US_ASCII)).isEqualTo("page 15");

        // From the start up to an id: inclusive of it.
        List<byte[]> upTo = query("", new String(queryAll("").get(0)[0], US_ASCII));
        assertThat(upTo).hasSize(3);
        assertThat(ended(upTo)).isTrue();

        // An empty range: from == to.
        assertThat(query(id10, id10)).singleElement().satisfies(f -> assertThat(f).isEqualTo(ascii("END")));
        // Up to the newest event: nothing after it.
        assertThat(query(new String(mine.get(249)[0], US_ASCII), "")).singleElement()
                .satisfies(f -> assertThat(f).isEqualTo(ascii("END")));
    }

    @Test
    void unknownIdsReversedRangesAndBadRequestsGetErrorsAndTheSocketStaysUsable() {
        publish(ascii("a"));
        publish(ascii("b"));
        List<byte[][]> all = queryAll("");
        String a = new String(all.get(all.size() - 2)[0], US_ASCII);
        String b = new String(all.get(all.size() - 1)[0], US_ASCII);

        assertError(query(UUID.randomUUID().toString(), ""), "unknown event id");
        assertError(query("", UUID.randomUUID().toString()), "unknown event id");
        assertError(query("not-an-id", ""), "unknown event id 'not-an-id'");
        assertError(query(a.toUpperCase(), ""), "unknown event id");
        assertError(query(b, a), "from id comes after the to id");
        assertError(request(ascii("HELLO")), "unknown request type 'HELLO' (1 frames)");
        assertError(request(ascii("FOO"), ascii("x"), ascii("y"), ascii("z")), "unknown request type 'FOO' (4 frames)");
        assertError(request(ascii("PUBLISH")), "PUBLISH takes 2 frames");
        assertError(request(ascii("PUBLISH"), ascii("x"), ascii("y")), "PUBLISH takes 2 frames");
        assertError(request(ascii("QUERY"), ascii("")), "QUERY takes 3 frames");
        assertError(request(ascii("publish"), ascii("x")), "unknown request type");

        // Nothing above stored anything, and the socket still works.
        assertThat(lastId()).isEqualTo(b);
        publish(ascii("c"));
        assertThat(queryAll(b)).hasSize(1);
    }

    @Test
    void anyBytesRoundTripIncludingKeywordsAndInvalidUtf8() throws Exception {
        byte[] everyByte = new byte[256];
        for (int i = 0; i < everyByte.length; i++) {
            everyByte[i] = (byte) i;
        }
        List<byte[]> payloads = List.of(everyByte, EMPTY, ascii("END"), ascii("ERROR x"), ascii("PUBLISHED"),
                new byte[] {(byte) 0xc3, 0x28, (byte) 0xff, (byte) 0xfe}, new byte[100_000]);
        try (ZMQ.Socket sub = socket(SocketType.SUB)) {
            sub.subscribe(EMPTY);
            sub.connect(server.legacyStreamEndpoint());
            // Not a fixed sleep: on a loaded machine the subscription can take longer to arrive.
            awaitSubscribed(sub, "probe");
            String before = lastId();
            for (byte[] payload : payloads) {
                publish(payload);
            }
            List<byte[][]> stored = queryAll(before);
            assertThat(stored).hasSize(payloads.size());
            for (int i = 0; i < payloads.size(); i++) {
                assertThat(stored.get(i)[1]).isEqualTo(payloads.get(i));
            }
            List<byte[]> streamed = new ArrayList<>();
            while (streamed.size() < payloads.size()) {
                byte[] id = sub.recv();
                assertThat(id).as("streamed event").isNotNull();
                sub.recv();
                byte[] data = sub.recv();
                if (!Arrays.equals(id, stored.get(0)[0]) && streamed.isEmpty()) {
                    continue;
                }
                streamed.add(data);
            }
            for (int i = 0; i < payloads.size(); i++) {
                assertThat(streamed.get(i)).isEqualTo(payloads.get(i));
            }
        }
    }

    @Test
    void aSubscriberRepairsAGapTheWayTheOriginalClientDoes() {
        try (ZMQ.Socket first = socket(SocketType.SUB)) {
            first.subscribe(EMPTY);
            first.connect(server.legacyStreamEndpoint());
            String lastSeen = awaitSubscribed(first, "before the gap");
            // The subscriber goes away; events are published that it never sees.
            first.close();
            publish(ascii("missed 1"));
            publish(ascii("missed 2"));

            try (ZMQ.Socket again = socket(SocketType.SUB)) {
                again.subscribe(EMPTY);
                again.connect(server.legacyStreamEndpoint());
                byte[] id = null;
                byte[] prev = null;
                while (id == null) {
                    publish(ascii("after the gap"));
                    again.setReceiveTimeOut(200);
                    id = again.recv();
                    if (id != null) {
                        prev = again.recv();
                        again.recv();
                    }
                }
                String previous = new String(prev, US_ASCII);
                assertThat(previous).as("a gap is visible").isNotEqualTo(lastSeen);
                // QUERY <last id it had> <previous id> fills the hole.
                List<byte[]> hole = query(lastSeen, previous);
                assertThat(ended(hole)).isTrue();
                List<String> data = new ArrayList<>();
                for (int i = 0; i + 1 < hole.size(); i += 2) {
                    data.add(new String(hole.get(i + 1), US_ASCII));
                }
                assertThat(data).startsWith("missed 1", "missed 2");
                assertThat(new String(hole.get(hole.size() - 3), US_ASCII)).isEqualTo(previous);
            }
        }
    }

    @Test
    void aDealerWithAnEmptyDelimiterWorksToo() {
        try (ZMQ.Socket dealer = socket(SocketType.DEALER)) {
            dealer.connect(server.legacyQueryEndpoint());
            dealer.sendMore(EMPTY);
            dealer.sendMore(ascii("PUBLISH"));
            dealer.send(ascii("from a dealer"));
            assertThat(dealer.recv()).isEmpty();
            assertThat(new String(dealer.recv(), US_ASCII)).isEqualTo("PUBLISHED");
            assertThat(dealer.hasReceiveMore()).isFalse();
        }
    }

    @Test
    void bothProtocolsSeeOneLog() {
        try (RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint()).build()) {
            String before = lastId();
            long start = client.serverInfo().headPosition() + 1;
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                if (i % 2 == 0) {
                    client.append("orders", ExpectedVersion.any(), EventData.of("OrderPlaced", "new " + i));
                    expected.add("new " + i);
                } else {
                    publish(ascii("legacy " + i));
                    expected.add("legacy " + i);
                }
            }
            // The legacy reader sees every event, whichever protocol wrote it, under its event id.
            List<byte[][]> legacyView = queryAll(before);
            assertThat(legacyView).extracting(pair -> new String(pair[1], US_ASCII)).containsExactlyElementsOf(expected);
            // The new reader sees the same log; legacy events are in the configured stream.
            List<RecordedEvent> newView = client.readAll(io.rewind.client.ReadOptions.forwards().from(start)).toList();
            assertThat(newView).extracting(RecordedEvent::dataAsString).containsExactlyElementsOf(expected);
            for (int i = 0; i < newView.size(); i++) {
                assertThat(newView.get(i).eventId().toString()).isEqualTo(new String(legacyView.get(i)[0], US_ASCII));
                assertThat(newView.get(i).stream()).isEqualTo(i % 2 == 0 ? "orders" : "python-app");
            }
            assertThat(newView.get(1).type()).isEqualTo("LegacyEvent");
        }
    }
}
