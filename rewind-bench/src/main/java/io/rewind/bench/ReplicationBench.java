package io.rewind.bench;

import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.RewindClient;
import io.rewind.testkit.ServerGroup;
import io.rewind.testkit.ServerProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The replication numbers: durable appends to a 3-member group beside a single server, measured in the
 * same run with the same load, and the time from SIGKILL of the leader to the first append acknowledged
 * by its successor.
 */
final class ReplicationBench {
    private static final Duration ELECTION = Duration.ofSeconds(60);
    private static final int CLIENTS = 16;
    private static final int EVENT_BYTES = 100;
    private static final int GROUP_WARMUP_SECONDS = 20;

    private final Benchmark bench;

    ReplicationBench(Benchmark bench) {
        this.bench = bench;
    }

    void run() throws Exception {
        Path work = bench.workDir;
        double single;
        try (ServerProcess server = ServerProcess.start("bench-single", work.resolve("single"), "rocksdb")) {
            Benchmark.progress("Single server: warming up, then %d clients x %d in flight, 1 event of %d bytes",
                    CLIENTS, bench.inFlight, EVENT_BYTES);
            bench.runAppends(List.of(server.commandEndpoint()), "single-warmup", CLIENTS, 1, EVENT_BYTES,
                    500_000_000L, 2_500_000_000L);
            single = measure(List.of(server.commandEndpoint()), "single");
        }
        try (ServerGroup group = ServerGroup.start(work.resolve("group"), 3)) {
            group.awaitLeader(ELECTION);
            // Three JVMs compile Ratis' gRPC, Netty and protobuf code on the same cores: their compilers are
            // busy for many seconds more than one server's (seen in thread CPU times).
            Benchmark.progress("3-member group: warming up for %d s, then the same load", GROUP_WARMUP_SECONDS);
            bench.runAppends(group.commandEndpoints(), "group-warmup", CLIENTS, 1, EVENT_BYTES, 500_000_000L,
                    TimeUnit.SECONDS.toNanos(GROUP_WARMUP_SECONDS));
            double replicated = measure(group.commandEndpoints(), "replicated");
            Map<String, Object> ratio = Benchmark.result("replicated_vs_single", Map.of());
            ratio.put("ratio", replicated / single);
            bench.emit(ratio);
            List<Long> failovers = failovers(group);
            System.out.println();
            System.out.printf(Locale.ROOT, "Durable appends, %d clients x %d in flight, %d B: single server %,.0f/s,"
                    + " 3-member group %,.0f/s (%.2fx)%n", CLIENTS, bench.inFlight, EVENT_BYTES, single, replicated,
                    replicated / single);
            if (!failovers.isEmpty()) {
                System.out.printf(Locale.ROOT, "Failover, SIGKILL of the leader to the first append acknowledged after"
                        + " it, %d kills: p50 %d ms, max %d ms %s%n", failovers.size(),
                        failovers.get(failovers.size() / 2), failovers.get(failovers.size() - 1), failovers);
            }
        }
    }

    private double measure(List<String> endpoints, String name) throws Exception {
        Benchmark.Measured measured = bench.runAppends(endpoints, name, CLIENTS, 1, EVENT_BYTES, 500_000_000L,
                bench.duration().toNanos());
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("members", endpoints.size());
        params.put("clients", CLIENTS);
        params.put("in_flight", bench.inFlight);
        params.put("event_bytes", EVENT_BYTES);
        Map<String, Object> result = Benchmark.result("durable_append", params);
        double perSecond = measured.events() / (bench.duration().toNanos() / 1e9);
        result.put("events_per_s", perSecond);
        result.put("p50_ms", measured.latency().getValueAtPercentile(50) / 1e6);
        result.put("p99_ms", measured.latency().getValueAtPercentile(99) / 1e6);
        bench.emit(result);
        return perSecond;
    }

    /**
     * Kills the leader again and again while 8 clients append, each retrying with the same ids until
     * acknowledged; times each kill to the first acknowledgement of an append sent after it.
     */
    private List<Long> failovers(ServerGroup group) throws Exception {
        if (bench.failovers <= 0) {
            return List.of();
        }
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong killedAt = new AtomicLong(System.nanoTime());
        AtomicLong firstAck = new AtomicLong(Long.MAX_VALUE);
        AtomicLong acknowledged = new AtomicLong();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 8; w++) {
            String stream = "failover-" + w;
            Thread writer = new Thread(() -> {
                try (RewindClient client = group.client()) {
                    while (running.get()) {
                        EventData event = EventData.of("E", new byte[EVENT_BYTES]).withId(UUID.randomUUID());
                        long sent = System.nanoTime();
                        while (running.get()) {
                            try {
                                client.append(stream, ExpectedVersion.any(), event);
                                break;
                            } catch (RuntimeException retry) {
                                // Same id: stored once however many tries reach the log.
                            }
                        }
                        acknowledged.incrementAndGet();
                        if (sent - killedAt.get() > 0) {
                            firstAck.accumulateAndGet(System.nanoTime(), Math::min);
                        }
                    }
                }
            }, "bench-failover-" + w);
            writer.start();
            writers.add(writer);
        }
        List<Long> millis = new ArrayList<>();
        try {
            for (int kill = 0; kill < bench.failovers; kill++) {
                long before = acknowledged.get();
                ServerGroup.awaitCondition(() -> acknowledged.get() > before + 100, ELECTION, () -> "appends go on");
                // The member restarted after the last kill has caught up first.
                int leader = group.awaitCaughtUpLeader(ELECTION);
                firstAck.set(Long.MAX_VALUE);
                killedAt.set(System.nanoTime());
                group.member(leader).kill();
                ServerGroup.awaitCondition(() -> firstAck.get() != Long.MAX_VALUE, ELECTION,
                        () -> "an append acknowledged after the kill");
                long took = TimeUnit.NANOSECONDS.toMillis(firstAck.get() - killedAt.get());
                millis.add(took);
                Benchmark.progress("Kill %d of %d: leader %s, next append acknowledged after %d ms", kill + 1,
                        bench.failovers, group.id(leader), took);
                group.member(leader).restart();
            }
        } finally {
            running.set(false);
            for (Thread writer : writers) {
                writer.join(TimeUnit.SECONDS.toMillis(30));
            }
        }
        millis.sort(null);
        Map<String, Object> result = Benchmark.result("failover", Map.of("kills", millis.size()));
        result.put("p50_ms", millis.get(millis.size() / 2));
        result.put("max_ms", millis.get(millis.size() - 1));
        bench.emit(result);
        return millis;
    }
}
