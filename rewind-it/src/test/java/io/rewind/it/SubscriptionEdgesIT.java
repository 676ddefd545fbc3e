package io.rewind.it;

import static io.rewind.it.SubscriptionIT.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.StartFrom;
import io.rewind.client.StreamNotFoundException;
import io.rewind.client.Subscription;
import io.rewind.client.SubscriptionState;
import io.rewind.client.SubscriptionTarget;
import io.rewind.client.WrongExpectedVersionException;
import io.rewind.testkit.ServerProcess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The edges of subscriptions and of the client's life that a new user runs into first. */
class SubscriptionEdgesIT {
    @TempDir
    static Path tmp;
    static ServerProcess server;

    @BeforeAll
    static void startServer() {
        server = ServerProcess.start("subscription-edges", tmp.resolve("data"), "memory");
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    /** A client that learns the feed's endpoint from the server, as the README's example does. */
    private static RewindClient client() {
        return RewindClient.builder().commandEndpoint(server.commandEndpoint()).requestTimeout(Duration.ofSeconds(5))
                .build();
    }

    @Test
    void endMeansEveryEventCommittedAfterSubscribeReturned() throws Exception {
        try (RewindClient client = client()) {
            for (int trial = 0; trial < 30; trial++) {
                String stream = "end-" + trial;
                client.append(stream, ExpectedVersion.noStream(), EventData.of("Before", "not delivered"));
                SubscriptionIT.Recorder recorder = new SubscriptionIT.Recorder();
                try (Subscription subscription = client.subscribe(SubscriptionTarget.stream(stream), StartFrom.end(),
                        recorder)) {
                    client.append(stream, ExpectedVersion.exact(0), EventData.of("After", "delivered"));
                    await("trial " + trial + "'s event", Duration.ofSeconds(10), () -> recorder.events.size() == 1);
                    assertThat(recorder.snapshot().get(0).type()).isEqualTo("After");
                    assertThat(subscription.lastPosition()).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void aSubscriptionCanBeAwaitedUntilLiveAndTellsItsListenerWhenClosed() throws Exception {
        try (RewindClient client = client()) {
            client.append("await-live", ExpectedVersion.any(), EventData.of("E", "1"), EventData.of("E", "2"));
            SubscriptionIT.Recorder recorder = new SubscriptionIT.Recorder();
            Subscription subscription = client.subscribe(SubscriptionTarget.stream("await-live"), StartFrom.start(),
                    recorder);
            assertThat(subscription.awaitLive(Duration.ofSeconds(10))).isTrue();
            assertThat(subscription.whenLive().get(1, TimeUnit.SECONDS)).isSameAs(subscription);
            assertThat(recorder.events).hasSize(2);

            long started = System.nanoTime();
            subscription.close();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
            assertThat(subscription.state()).isEqualTo(SubscriptionState.CLOSED);
            assertThat(recorder.states).endsWith(SubscriptionState.CLOSED);
            assertThat(recorder.errors).isEmpty();
        }
    }

    @Test
    void aPrefixSubscriptionsCheckpointPassesOverOtherStreams() throws Exception {
        try (RewindClient client = client()) {
            SubscriptionIT.Recorder recorder = new SubscriptionIT.Recorder();
            try (Subscription subscription = client.subscribe(SubscriptionTarget.prefix("chk-order-"),
                    StartFrom.end(), recorder)) {
                assertThat(subscription.awaitLive(Duration.ofSeconds(10))).isTrue();
                long order = client.append("chk-order-1", ExpectedVersion.any(), EventData.of("Placed", "1"))
                        .lastPosition();
                long other = client.append("chk-invoice-1", ExpectedVersion.any(), EventData.of("Sent", "2"))
                        .lastPosition();
                await("the checkpoint to pass the other stream", Duration.ofSeconds(10),
                        () -> subscription.checkpoint() == other);
                assertThat(subscription.lastPosition()).isEqualTo(order);
                assertThat(recorder.snapshot()).extracting(RecordedEvent::stream).containsExactly("chk-order-1");
            }
        }
    }

    @Test
    void aStartBeyondTheHeadIsRefusedNamingTheHead() {
        try (RewindClient client = client()) {
            client.append("beyond", ExpectedVersion.any(), EventData.of("E", "0"));
            assertThatThrownBy(() -> client.subscribe(SubscriptionTarget.stream("beyond"), StartFrom.after(5),
                    (s, e) -> { })).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("after position 5").hasMessageContaining("head is at 0");
            // At the head is fine: it waits for the next event.
            client.subscribe(SubscriptionTarget.stream("beyond"), StartFrom.after(0), (s, e) -> { }).close();
        }
    }

    @Test
    void aSlowListenerOfLargeEventsGetsEveryEventThroughASmallBuffer() throws Exception {
        try (RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                .subscriptionBufferBytes(1 << 20).build()) {
            CountDownLatch release = new CountDownLatch(1);
            List<Long> versions = new ArrayList<>();
            try (Subscription subscription = client.subscribe(SubscriptionTarget.stream("large"), StartFrom.start(),
                    (s, event) -> {
                        release.await();
                        synchronized (versions) {
                            versions.add(event.streamVersion());
                        }
                    })) {
                // Live first, so that the events below come on the feed while the listener is stuck on the first.
                assertThat(subscription.awaitLive(Duration.ofSeconds(10))).isTrue();
                client.append("large", ExpectedVersion.noStream(), EventData.of("Big", new byte[10]));
                for (int i = 0; i < 40; i++) {
                    client.append("large", ExpectedVersion.any(), EventData.of("Big", new byte[256 << 10]));
                }
                release.countDown();
                await("all 41 events", Duration.ofSeconds(30), () -> {
                    synchronized (versions) {
                        return versions.size() == 41;
                    }
                });
                synchronized (versions) {
                    for (int i = 0; i < versions.size(); i++) {
                        assertThat(versions.get(i)).isEqualTo(i);
                    }
                }
            }
        }
    }

    @Test
    void aLostFeedIsReportedAtOnceAndTheSubscriptionResumesGapFree() throws Exception {
        try (ServerProcess own = ServerProcess.start("feed-loss", tmp.resolve("feed-loss"), "rocksdb");
                RewindClient client = RewindClient.builder().commandEndpoint(own.commandEndpoint())
                        .requestTimeout(Duration.ofSeconds(10)).build()) {
            SubscriptionIT.Recorder recorder = new SubscriptionIT.Recorder();
            try (Subscription subscription = client.subscribe(SubscriptionTarget.all(), StartFrom.start(),
                    recorder)) {
                client.append("s", ExpectedVersion.any(), EventData.of("E", "0"));
                assertThat(subscription.awaitLive(Duration.ofSeconds(10))).isTrue();
                own.kill();
                long killed = System.nanoTime();
                await("RECONNECTING", Duration.ofSeconds(5),
                        () -> subscription.state() == SubscriptionState.RECONNECTING);
                // Well before a 10 s history read could time out.
                assertThat(Duration.ofNanos(System.nanoTime() - killed)).isLessThan(Duration.ofSeconds(3));

                own.restart();
                client.append("s", ExpectedVersion.any(), EventData.of("E", "1"));
                client.append("s", ExpectedVersion.any(), EventData.of("E", "2"));
                await("the events after the restart", Duration.ofSeconds(20), () -> recorder.events.size() == 3);
                await("LIVE again", Duration.ofSeconds(10), () -> subscription.state() == SubscriptionState.LIVE);
                assertThat(recorder.snapshot()).extracting(RecordedEvent::globalPosition).containsExactly(0L, 1L, 2L);
            }
        }
    }

    @Test
    void aSubscriptionThatCannotReachTheFeedSaysSoAndStillDeliversFromHistory() throws Exception {
        try (RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                .streamEndpoint("tcp://127.0.0.1:1").build()) {
            SubscriptionIT.Recorder recorder = new SubscriptionIT.Recorder();
            try (Subscription subscription = client.subscribe(SubscriptionTarget.stream("no-feed"),
                    StartFrom.start(), recorder)) {
                await("RECONNECTING", Duration.ofSeconds(10),
                        () -> subscription.state() == SubscriptionState.RECONNECTING);
                assertThat(subscription.awaitLive(Duration.ofMillis(100))).isFalse();
                client.append("no-feed", ExpectedVersion.any(), EventData.of("E", "polled"));
                await("the event, read from history", Duration.ofSeconds(10), () -> recorder.events.size() == 1);
            }
        }
    }

    @Test
    void theFeedEndpointIsLearnedFromTheServer() {
        try (RewindClient client = client()) {
            assertThat(client.serverInfo().streamEndpoint()).isEqualTo(server.streamEndpoint());
            assertThat(client.streamEndpoint()).isEqualTo(server.streamEndpoint());
        }
    }

    @Test
    void whatTheServerReportsCanBePassedBackAndReadsOfMissingStreamsFailAtTheCall() {
        try (RewindClient client = client()) {
            long actual;
            try {
                client.append("pass-back", ExpectedVersion.exact(3), EventData.of("E", "x"));
                throw new AssertionError("expected a conflict");
            } catch (WrongExpectedVersionException e) {
                actual = e.actualVersion();
            }
            assertThat(actual).isEqualTo(-1);
            assertThat(client.append("pass-back", ExpectedVersion.exact(actual), EventData.of("E", "y"))
                    .nextExpectedVersion()).isZero();
            assertThat(client.appendAsync("pass-back", ExpectedVersion.exact(0), EventData.of("E", "z"),
                    EventData.of("E", "w")).join().nextExpectedVersion()).isEqualTo(2);

            assertThatThrownBy(() -> client.readStream("never-written")).isInstanceOf(StreamNotFoundException.class);
        }
    }

    @Test
    void shortLivedClientsPrintNothing() {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            for (int i = 0; i < 40; i++) {
                try (RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                        .streamEndpoint(server.streamEndpoint()).build()) {
                    client.append("short-lived", ExpectedVersion.any(), EventData.of("Once", Integer.toString(i)));
                }
            }
        } finally {
            System.setErr(original);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8)).doesNotContain("Exception");
    }
}
