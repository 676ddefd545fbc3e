package io.rewind.bench;

import io.rewind.client.AppendCondition;
import io.rewind.client.AppendResult;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.Query;
import io.rewind.client.ReadOptions;
import io.rewind.client.RewindClient;
import io.rewind.testkit.ServerProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What Dynamic Consistency Boundary features cost, each beside its baseline in the same run, measured in turns:
 * appends on a one-tag condition beside the same appends without it (16 clients x 16 in flight, every event
 * tagged in both), and a read by a tag that 0.1% of the log's events carry beside a replay of the whole log.
 */
final class DcbBench {
    private static final int CLIENTS = 16;
    private static final int EVENT_BYTES = 100;
    private static final int ROUNDS = 2;
    private static final int READ_PASSES = 3;
    /** One event in this many carries the rare tag. */
    private static final int RARE_EVERY = 1_000;

    private final Benchmark bench;

    DcbBench(Benchmark bench) {
        this.bench = bench;
    }

    void run() throws Exception {
        List<String> lines = new ArrayList<>();
        AtomicLong keys = new AtomicLong();
        // Both kinds tag every event with a key of its own; the conditional one also requires that no event
        // carries it yet: one index seek per append, which always passes.
        Benchmark.AppendSender tagged = (client, stream, events) -> client.appendAsync(stream, ExpectedVersion.any(),
                tag(events, "key:" + keys.incrementAndGet()));
        Benchmark.AppendSender conditional = (client, stream, events) -> {
            String key = "key:" + keys.incrementAndGet();
            return client.appendAsync(stream, ExpectedVersion.any(),
                    AppendCondition.failIfEventsMatch(Query.tagged(key)), tag(events, key));
        };
        for (String fsync : List.of("never", "always")) {
            try (ServerProcess server = ServerProcess.start("bench-dcb-" + fsync,
                    bench.workDir.resolve("dcb-" + fsync), "rocksdb", "--fsync", fsync)) {
                Benchmark.progress("fsync %s: warming up", fsync);
                appends(server, tagged, "warmup-tagged-" + fsync, 2_500_000_000L);
                appends(server, conditional, "warmup-conditional-" + fsync, 2_500_000_000L);
                double plainSum = 0;
                double conditionalSum = 0;
                for (int round = 0; round < ROUNDS; round++) {
                    Benchmark.progress("fsync %s, round %d of %d: %d clients x %d in flight, tagged then conditional",
                            fsync, round + 1, ROUNDS, CLIENTS, bench.inFlight);
                    plainSum += appends(server, tagged, "tagged-" + fsync + "-" + round, bench.duration().toNanos());
                    conditionalSum += appends(server, conditional, "conditional-" + fsync + "-" + round,
                            bench.duration().toNanos());
                }
                Map<String, Object> params = new LinkedHashMap<>();
                params.put("fsync", fsync);
                params.put("clients", CLIENTS);
                params.put("in_flight", bench.inFlight);
                params.put("event_bytes", EVENT_BYTES);
                Map<String, Object> result = Benchmark.result("dcb_conditional_append", params);
                result.put("unconditional_events_per_s", plainSum / ROUNDS);
                result.put("conditional_events_per_s", conditionalSum / ROUNDS);
                result.put("ratio", conditionalSum / plainSum);
                bench.emit(result);
                lines.add(String.format(Locale.ROOT, "Appends, fsync %s, %d clients x %d in flight, %d B, one tag each:"
                        + " unconditional %,.0f/s, on a one-tag condition %,.0f/s (%.2fx)", fsync, CLIENTS,
                        bench.inFlight, EVENT_BYTES, plainSum / ROUNDS, conditionalSum / ROUNDS,
                        conditionalSum / plainSum));
                if (fsync.equals("never") && bench.replayEvents > 0) {
                    lines.addAll(queryRead(server));
                }
            }
        }
        System.out.println();
        lines.forEach(System.out::println);
    }

    private static List<EventData> tag(List<EventData> events, String tag) {
        return events.stream().map(e -> e.withTags(tag)).toList();
    }

    private double appends(ServerProcess server, Benchmark.AppendSender sender, String name, long measureNanos)
            throws Exception {
        Benchmark.AppendSender saved = bench.appendSender;
        bench.appendSender = sender;
        try {
            Benchmark.Measured measured = bench.runAppends(List.of(server.commandEndpoint()), name, CLIENTS, 1,
                    EVENT_BYTES, 500_000_000L, measureNanos);
            return measured.events() / (measureNanos / 1e9);
        } finally {
            bench.appendSender = saved;
        }
    }

    /** Stores the log (0.1% of it tagged "rare"), then reads it whole and by the tag, in turns. */
    private List<String> queryRead(ServerProcess server) throws Exception {
        int events = bench.replayEvents;
        try (RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                .requestTimeout(Duration.ofSeconds(120)).build()) {
            Benchmark.progress("Query read: storing %,d events of %d B, one in %,d tagged 'rare'", events, EVENT_BYTES,
                    RARE_EVERY);
            long first = client.serverInfo().headPosition() + 1;
            byte[] data = new byte[EVENT_BYTES];
            List<CompletableFuture<AppendResult>> window = new ArrayList<>();
            for (int written = 0; written < events; written += 100) {
                List<EventData> batch = new ArrayList<>(100);
                for (int i = written; i < Math.min(written + 100, events); i++) {
                    EventData event = EventData.of("Replay", data);
                    batch.add(i % RARE_EVERY == 0 ? event.withTags("rare") : event);
                }
                window.add(client.appendAsync("replay-" + (written / 100) % 1_000, ExpectedVersion.any(), batch));
                if (window.size() == 32) {
                    window.forEach(CompletableFuture::join);
                    window.clear();
                }
            }
            window.forEach(CompletableFuture::join);
            Benchmark.awaitQuiet(server);
            long rare = (events + RARE_EVERY - 1) / RARE_EVERY;
            double[] replaySeconds = new double[READ_PASSES];
            double[] querySeconds = new double[READ_PASSES];
            for (int pass = 0; pass < READ_PASSES; pass++) {
                Benchmark.progress("Pass %d of %d: the whole log, then the events tagged 'rare'", pass + 1,
                        READ_PASSES);
                long start = System.nanoTime();
                long count = client.readAll(ReadOptions.forwards().from(first).maxCount(events)).count();
                replaySeconds[pass] = Ceilings.seconds(start);
                check(count, events, "the whole log");
                start = System.nanoTime();
                count = client.readQuery(Query.tagged("rare"), ReadOptions.forwards().from(first)).count();
                querySeconds[pass] = Ceilings.seconds(start);
                check(count, rare, "the query");
            }
            Arrays.sort(replaySeconds);
            Arrays.sort(querySeconds);
            double replay = replaySeconds[READ_PASSES / 2];
            double query = querySeconds[READ_PASSES / 2];
            Map<String, Object> result = Benchmark.result("dcb_query_read",
                    Map.of("events", events, "matching", rare, "passes", READ_PASSES));
            result.put("replay_seconds", replay);
            result.put("replay_events_per_s", events / replay);
            result.put("query_seconds", query);
            result.put("query_events_per_s", rare / query);
            result.put("time_ratio", query / replay);
            bench.emit(result);
            return List.of(String.format(Locale.ROOT, "Read of the %,d events tagged 'rare' among %,d (median of %d):"
                            + " %.3f s, %,.0f events/s; the whole log: %.2f s, %,.0f events/s; the query takes %.4f"
                            + " of the replay's time", rare, events, READ_PASSES, query, rare / query, replay,
                    events / replay, query / replay));
        }
    }

    private static void check(long count, long expected, String what) {
        if (count != expected) {
            throw new IllegalStateException(what + " returned " + count + " events, expected " + expected);
        }
    }
}
