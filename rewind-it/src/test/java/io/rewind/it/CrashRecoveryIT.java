package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.client.AppendResult;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.RewindException;
import io.rewind.testkit.ServerProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writers append continuously while the server is killed with SIGKILL at random moments and
 * restarted on the same data. Every acknowledged event must be there exactly once, nothing unsent
 * may appear, versions and positions must be dense, and each stream must hold its writer's appends
 * in the order they were acknowledged.
 */
class CrashRecoveryIT {
    private static final int WRITERS = 4;
    /** SIGKILLs: 6 in the everyday build, 24 with -Plong. */
    private static final int KILLS = Boolean.getBoolean("rewind.it.long") ? 24 : 6;

    @TempDir
    Path tmp;

    /** One writer: its own stream, its appends retried with the same ids until acknowledged. */
    private static final class Writer implements Runnable {
        final String stream = "crash-" + UUID.randomUUID();
        final List<List<UUID>> acknowledged = new ArrayList<>();
        final Set<UUID> sent;
        final RewindClient client;
        final AtomicBoolean running;
        final Random random;
        List<UUID> inFlight;
        int retries;

        Writer(RewindClient client, Set<UUID> sent, AtomicBoolean running, long seed) {
            this.client = client;
            this.sent = sent;
            this.running = running;
            this.random = new Random(seed);
        }

        @Override
        public void run() {
            while (running.get()) {
                if (inFlight == null) {
                    inFlight = new ArrayList<>();
                    for (int i = 1 + random.nextInt(3); i > 0; i--) {
                        inFlight.add(UUID.randomUUID());
                    }
                    sent.addAll(inFlight);
                }
                List<EventData> events = inFlight.stream()
                        .map(id -> EventData.of("Crash", id.toString()).withId(id)).toList();
                try {
                    AppendResult result = client.append(stream, ExpectedVersion.any(), events);
                    assertThat(result.lastPosition() - result.firstPosition()).isEqualTo(events.size() - 1);
                    acknowledged.add(inFlight);
                    inFlight = null;
                } catch (RewindException e) {
                    // Timed out or refused while the server was down: the same ids again, idempotently.
                    retries++;
                    sleep(20);
                }
            }
        }
    }

    @Test
    void acknowledgedEventsSurviveRepeatedSigkill() throws Exception {
        Random random = new Random(42);
        Set<UUID> sent = ConcurrentHashMap.newKeySet();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Writer> writers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        try (ServerProcess server = ServerProcess.start("crash", tmp.resolve("data"), "rocksdb")) {
            List<RewindClient> clients = new ArrayList<>();
            for (int i = 0; i < WRITERS; i++) {
                RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                        .requestTimeout(Duration.ofSeconds(2)).build();
                clients.add(client);
                Writer writer = new Writer(client, sent, running, random.nextLong());
                writers.add(writer);
                Thread thread = new Thread(writer, "writer-" + i);
                threads.add(thread);
                thread.start();
            }
            for (int kill = 0; kill < KILLS; kill++) {
                sleep(200 + random.nextInt(600));
                server.kill();
                assertThat(server.outputText()).doesNotContain("ERROR");
                server.restart();
                assertThat(server.outputText()).contains("Recovered");
            }
            sleep(500);
            running.set(false);
            for (Thread thread : threads) {
                thread.join(30_000);
                assertThat(thread.isAlive()).isFalse();
            }

            List<RecordedEvent> log;
            try (RewindClient reader = RewindClient.builder().commandEndpoint(server.commandEndpoint()).build()) {
                log = reader.readAll().toList();
            }
            clients.forEach(RewindClient::close);
            verify(log, writers, sent);
        }
    }

    private static void verify(List<RecordedEvent> log, List<Writer> writers, Set<UUID> sent) {
        long acknowledged = writers.stream().mapToLong(w -> w.acknowledged.stream().mapToLong(List::size).sum()).sum();
        assertThat(acknowledged).as("enough work was acknowledged to mean something").isGreaterThan(200);
        assertThat(writers.stream().mapToInt(w -> w.retries).sum()).as("the kills interrupted writers").isPositive();

        // Global positions dense from zero; every stored event was sent, and stored once.
        for (int i = 0; i < log.size(); i++) {
            assertThat(log.get(i).globalPosition()).isEqualTo(i);
        }
        Set<UUID> stored = new HashSet<>();
        for (RecordedEvent event : log) {
            assertThat(stored.add(event.eventId())).as("stored once: %s", event.eventId()).isTrue();
            assertThat(sent).as("never sent: %s", event.eventId()).contains(event.eventId());
        }

        Map<String, List<RecordedEvent>> byStream = new HashMap<>();
        log.forEach(e -> byStream.computeIfAbsent(e.stream(), s -> new ArrayList<>()).add(e));
        for (Writer writer : writers) {
            List<RecordedEvent> events = byStream.getOrDefault(writer.stream, List.of());
            for (int v = 0; v < events.size(); v++) {
                assertThat(events.get(v).streamVersion()).isEqualTo(v);
            }
            // The stream is exactly the acknowledged appends in order, plus at most the last one that was
            // in flight when the writers stopped.
            List<UUID> expected = new ArrayList<>();
            writer.acknowledged.forEach(expected::addAll);
            List<UUID> actual = events.stream().map(RecordedEvent::eventId).toList();
            if (writer.inFlight != null && actual.size() > expected.size()) {
                expected.addAll(writer.inFlight);
            }
            assertThat(actual).as("stream %s", writer.stream).containsExactlyElementsOf(expected);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
