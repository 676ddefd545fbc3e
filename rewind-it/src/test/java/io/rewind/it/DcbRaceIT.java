package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.client.AppendCondition;
import io.rewind.client.AppendResult;
import io.rewind.client.ConditionFailedException;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.Query;
import io.rewind.client.ReadOptions;
import io.rewind.client.ReadPage;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.RewindException;
import io.rewind.client.StreamAppend;
import io.rewind.testkit.ServerProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dynamic Consistency Boundary appends under contention and under SIGKILL, checked afterwards against the
 * stored log.
 */
class DcbRaceIT {
    private static final int CLIENTS = 20;
    private static final int SEATS = 5;
    /** How long the clients race: 8 s in the everyday build (thousands of races), 30 s with -Plong. */
    private static final long RACE_SECONDS = Boolean.getBoolean("rewind.it.long") ? 30 : 8;

    @TempDir
    Path tmp;

    /**
     * Every client, again and again: read the newest claim of a random seat (a query by its tag), then claim it on
     * the condition that no claim of that seat was stored after the one it read. Afterwards, in the log, each
     * stored claim's condition held at its position: the claim before it of the same seat is exactly the one
     * its writer read. No two winners, ever.
     */
    @Test
    void racingConditionalAppendsNeverBothWin() throws Exception {
        Map<Long, Long> acknowledged = new ConcurrentHashMap<>();
        AtomicLong refused = new AtomicLong();
        AtomicBoolean running = new AtomicBoolean(true);
        try (ServerProcess server = ServerProcess.start("dcb-race", tmp.resolve("data"), "rocksdb")) {
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                Thread thread = new Thread(() -> {
                    SplittableRandom random = new SplittableRandom(client);
                    try (RewindClient own = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                            .requestTimeout(Duration.ofSeconds(30)).build()) {
                        go.await();
                        for (int n = 0; running.get(); n++) {
                            Query seat = Query.tagged("seat:" + random.nextInt(SEATS));
                            ReadPage newest = own.readQueryPage(seat, ReadOptions.backwards().pageSize(1));
                            long after = newest.events().isEmpty() ? -1 : newest.events().get(0).globalPosition();
                            try {
                                AppendResult result = own.append("claim-" + client + "-" + n, ExpectedVersion.any(),
                                        AppendCondition.failIfEventsMatch(seat).after(after),
                                        EventData.of("SeatClaimed", Long.toString(after))
                                                .withTags(seat.items().get(0).tags()));
                                acknowledged.put(result.firstPosition(), after);
                            } catch (ConditionFailedException lost) {
                                assertThat(lost.position()).isGreaterThan(after);
                                refused.incrementAndGet();
                            }
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "claimer-" + c);
                threads.add(thread);
                thread.start();
            }
            go.countDown();
            TimeUnit.SECONDS.sleep(RACE_SECONDS);
            List<RecordedEvent> log = stopAndReadTheLog(running, threads, server);
            assertThat(log).hasSize(acknowledged.size());
            assertThat(refused.get()).as("the clients raced").isPositive();
            Map<String, Long> lastClaim = new HashMap<>();
            for (RecordedEvent claim : log) {
                String seat = claim.tags().asList().get(0);
                long readBefore = Long.parseLong(claim.dataAsString());
                assertThat(readBefore).as("claim at %d of %s: its writer read the claim just before it",
                        claim.globalPosition(), seat).isEqualTo(lastClaim.getOrDefault(seat, -1L));
                assertThat(acknowledged).containsEntry(claim.globalPosition(), readBefore);
                lastClaim.put(seat, claim.globalPosition());
            }
            System.out.printf("DcbRaceIT: %d clients, %d s: %d claims stored, %d refused by their condition%n",
                    CLIENTS, RACE_SECONDS, log.size(), refused.get());
        }
    }

    /**
     * Writers append to three streams at once, on a condition, while the server is SIGKILLed and restarted:
     * afterwards every append is stored whole or not at all, and every acknowledged one whole.
     */
    @Test
    void noPartialMultiStreamOrConditionalAppendSurvivesSigkill() throws Exception {
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        AtomicLong retries = new AtomicLong();
        AtomicBoolean running = new AtomicBoolean(true);
        try (ServerProcess server = ServerProcess.start("dcb-crash", tmp.resolve("crash"), "rocksdb")) {
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int writer = w;
                Thread thread = new Thread(() -> {
                    try (RewindClient own = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                            .requestTimeout(Duration.ofSeconds(2)).build()) {
                        for (int n = 0; running.get(); n++) {
                            String batch = writer + "-" + n;
                            List<StreamAppend> parts = new ArrayList<>();
                            for (String part : List.of("a", "b", "c")) {
                                parts.add(StreamAppend.of("batch-" + writer + "-" + part, ExpectedVersion.any(),
                                        event(batch), event(batch)));
                            }
                            AppendCondition fresh = AppendCondition.failIfEventsMatch(Query.tagged("batch:" + batch));
                            while (true) {
                                try {
                                    own.append(parts, fresh);
                                    acknowledged.add(batch);
                                    break;
                                } catch (ConditionFailedException e) {
                                    throw new AssertionError("a retry with the same ids is answered as stored", e);
                                } catch (RewindException e) {
                                    // Down or restarting: the same ids again; a stored one is answered as such.
                                    retries.incrementAndGet();
                                    if (!running.get()) {
                                        break;
                                    }
                                }
                            }
                        }
                    }
                }, "batch-writer-" + w);
                threads.add(thread);
                thread.start();
            }
            // Each kill waits for appends acknowledged since the restart before it: a slow machine still gets
            // kills in the middle of work, not only while the writers wait for a server that is not up yet.
            for (int kill = 0; kill < 3; kill++) {
                int before = acknowledged.size();
                awaitAcknowledged(acknowledged, before + 10);
                server.kill();
                server.restart();
            }
            awaitAcknowledged(acknowledged, acknowledged.size() + 10);
            List<RecordedEvent> log = stopAndReadTheLog(running, threads, server);
            Map<String, List<RecordedEvent>> byBatch = new HashMap<>();
            for (RecordedEvent event : log) {
                byBatch.computeIfAbsent(event.dataAsString(), b -> new ArrayList<>()).add(event);
            }
            for (Map.Entry<String, List<RecordedEvent>> batch : byBatch.entrySet()) {
                List<RecordedEvent> events = batch.getValue();
                assertThat(events).as("batch %s: all six events or none", batch.getKey()).hasSize(6);
                for (int i = 1; i < events.size(); i++) {
                    assertThat(events.get(i).globalPosition()).as("batch %s is consecutive", batch.getKey())
                            .isEqualTo(events.get(0).globalPosition() + i);
                }
            }
            assertThat(byBatch.keySet()).containsAll(acknowledged);
            assertThat(acknowledged).as("enough was acknowledged to mean something").hasSizeGreaterThanOrEqualTo(40);
            assertThat(retries.get()).as("the kills interrupted writers").isPositive();
        }
    }

    private static void awaitAcknowledged(Set<String> acknowledged, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (acknowledged.size() < count) {
            assertThat(System.nanoTime() < deadline).as("%d appends acknowledged within a minute, %d were", count,
                    acknowledged.size()).isTrue();
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    /** Stops the writers, waits for them, and reads the whole log. */
    private static List<RecordedEvent> stopAndReadTheLog(AtomicBoolean running, List<Thread> threads,
            ServerProcess server) throws InterruptedException {
        running.set(false);
        for (Thread thread : threads) {
            thread.join(60_000);
            assertThat(thread.isAlive()).isFalse();
        }
        try (RewindClient reader = RewindClient.builder().commandEndpoint(server.commandEndpoint()).build()) {
            return reader.readAll().toList();
        }
    }

    private static EventData event(String batch) {
        return EventData.of("Batched", batch).withId(UUID.randomUUID()).withTags("batch:" + batch);
    }
}
