package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.client.AppendResult;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.RewindException;
import io.rewind.client.StartFrom;
import io.rewind.client.Subscription;
import io.rewind.client.SubscriptionListener;
import io.rewind.client.SubscriptionState;
import io.rewind.client.SubscriptionTarget;
import io.rewind.testkit.ServerProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Catch-up subscriptions against real server processes: exactly once, in order, whatever happens. */
class SubscriptionIT {
    @TempDir
    Path tmp;

    /** Records what a subscription delivers; optionally slow or failing. */
    static class Recorder implements SubscriptionListener {
        final List<RecordedEvent> events = Collections.synchronizedList(new ArrayList<>());
        final List<SubscriptionState> states = new CopyOnWriteArrayList<>();
        final List<Throwable> errors = new CopyOnWriteArrayList<>();

        @Override
        public void onEvent(Subscription subscription, RecordedEvent event) throws Exception {
            events.add(event);
        }

        @Override
        public void onStateChange(Subscription subscription, SubscriptionState state) {
            states.add(state);
        }

        @Override
        public void onError(Subscription subscription, Throwable error) {
            errors.add(error);
        }

        List<RecordedEvent> snapshot() {
            synchronized (events) {
                return new ArrayList<>(events);
            }
        }
    }

    private static RewindClient client(ServerProcess server) {
        return RewindClient.builder().commandEndpoint(server.commandEndpoint()).streamEndpoint(server.streamEndpoint())
                .requestTimeout(Duration.ofSeconds(2)).build();
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** The global positions are exactly 0..n-1 and the events are the log's, in order. */
    private static void assertIsTheLog(List<RecordedEvent> delivered, List<RecordedEvent> log) {
        assertThat(delivered).hasSameSizeAs(log);
        for (int i = 0; i < delivered.size(); i++) {
            assertThat(delivered.get(i).globalPosition()).as("position of delivery %s", i).isEqualTo(i);
            assertThat(delivered.get(i).eventId()).isEqualTo(log.get(i).eventId());
        }
    }

    /** Appends {@code total} events from {@code writers} threads, pipelining batches of one to ten. */
    private static void appendConcurrently(RewindClient client, int writers, int total, String streamPrefix)
            throws Exception {
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            Thread thread = new Thread(() -> {
                List<CompletableFuture<AppendResult>> window = new ArrayList<>();
                int written = 0;
                int share = total / writers;
                while (written < share) {
                    int size = Math.min(1 + (written % 10), share - written);
                    List<EventData> batch = IntStream.range(0, size)
                            .mapToObj(i -> EventData.of("Tick", "w" + writer)).toList();
                    window.add(client.appendAsync(streamPrefix + writer, ExpectedVersion.any(), batch));
                    written += size;
                    if (window.size() == 64) {
                        window.forEach(CompletableFuture::join);
                        window.clear();
                    }
                }
                window.forEach(CompletableFuture::join);
            }, "writer-" + w);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
    }

    @Test
    void aSubscriberFromTheStartSeesEveryEventOfConcurrentWritersExactlyOnceInOrder() throws Exception {
        try (ServerProcess server = ServerProcess.start("subscribe-100k", tmp.resolve("data"), "rocksdb");
                RewindClient client = client(server)) {
            // Some history first, so the subscription starts by catching up.
            appendConcurrently(client, 2, 10_000, "early-");
            Recorder recorder = new Recorder();
            try (Subscription subscription = client.subscribe(SubscriptionTarget.all(), StartFrom.start(), recorder)) {
                appendConcurrently(client, 4, 90_000, "late-");
                await("100,000 events", Duration.ofSeconds(120), () -> recorder.events.size() >= 100_000);
                Thread.sleep(300);
                assertThat(subscription.lastPosition()).isEqualTo(99_999);
                assertThat(subscription.state()).isEqualTo(SubscriptionState.LIVE);
            }
            assertIsTheLog(recorder.snapshot(), client.readAll().toList());
            assertThat(recorder.states).startsWith(SubscriptionState.CATCHING_UP).contains(SubscriptionState.LIVE);
            assertThat(recorder.errors).isEmpty();
        }
    }

    @Test
    void aSlowListenerWithTinyHighWaterMarksStillGetsEveryEventInOrder() throws Exception {
        try (ServerProcess server = ServerProcess.start("subscribe-slow", tmp.resolve("data"), "memory",
                "--feed-high-water-mark", "20");
                RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                        .streamEndpoint(server.streamEndpoint()).subscriptionReceiveHighWaterMark(5).build()) {
            Recorder slow = new Recorder() {
                @Override
                public void onEvent(Subscription subscription, RecordedEvent event) throws Exception {
                    if (event.globalPosition() % 10 == 0) {
                        Thread.sleep(2);
                    }
                    super.onEvent(subscription, event);
                }
            };
            try (Subscription subscription = client.subscribe(SubscriptionTarget.all(), StartFrom.start(), slow)) {
                await("live", Duration.ofSeconds(30), () -> subscription.state() == SubscriptionState.LIVE);
                appendConcurrently(client, 2, 20_000, "fast-");
                await("20,000 events", Duration.ofSeconds(120), () -> slow.events.size() >= 20_000);
                Thread.sleep(300);
            }
            assertIsTheLog(slow.snapshot(), client.readAll().toList());
            assertThat(slow.states).as("the feed dropped events and history filled in")
                    .contains(SubscriptionState.FELL_BEHIND);
            assertThat(slow.errors).isEmpty();
        }
    }

    @Test
    void aPrefixSubscriberSeesExactlyTheMatchingStreams() throws Exception {
        try (ServerProcess server = ServerProcess.start("subscribe-prefix", tmp.resolve("data"), "memory");
                RewindClient client = client(server)) {
            client.append("order-1", ExpectedVersion.any(), EventData.of("A", "order-1/0"));
            client.append("invoice-1", ExpectedVersion.any(), EventData.of("A", "invoice-1/0"));
            Recorder orders = new Recorder();
            Recorder oneStream = new Recorder();
            try (Subscription prefix = client.subscribe(SubscriptionTarget.prefix("order-"), StartFrom.start(), orders);
                    Subscription stream = client.subscribe(SubscriptionTarget.stream("order-2"), StartFrom.start(),
                            oneStream)) {
                for (int i = 1; i <= 300; i++) {
                    String name = List.of("order-2", "invoice-1", "order-1", "order-22").get(i % 4);
                    client.append(name, ExpectedVersion.any(), EventData.of("A", name + "/" + i));
                }
                await("order events", Duration.ofSeconds(30), () -> orders.events.size() >= 226);
                await("order-2 events", Duration.ofSeconds(30), () -> oneStream.events.size() >= 75);
                Thread.sleep(300);
                assertThat(stream.lastPosition()).isEqualTo(74);
            }
            List<RecordedEvent> expected = client.readAll().filter(e -> e.stream().startsWith("order-")).toList();
            assertThat(orders.snapshot()).extracting(RecordedEvent::eventId)
                    .containsExactlyElementsOf(expected.stream().map(RecordedEvent::eventId).toList());
            assertThat(oneStream.snapshot()).extracting(RecordedEvent::streamVersion)
                    .containsExactlyElementsOf(IntStream.range(0, 75).mapToObj(i -> (long) i).toList());
            assertThat(oneStream.snapshot()).allSatisfy(e -> assertThat(e.stream()).isEqualTo("order-2"));
        }
    }

    @Test
    void aSubscriberResumesAfterTheServerIsKilledAndRestarted() throws Exception {
        try (ServerProcess server = ServerProcess.start("subscribe-kill", tmp.resolve("data"), "rocksdb");
                RewindClient writer = client(server);
                RewindClient reader = client(server)) {
            Recorder recorder = new Recorder();
            try (Subscription subscription = reader.subscribe(SubscriptionTarget.all(), StartFrom.start(), recorder)) {
                List<UUID> acknowledged = new ArrayList<>();
                for (int i = 0; i < 3_000; i++) {
                    if (i == 1_500) {
                        server.kill();
                        // Down long enough for the subscriber's idle check to find the server gone.
                        Thread.sleep(3_000);
                        server.restart();
                    }
                    EventData event = EventData.of("N", Integer.toString(i));
                    while (true) {
                        try {
                            writer.append("killed-" + (i % 3), ExpectedVersion.any(), event);
                            break;
                        } catch (RewindException e) {
                            Thread.sleep(50);
                        }
                    }
                    acknowledged.add(event.eventId());
                }
                await("3,000 events", Duration.ofSeconds(60), () -> recorder.events.size() >= 3_000);
                Thread.sleep(300);
                assertThat(recorder.states).contains(SubscriptionState.RECONNECTING);
                assertThat(subscription.lastPosition()).isEqualTo(2_999);
                assertThat(recorder.snapshot()).extracting(RecordedEvent::eventId).containsExactlyElementsOf(acknowledged);
            }
            assertIsTheLog(recorder.snapshot(), reader.readAll().toList());
        }
    }

    @Test
    void aFailingListenerStopsOnlyItsOwnSubscription() throws Exception {
        try (ServerProcess server = ServerProcess.start("subscribe-fail", tmp.resolve("data"), "memory");
                RewindClient client = client(server)) {
            client.append("s", ExpectedVersion.any(), EventData.of("A", "0"), EventData.of("A", "1"));
            Recorder failing = new Recorder() {
                @Override
                public void onEvent(Subscription subscription, RecordedEvent event) {
                    if (event.streamVersion() == 3) {
                        throw new IllegalStateException("projection bug");
                    }
                    events.add(event);
                }
            };
            Recorder healthy = new Recorder();
            Recorder fromEnd = new Recorder();
            Recorder resumed = new Recorder();
            try (Subscription bad = client.subscribe(SubscriptionTarget.stream("s"), StartFrom.start(), failing);
                    Subscription good = client.subscribe(SubscriptionTarget.stream("s"), StartFrom.start(), healthy);
                    Subscription end = client.subscribe(SubscriptionTarget.stream("s"), StartFrom.end(), fromEnd);
                    Subscription after = client.subscribe(SubscriptionTarget.stream("s"), StartFrom.after(0),
                            resumed)) {
                await("all live", Duration.ofSeconds(30), () -> end.state() == SubscriptionState.LIVE
                        && good.state() == SubscriptionState.LIVE);
                for (int i = 2; i < 6; i++) {
                    client.append("s", ExpectedVersion.any(), EventData.of("A", Integer.toString(i)));
                }
                await("the healthy subscription", Duration.ofSeconds(30), () -> healthy.events.size() == 6);
                // The subscription reports CLOSED before it calls onError: wait for both.
                await("the failure", Duration.ofSeconds(30), () -> bad.state() == SubscriptionState.CLOSED
                        && !failing.errors.isEmpty());
                await("the resumed subscription", Duration.ofSeconds(30), () -> resumed.events.size() == 5);
                await("the live-only subscription", Duration.ofSeconds(30), () -> fromEnd.events.size() == 4);

                assertThat(failing.errors).singleElement().satisfies(e -> assertThat(e)
                        .hasMessageContaining("position 3").hasMessageContaining("projection bug"));
                assertThat(bad.lastPosition()).isEqualTo(2);
                assertThat(good.lastPosition()).isEqualTo(5);
                assertThat(healthy.errors).isEmpty();
                assertThat(resumed.snapshot()).extracting(RecordedEvent::streamVersion).containsExactly(1L, 2L, 3L, 4L, 5L);
                assertThat(fromEnd.snapshot()).extracting(RecordedEvent::streamVersion).containsExactly(2L, 3L, 4L, 5L);
            }
        }
    }
}
