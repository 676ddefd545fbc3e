package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.RewindException;
import io.rewind.protocol.v1.AppendRequest;
import io.rewind.protocol.v1.NewEvent;
import io.rewind.protocol.v1.ReadRequest;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.Response;
import io.rewind.protocol.v1.ServerInfoRequest;
import io.rewind.testkit.ServerProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * A fuzz test against a real server process: 100,000 random and mutated requests, raw-TCP attacks
 * on every endpoint (among them JeroMQ 0.6.0's negative frame size), and valid appends from another
 * client throughout. At the end the server must answer, hold every acknowledged valid append
 * exactly once, and hold nothing that it did not acknowledge.
 */
class HostileInputIT {
    private static final int REQUESTS = 100_000;
    private static final int BURST = 200;
    private static final byte[] EMPTY = new byte[0];

    @TempDir
    Path tmp;

    private final Random random = new Random(20261129);

    private List<byte[]> templates() {
        List<byte[]> templates = new ArrayList<>();
        templates.add(Request.newBuilder().setRequestId(1).setServerInfo(ServerInfoRequest.getDefaultInstance())
                .build().toByteArray());
        templates.add(Request.newBuilder().setRequestId(2).setRead(ReadRequest.newBuilder()
                .setAll(ReadRequest.AllStreams.getDefaultInstance()).setMaxCount(3)).build().toByteArray());
        templates.add(Request.newBuilder().setRequestId(3).setRead(ReadRequest.newBuilder().setStream("fuzz-0")
                .setFrom(1)).build().toByteArray());
        templates.add(Request.newBuilder().setRequestId(4).setAppend(AppendRequest.newBuilder().setStream("fuzz-1")
                .addEvents(NewEvent.newBuilder().setType("Fuzz").setData(ByteString.copyFromUtf8("payload")))
                .addEvents(NewEvent.newBuilder().setEventId(ByteString.copyFrom(new byte[16])).setType("Fuzz")))
                .build().toByteArray());
        return templates;
    }

    /** One malformed (or, by chance, valid) message: frames after the routing id. */
    private List<byte[]> fuzzMessage(List<byte[]> templates) {
        byte[] template = templates.get(random.nextInt(templates.size()));
        return switch (random.nextInt(8)) {
            case 0 -> List.of(EMPTY, randomBytes(random.nextInt(200)));
            case 1 -> List.of(EMPTY, java.util.Arrays.copyOf(template, random.nextInt(template.length)));
            case 2, 3 -> {
                byte[] flipped = template.clone();
                for (int i = 1 + random.nextInt(3); i > 0; i--) {
                    flipped[random.nextInt(flipped.length)] ^= (byte) (1 << random.nextInt(8));
                }
                yield List.of(EMPTY, flipped);
            }
            case 4 -> List.of(EMPTY);
            case 5 -> List.of(EMPTY, template, randomBytes(random.nextInt(20)));
            case 6 -> List.of(randomBytes(1 + random.nextInt(20)), template);
            default -> List.of(EMPTY, template);
        };
    }

    private byte[] randomBytes(int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    @Test
    void theServerSurvivesGarbageAndStoresOnlyWhatItAcknowledged() throws Exception {
        try (ServerProcess server = ServerProcess.start("hostile", tmp.resolve("data"), "rocksdb",
                "--legacy-query-endpoint", "tcp://127.0.0.1:*", "--legacy-stream-endpoint", "tcp://127.0.0.1:*",
                "--max-message-size", "1MiB", "--max-append-size", "512KiB", "--max-event-size", "64KiB",
                "--max-events-per-append", "1000");
                RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                        .streamEndpoint(server.streamEndpoint()).requestTimeout(Duration.ofSeconds(30)).build();
                ZContext context = new ZContext()) {
            AtomicBoolean running = new AtomicBoolean(true);
            Set<UUID> validAcknowledged = ConcurrentHashMap.newKeySet();
            AtomicLong validFailures = new AtomicLong();
            Thread valid = new Thread(() -> {
                int n = 0;
                while (running.get()) {
                    EventData event = EventData.of("Valid", "valid " + n++);
                    try {
                        client.append("valid-" + (n % 4), ExpectedVersion.any(), event);
                        validAcknowledged.add(event.eventId());
                    } catch (RewindException e) {
                        validFailures.incrementAndGet();
                    }
                }
            }, "valid-writer");
            valid.start();

            Thread attacker = new Thread(() -> attackBelowTheProtocol(server, running), "raw-tcp-attacker");
            attacker.start();

            // Appends the fuzzer's requests made valid by chance, acknowledged by the server: [first, last].
            List<long[]> fuzzStored = new ArrayList<>();
            // A flipped bit can make a valid lifecycle request of a template (a read's field number becomes a
            // truncate's, say): the server then hides the fuzz stream's events, rightly, and the log has gaps.
            List<String> lifecycleChanges = new ArrayList<>();
            List<byte[]> templates = templates();
            long replies = 0;
            try (ZMQ.Socket dealer = TestSockets.client(context, SocketType.DEALER)) {
                dealer.setReceiveTimeOut(30_000);
                dealer.connect(server.commandEndpoint());
                for (int sent = 0; sent < REQUESTS; sent += BURST) {
                    for (int i = 0; i < BURST; i++) {
                        List<byte[]> frames = fuzzMessage(templates);
                        for (int f = 0; f < frames.size(); f++) {
                            dealer.send(frames.get(f), f < frames.size() - 1 ? ZMQ.SNDMORE : 0);
                        }
                    }
                    for (int i = 0; i < BURST; i++) {
                        byte[] first = dealer.recv();
                        assertThat(first).as("a reply to every request (%s so far)", replies).isNotNull();
                        List<byte[]> reply = new ArrayList<>(List.of(first));
                        while (dealer.hasReceiveMore()) {
                            reply.add(dealer.recv());
                        }
                        assertThat(reply).hasSize(2);
                        Response response = Response.parseFrom(reply.get(1));
                        if (response.hasAppend()) {
                            fuzzStored.add(new long[] {response.getAppend().getFirstPosition(),
                                    response.getAppend().getLastPosition()});
                        } else if (response.hasStreamMetadata() || response.hasEraseEvent()) {
                            lifecycleChanges.add(response.toString());
                        } else if (response.hasError()) {
                            assertThat(response.getError().getMessage()).isNotBlank();
                        }
                        replies++;
                    }
                }
            }
            // Frames above --max-message-size are dropped by ZeroMQ before being buffered (the peer is cut off).
            try (ZMQ.Socket huge = TestSockets.client(context, SocketType.DEALER)) {
                huge.connect(server.commandEndpoint());
                for (int i = 0; i < 5; i++) {
                    huge.sendMore(EMPTY);
                    huge.send(new byte[2 << 20]);
                }
                Thread.sleep(500);
            }
            running.set(false);
            valid.join(60_000);
            attacker.join(60_000);

            assertThat(replies).isEqualTo(REQUESTS);
            assertThat(validAcknowledged).as("valid appends went on during the attack").hasSizeGreaterThan(50);
            assertThat(validFailures.get()).isZero();
            assertThat(server.outputText()).as("the negative-size guard fired").contains("negative size");
            assertThat(server.process().isAlive()).isTrue();
            assertTheServerStillServes(server, client, context);

            // Every acknowledged valid event exactly once; nothing stored that the server did not acknowledge.
            List<RecordedEvent> log = client.readAll().toList();
            Set<Long> acknowledgedFuzz = new HashSet<>();
            for (long[] range : fuzzStored) {
                for (long p = range[0]; p <= range[1]; p++) {
                    acknowledgedFuzz.add(p);
                }
            }
            Set<UUID> seen = new HashSet<>();
            for (int i = 0; i < log.size(); i++) {
                RecordedEvent event = log.get(i);
                if (lifecycleChanges.isEmpty()) {
                    assertThat(event.globalPosition()).isEqualTo(i);
                } else {
                    assertThat(event.globalPosition()).as("after the fuzzer's %s", lifecycleChanges)
                            .isGreaterThanOrEqualTo(i);
                }
                assertThat(seen.add(event.eventId())).as("stored once: %s", event.eventId()).isTrue();
                boolean accounted = validAcknowledged.contains(event.eventId())
                        || acknowledgedFuzz.contains(event.globalPosition())
                        || event.stream().equals("after-attack");
                assertThat(accounted).as("event %s in '%s' was acknowledged", i, event.stream()).isTrue();
            }
            assertThat(seen).containsAll(validAcknowledged);
        }
    }

    private void assertTheServerStillServes(ServerProcess server, RewindClient client, ZContext context)
            throws Exception {
        try (ZMQ.Socket sub = TestSockets.client(context, SocketType.SUB);
                ZMQ.Socket legacy = TestSockets.client(context, SocketType.REQ)) {
            sub.setReceiveTimeOut(200);
            sub.subscribe("after-attack\0".getBytes(StandardCharsets.UTF_8));
            sub.connect(server.streamEndpoint());
            byte[] topic = null;
            for (int i = 0; i < 50 && topic == null; i++) {
                client.append("after-attack", ExpectedVersion.any(), EventData.of("Probe", "alive"));
                topic = sub.recv();
            }
            assertThat(topic).as("the live feed still publishes").isNotNull();

            legacy.connect(server.legacyQueryEndpoint());
            legacy.sendMore("QUERY");
            legacy.sendMore("");
            legacy.send("");
            assertThat(legacy.recv()).as("the legacy endpoint still answers").isNotNull();
        }
        assertThat(client.serverInfo().storageEngine()).isEqualTo("rocksdb");
    }

    /** Negative frame sizes, random bytes and truncated greetings on every endpoint the server binds. */
    private static void attackBelowTheProtocol(ServerProcess server, AtomicBoolean running) {
        Random random = new Random(7);
        List<String[]> endpoints = List.of(new String[] {server.commandEndpoint(), "DEALER"},
                new String[] {server.streamEndpoint(), "SUB"}, new String[] {server.legacyQueryEndpoint(), "REQ"},
                new String[] {server.legacyStreamEndpoint(), "SUB"});
        int round = 0;
        while (running.get() || round < 3) {
            for (String[] endpoint : endpoints) {
                byte[] garbage = new byte[1 + random.nextInt(300)];
                random.nextBytes(garbage);
                byte[] greeting = RawTcp.greeting();
                List<byte[]> attacks = List.of(
                        RawTcp.afterHandshake(endpoint[1], RawTcp.negativeFrameSize()),
                        garbage,
                        java.util.Arrays.copyOf(greeting, random.nextInt(greeting.length)),
                        RawTcp.afterHandshake(endpoint[1], garbage),
                        concat(java.util.Arrays.copyOf(greeting, 11), garbage));
                for (byte[] attack : attacks) {
                    try {
                        RawTcp.send(endpoint[0], attack);
                    } catch (java.io.IOException e) {
                        throw new AssertionError("cannot reach " + endpoint[0] + " any more", e);
                    }
                }
            }
            round++;
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
