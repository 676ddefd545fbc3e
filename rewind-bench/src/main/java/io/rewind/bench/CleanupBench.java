package io.rewind.bench;

import io.rewind.client.AppendResult;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.RewindClient;
import io.rewind.testkit.ServerProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * What the stream cleanup reclaims and what it costs: stores events of 100 B across 1,000 streams, deletes half
 * the streams, and measures the data directory before and after the cleanup, and appends (16 clients x 16 in
 * flight) while it runs beside appends before it, on the same server.
 */
final class CleanupBench {
    private static final int CLIENTS = 16;
    private static final int EVENT_BYTES = 100;
    private static final int STREAMS = 1_000;

    private final Benchmark bench;

    CleanupBench(Benchmark bench) {
        this.bench = bench;
    }

    void run() throws Exception {
        int events = bench.replayEvents;
        Path data = bench.workDir.resolve("cleanup");
        try (ServerProcess server = ServerProcess.start("bench-cleanup", data, "rocksdb", "--fsync", "never",
                "--cleanup-interval", "1")) {
            try (RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                    .requestTimeout(Duration.ofSeconds(120)).build()) {
                Benchmark.progress("Storing %,d events of %d B in %,d streams", events, EVENT_BYTES, STREAMS);
                // Random payloads: event data does not compress to nothing, and zeros would leave the ids (which
                // the cleanup keeps) most of the store.
                java.util.SplittableRandom random = new java.util.SplittableRandom(1);
                List<CompletableFuture<AppendResult>> window = new ArrayList<>();
                for (int written = 0; written < events; written += 100) {
                    List<EventData> batch = new ArrayList<>(100);
                    for (int i = written; i < Math.min(written + 100, events); i++) {
                        byte[] payload = new byte[EVENT_BYTES];
                        random.nextBytes(payload);
                        batch.add(EventData.of("Stored", payload));
                    }
                    window.add(client.appendAsync("s-" + (written / 100) % STREAMS, ExpectedVersion.any(), batch));
                    if (window.size() == 32) {
                        window.forEach(CompletableFuture::join);
                        window.clear();
                    }
                }
                window.forEach(CompletableFuture::join);
                Benchmark.awaitQuiet(server);
                Benchmark.progress("Appends before the cleanup: %d clients x %d in flight", CLIENTS, bench.inFlight);
                double before = rate(server, "before");
                Benchmark.awaitQuiet(server);
                long sizeBefore = size(data);
                Benchmark.progress("Deleting %,d of the %,d streams; appends while the cleanup runs", STREAMS / 2,
                        STREAMS);
                for (int s = 0; s < STREAMS; s += 2) {
                    client.deleteStream("s-" + s, ExpectedVersion.any());
                }
                double during = rate(server, "during");
                long deleted = (long) (STREAMS / 2) * (events / STREAMS);
                boolean overlapped = removed(server) < deleted;
                long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
                while (removed(server) < deleted) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the cleanup removed " + removed(server) + " of " + deleted
                                + " events in 10 minutes");
                    }
                    Thread.sleep(200);
                }
                Benchmark.awaitQuiet(server);
                long sizeAfter = size(data);
                Map<String, Object> result = Benchmark.result("cleanup", Map.of("events", events, "streams", STREAMS,
                        "deleted_streams", STREAMS / 2));
                result.put("bytes_before", sizeBefore);
                result.put("bytes_after", sizeAfter);
                result.put("shrink", 1 - (double) sizeAfter / sizeBefore);
                result.put("appends_before_per_s", before);
                result.put("appends_during_per_s", during);
                result.put("append_ratio", during / before);
                result.put("cleanup_ran_throughout", overlapped);
                bench.emit(result);
                System.out.println();
                System.out.println(String.format(Locale.ROOT, "Data directory with %,d events of %d B in %,d streams:"
                        + " %,d MiB; half the streams deleted and cleaned up: %,d MiB (%.0f%% smaller, the events"
                        + " appended meanwhile included)", events, EVENT_BYTES, STREAMS, sizeBefore >> 20,
                        sizeAfter >> 20, 100 * (1 - (double) sizeAfter / sizeBefore)));
                System.out.println(String.format(Locale.ROOT, "Appends, %d clients x %d in flight, %d B: before %,.0f/s,"
                        + " during the cleanup %,.0f/s (%.2fx)%s", CLIENTS, bench.inFlight, EVENT_BYTES, before,
                        during, during / before, overlapped ? "" : " (the cleanup ended before the appends did)"));
            }
        }
    }

    /** The events the server's cleanup passes say they removed so far. */
    private static long removed(ServerProcess server) {
        return java.util.regex.Pattern.compile("Cleanup: removed (\\d+) events").matcher(server.outputText()).results()
                .mapToLong(match -> Long.parseLong(match.group(1))).sum();
    }

    private double rate(ServerProcess server, String name) throws Exception {
        Benchmark.Measured measured = bench.runAppends(List.of(server.commandEndpoint()), "cleanup-" + name, CLIENTS,
                1, EVENT_BYTES, 500_000_000L, bench.duration().toNanos());
        return measured.events() / (bench.duration().toNanos() / 1e9);
    }

    private static long size(Path directory) throws IOException {
        long total = 0;
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                try {
                    total += Files.size(file);
                } catch (IOException gone) {
                    // deleted meanwhile
                }
            }
        }
        return total;
    }
}
