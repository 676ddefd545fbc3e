package io.rewind.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rewind.client.AppendResult;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.InvalidRequestException;
import io.rewind.client.ReadOptions;
import io.rewind.client.ReadPage;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.ServerInfo;
import io.rewind.client.StreamNotFoundException;
import io.rewind.client.TooLargeException;
import io.rewind.client.WrongExpectedVersionException;
import io.rewind.testkit.ServerProcess;
import io.rewind.testkit.ServerUnderTest;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the client and server promise, checked through the client against a real server process.
 * Written once and run against each storage engine by a subclass.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ClientContractIT {
    @TempDir
    static Path dataDir;

    /** Options every server under this contract runs with: a small read page exercises paging. */
    static final String[] OPTIONS = {"--max-read-page", "500", "--max-event-size", "64KiB", "--max-append-size",
        "256KiB"};

    ServerUnderTest server;
    RewindClient client;

    /** "rocksdb" or "memory". */
    abstract String storage();

    /** Starts the server under test with {@link #OPTIONS}; by default the jar as a local process. */
    ServerUnderTest start() {
        return ServerProcess.start(getClass().getSimpleName(), dataDir.resolve("data"), storage(), OPTIONS);
    }

    @BeforeAll
    void startServer() {
        server = start();
        client = configure(RewindClient.builder().commandEndpoint(server.commandEndpoint())
                .streamEndpoint(server.streamEndpoint()).requestTimeout(Duration.ofSeconds(30))).build();
    }

    /** The client under this contract, as a subclass wants it (CURVE keys, say); by default as it comes. */
    RewindClient.Builder configure(RewindClient.Builder builder) {
        return builder;
    }

    @AfterAll
    void stopServer() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    static EventData event(String type, String data) {
        return EventData.of(type, data).withMetadata(("meta:" + data).getBytes(UTF_8));
    }

    @Test
    void appendedEventsReadBackWithEveryField() {
        String stream = unique("order");
        Instant before = Instant.now().minusSeconds(5);
        EventData placed = event("OrderPlaced", "{\"total\":42}");
        EventData paid = event("OrderPaid", "{\"amount\":42}");

        AppendResult result = client.append(stream, ExpectedVersion.noStream(), placed, paid);

        assertThat(result.lastPosition()).isEqualTo(result.firstPosition() + 1);
        assertThat(result.nextExpectedVersion()).isEqualTo(1);
        List<RecordedEvent> events = client.readStream(stream).toList();
        assertThat(events).hasSize(2);
        RecordedEvent first = events.get(0);
        assertThat(first.eventId()).isEqualTo(placed.eventId());
        assertThat(first.stream()).isEqualTo(stream);
        assertThat(first.streamVersion()).isZero();
        assertThat(first.globalPosition()).isEqualTo(result.firstPosition());
        assertThat(first.type()).isEqualTo("OrderPlaced");
        assertThat(first.dataAsString()).isEqualTo("{\"total\":42}");
        assertThat(new String(first.metadata(), UTF_8)).isEqualTo("meta:{\"total\":42}");
        assertThat(first.committedAt()).isBetween(before, Instant.now().plusSeconds(5));
        assertThat(events.get(1).eventId()).isEqualTo(paid.eventId());
        assertThat(events.get(1).streamVersion()).isEqualTo(1);
        assertThat(events.get(1).globalPosition()).isEqualTo(result.lastPosition());
    }

    @Test
    void binaryPayloadsAndServerAssignedIdsRoundTrip() {
        String stream = unique("binary");
        byte[] data = new byte[256];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        client.append(stream, ExpectedVersion.any(), new EventData(null, "", data, new byte[0]),
                new EventData(null, "Empty", new byte[0], new byte[] {0, (byte) 0xff}));

        List<RecordedEvent> events = client.readStream(stream).toList();
        assertThat(events.get(0).data()).isEqualTo(data);
        assertThat(events.get(0).type()).isEmpty();
        assertThat(events.get(1).data()).isEmpty();
        assertThat(events.get(1).metadata()).containsExactly(0, 0xff);
        assertThat(events).extracting(RecordedEvent::eventId).doesNotContainNull().doesNotHaveDuplicates();
    }

    @Test
    void expectedVersionConflictsCarryTheActualVersion() {
        String stream = unique("account");
        assertThatThrownBy(() -> client.append(stream, ExpectedVersion.streamExists(), event("Opened", "1")))
                .isInstanceOfSatisfying(WrongExpectedVersionException.class, e -> {
                    assertThat(e.stream()).isEqualTo(stream);
                    assertThat(e.expected()).isEqualTo(ExpectedVersion.streamExists());
                    assertThat(e.actualVersion()).isEqualTo(-1);
                });
        assertThatThrownBy(() -> client.append(stream, ExpectedVersion.exact(0), event("Opened", "1")))
                .isInstanceOf(WrongExpectedVersionException.class);

        client.append(stream, ExpectedVersion.noStream(), event("Opened", "1"));
        client.append(stream, ExpectedVersion.exact(0), event("Deposited", "2"));
        client.append(stream, ExpectedVersion.streamExists(), event("Deposited", "3"));

        assertThatThrownBy(() -> client.append(stream, ExpectedVersion.noStream(), event("Opened", "again")))
                .isInstanceOfSatisfying(WrongExpectedVersionException.class,
                        e -> assertThat(e.actualVersion()).isEqualTo(2));
        assertThatThrownBy(() -> client.append(stream, ExpectedVersion.exact(1), event("Deposited", "stale")))
                .isInstanceOfSatisfying(WrongExpectedVersionException.class, e -> {
                    assertThat(e.expected()).isEqualTo(ExpectedVersion.exact(1));
                    assertThat(e.actualVersion()).isEqualTo(2);
                    assertThat(e.getMessage()).contains(stream).contains("expected 1").contains("actual 2");
                });
        client.append(stream, ExpectedVersion.any(), event("Deposited", "4"));

        assertThat(client.readStream(stream).map(RecordedEvent::dataAsString)).containsExactly("1", "2", "3", "4");
    }

    @Test
    void retryingAnAppendWithTheSameIdsReturnsTheOriginalResultAndStoresNothing() {
        String stream = unique("idempotent");
        List<EventData> events = List.of(event("A", "1"), event("B", "2"), event("C", "3"));
        AppendResult original = client.append(stream, ExpectedVersion.noStream(), events);
        long head = client.serverInfo().headPosition();

        // Retried as a client would after a timeout: same ids, same expected version.
        AppendResult retried = client.append(stream, ExpectedVersion.noStream(), events);

        assertThat(retried).isEqualTo(original);
        assertThat(client.serverInfo().headPosition()).isEqualTo(head);
        assertThat(client.readStream(stream).count()).isEqualTo(3);

        // The same ids in another stream, or only some of them, are an error, not a silent duplicate.
        assertThatThrownBy(() -> client.append(unique("other"), ExpectedVersion.any(), events))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining(stream);
        assertThatThrownBy(() -> client.append(stream, ExpectedVersion.any(),
                List.of(events.get(0), event("D", "4"))))
                .isInstanceOf(InvalidRequestException.class);
        assertThat(client.readStream(stream).count()).isEqualTo(3);
    }

    @Test
    void aMultiEventAppendIsAllOrNothing() {
        String stream = unique("atomic");
        client.append(stream, ExpectedVersion.noStream(), event("Created", "0"));
        long head = client.serverInfo().headPosition();

        // Rejected whole: one event too large in the middle of the batch.
        EventData tooLarge = EventData.of("Big", new byte[65 * 1024]);
        assertThatThrownBy(() -> client.append(stream, ExpectedVersion.exact(0),
                List.of(event("A", "1"), tooLarge, event("C", "3"))))
                .isInstanceOf(TooLargeException.class).hasMessageContaining("event 1");
        // Rejected whole: wrong expected version.
        assertThatThrownBy(() -> client.append(stream, ExpectedVersion.exact(7),
                List.of(event("A", "1"), event("B", "2"))))
                .isInstanceOf(WrongExpectedVersionException.class);
        assertThat(client.serverInfo().headPosition()).isEqualTo(head);
        assertThat(client.readStream(stream).count()).isEqualTo(1);

        AppendResult result = client.append(stream, ExpectedVersion.exact(0),
                IntStream.range(1, 101).mapToObj(i -> event("N", Integer.toString(i))).toList());
        assertThat(result.lastPosition() - result.firstPosition()).isEqualTo(99);
        assertThat(result.nextExpectedVersion()).isEqualTo(100);
        List<RecordedEvent> all = client.readStream(stream).toList();
        assertThat(all).extracting(RecordedEvent::streamVersion)
                .containsExactlyElementsOf(IntStream.rangeClosed(0, 100).mapToObj(i -> (long) i).toList());
        // One append occupies consecutive global positions.
        assertThat(all.subList(1, 101)).extracting(RecordedEvent::globalPosition).containsExactlyElementsOf(
                IntStream.range(0, 100).mapToObj(i -> result.firstPosition() + i).toList());
    }

    @Test
    void readsPageLazilyForwardsAndBackwards() {
        String stream = unique("paged");
        int total = 2_345;
        for (int batch = 0; batch < total; batch += 200) {
            int from = batch;
            client.append(stream, ExpectedVersion.any(), IntStream.range(from, Math.min(from + 200, total))
                    .mapToObj(i -> event("N", Integer.toString(i))).toList());
        }
        List<String> expected = IntStream.range(0, total).mapToObj(Integer::toString).toList();

        // The server caps a page at 500 events, so this takes five pages.
        assertThat(client.readStream(stream).map(RecordedEvent::dataAsString)).containsExactlyElementsOf(expected);
        assertThat(client.readStream(stream, ReadOptions.forwards().pageSize(77))
                .map(RecordedEvent::dataAsString)).containsExactlyElementsOf(expected);
        assertThat(client.readStream(stream, ReadOptions.backwards()).map(RecordedEvent::dataAsString))
                .containsExactlyElementsOf(reversed(expected));
        assertThat(client.readStream(stream, ReadOptions.forwards().from(2_000).maxCount(3))
                .map(RecordedEvent::dataAsString)).containsExactly("2000", "2001", "2002");
        assertThat(client.readStream(stream, ReadOptions.backwards().from(10).maxCount(600)))
                .extracting(RecordedEvent::streamVersion).containsExactly(10L, 9L, 8L, 7L, 6L, 5L, 4L, 3L, 2L, 1L, 0L);
        assertThat(client.readStream(stream, ReadOptions.forwards().from(total))).isEmpty();

        ReadPage page = client.readStreamPageAsync(stream, ReadOptions.forwards().from(2_300).pageSize(1_000)).join();
        assertThat(page.events()).hasSize(45);
        assertThat(page.endReached()).isTrue();
        assertThat(page.nextFrom()).isEqualTo(total);
        ReadPage firstPage = client.readStreamPageAsync(stream, ReadOptions.forwards()).join();
        assertThat(firstPage.events()).hasSize(500);
        assertThat(firstPage.endReached()).isFalse();
        assertThat(firstPage.nextFrom()).isEqualTo(500);
    }

    @Test
    void theGlobalLogHoldsEveryStreamInCommitOrder() {
        long start = client.serverInfo().headPosition() + 1;
        String a = unique("global-a");
        String b = unique("global-b");
        client.append(a, ExpectedVersion.any(), event("X", "a0"));
        client.append(b, ExpectedVersion.any(), event("X", "b0"), event("X", "b1"));
        client.append(a, ExpectedVersion.any(), event("X", "a1"));

        List<RecordedEvent> tail = client.readAll(ReadOptions.forwards().from(start)).toList();

        assertThat(tail).extracting(RecordedEvent::globalPosition)
                .containsExactly(start, start + 1, start + 2, start + 3);
        assertThat(tail).extracting(RecordedEvent::dataAsString).containsExactly("a0", "b0", "b1", "a1");
        assertThat(client.readAll(ReadOptions.backwards().maxCount(1)).toList().get(0).dataAsString()).isEqualTo("a1");
        // The whole log is dense from position 0.
        List<Long> positions = client.readAll().map(RecordedEvent::globalPosition).toList();
        assertThat(positions).containsExactlyElementsOf(
                IntStream.range(0, positions.size()).mapToObj(i -> (long) i).toList());
    }

    @Test
    void concurrentPipelinedAppendsToManyStreamsAreAllStoredOnce() {
        String prefix = unique("pipelined");
        List<CompletableFuture<AppendResult>> futures = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            futures.add(client.appendAsync(prefix + "-" + (i % 10), ExpectedVersion.any(),
                    List.of(event("N", Integer.toString(i)))));
        }
        List<AppendResult> results = futures.stream().map(CompletableFuture::join).toList();

        assertThat(results).extracting(AppendResult::firstPosition).doesNotHaveDuplicates();
        for (int s = 0; s < 10; s++) {
            int stream = s;
            // Appends to one stream from one client keep their order.
            assertThat(client.readStream(prefix + "-" + s).map(RecordedEvent::dataAsString)).containsExactlyElementsOf(
                    IntStream.range(0, 2_000).filter(i -> i % 10 == stream).mapToObj(Integer::toString).toList());
        }
    }

    @Test
    void readingAMissingStreamFailsWithNotFound() {
        String stream = unique("missing");
        assertThatThrownBy(() -> client.readStream(stream).toList())
                .isInstanceOfSatisfying(StreamNotFoundException.class, e -> {
                    assertThat(e.stream()).isEqualTo(stream);
                    assertThat(e.getMessage()).contains(stream);
                });
    }

    @Test
    void invalidStreamNamesAreRejected() {
        assertThatThrownBy(() -> client.append("", ExpectedVersion.any(), event("X", "1")))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> client.append("a\0b", ExpectedVersion.any(), event("X", "1")))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("NUL");
        assertThatThrownBy(() -> client.append("x".repeat(256), ExpectedVersion.any(), event("X", "1")))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("256 bytes");
        client.append("é".repeat(127), ExpectedVersion.any(), event("X", "254 bytes is fine"));
    }

    /**
     * A thousand clients in one JVM, as a service with a connection per tenant has them: each holds two ZeroMQ
     * sockets (its DEALER and its monitor), and JeroMQ's default cap of 1,023 sockets a context made the 512th fail.
     */
    @Test
    void aThousandClientsInOneJvmEachGetTheirAnswers() {
        List<RewindClient> many = new java.util.ArrayList<>();
        try {
            List<java.util.concurrent.CompletableFuture<io.rewind.client.AppendResult>> appends = new java.util.ArrayList<>();
            String stream = "many-" + UUID.randomUUID();
            for (int i = 0; i < 1_000; i++) {
                RewindClient one = configure(RewindClient.builder().commandEndpoint(server.commandEndpoint())
                        .requestTimeout(Duration.ofSeconds(60))).build();
                many.add(one);
                appends.add(one.appendAsync(stream, ExpectedVersion.any(), List.of(EventData.of("Hello", "{}"))));
            }
            appends.forEach(java.util.concurrent.CompletableFuture::join);
            assertThat(client.readStream(stream).count()).isEqualTo(1_000);
        } finally {
            many.forEach(RewindClient::close);
        }
    }

    @Test
    void serverInfoDescribesTheServer() {
        String stream = unique("info");
        ServerInfo before = client.serverInfo();
        client.append(stream, ExpectedVersion.any(), event("X", "1"));
        ServerInfo after = client.serverInfo();

        assertThat(after.storageEngine()).isEqualTo(storage());
        assertThat(after.version()).isNotBlank();
        assertThat(after.headPosition()).isEqualTo(before.headPosition() + 1);
        assertThat(after.streamCount()).isEqualTo(before.streamCount() + 1);
    }

    static <T> List<T> reversed(List<T> list) {
        List<T> copy = new ArrayList<>(list);
        java.util.Collections.reverse(copy);
        return copy;
    }
}
