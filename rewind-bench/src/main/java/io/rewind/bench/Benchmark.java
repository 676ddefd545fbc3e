package io.rewind.bench;

import io.rewind.client.AppendResult;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.ReadOptions;
import io.rewind.client.RewindClient;
import io.rewind.client.StartFrom;
import io.rewind.client.Subscription;
import io.rewind.client.SubscriptionTarget;
import io.rewind.testkit.ServerProcess;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Measures Rewind through its real client against real server processes, beside the ceilings of
 * the same machine measured in the same run, and prints one {@code RESULT {json}} line per result
 * and a table. Not a test: run it from the README's command.
 */
@Command(name = "rewind-benchmark", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measures Rewind against the ceilings of this machine. The default run takes about two minutes.")
public final class Benchmark implements Callable<Integer> {

    @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "2",
            description = "Measured seconds per append case and per ceiling (default: ${DEFAULT-VALUE}).")
    double durationSeconds;

    @Option(names = "--clients", split = ",", defaultValue = "1,4,16",
            description = "Concurrent clients (default: ${DEFAULT-VALUE}).")
    List<Integer> clientCounts;

    @Option(names = "--batches", split = ",", defaultValue = "1,100",
            description = "Events per append (default: ${DEFAULT-VALUE}).")
    List<Integer> batchSizes;

    @Option(names = "--sizes", split = ",", defaultValue = "100,1024",
            description = "Event data bytes (default: ${DEFAULT-VALUE}).")
    List<Integer> eventSizes;

    @Option(names = "--fsync", split = ",", defaultValue = "always,never",
            description = "Server fsync modes (default: ${DEFAULT-VALUE}).")
    List<String> fsyncModes;

    @Option(names = "--in-flight", defaultValue = "16",
            description = "Appends each client keeps in flight (default: ${DEFAULT-VALUE}).")
    int inFlight;

    @Option(names = "--many-writers", defaultValue = "64",
            description = "Clients of the extra group-commit case (single-event durable appends over 4 connections);"
                    + " 0 skips it (default: ${DEFAULT-VALUE}).")
    int manyWriters;

    @Option(names = "--connections", defaultValue = "0",
            description = "RewindClient instances the concurrent clients share, round robin; 0 gives each client its"
                    + " own (default: ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--replay-events", defaultValue = "1000000",
            description = "Events stored and then replayed; 0 skips the replay (default: ${DEFAULT-VALUE}).")
    int replayEvents;

    @Option(names = "--feed-rate", defaultValue = "10000",
            description = "Events per second for the live-feed latency (default: ${DEFAULT-VALUE}).")
    int feedRate;

    @Option(names = "--feed-seconds", defaultValue = "5",
            description = "Seconds of the live-feed latency run; 0 skips it (default: ${DEFAULT-VALUE}).")
    int feedSeconds;

    @Option(names = "--replication", description = "Measure replication instead: durable appends to a 3-member group"
            + " beside a single server in the same run, then failover after SIGKILL of the leader.")
    boolean replication;

    @Option(names = "--curve", description = "Measure CurveZMQ instead: appends and replay through a server with CURVE"
            + " on beside the same server in plain text, in the same run.")
    boolean curve;

    @Option(names = "--dcb", description = "Measure Dynamic Consistency Boundary features instead: conditional"
            + " appends beside unconditional ones, and a read by query beside a full replay.")
    boolean dcb;

    @Option(names = "--cleanup", description = "Measure the stream cleanup instead: half of 1,000 streams deleted,"
            + " the data directory before and after, appends while it runs (--replay-events events in all).")
    boolean cleanup;

    @Option(names = "--failovers", defaultValue = "10",
            description = "With --replication: leader kills to time (default: ${DEFAULT-VALUE}).")
    int failovers;

    @Option(names = "--redis-requests", defaultValue = "200000",
            description = "XADDs of each Redis Streams baseline run (fsync always, before and after Rewind's cases);"
                    + " 0 skips it (default: ${DEFAULT-VALUE}).")
    int redisRequests;

    @Option(names = "--idle-connections", defaultValue = "900",
            description = "Open but idle client connections of the many-connections case, beside 100 appending; 0"
                    + " skips it (default: ${DEFAULT-VALUE}).")
    int idleConnections;

    @Option(names = "--work-dir", defaultValue = "target/benchmark",
            description = "Where servers and ceilings keep their data; emptied first (default: ${DEFAULT-VALUE}).")
    Path workDir;

    private final List<Map<String, Object>> results = new ArrayList<>();
    /** What every client of the append cases is built with beyond its endpoints: CURVE keys, say. */
    UnaryOperator<RewindClient.Builder> clientOptions = UnaryOperator.identity();
    /** How the append cases send each append: plainly, or (the DCB benchmark) tagged and on a condition. */
    AppendSender appendSender = (client, stream, events) -> client.appendAsync(stream, ExpectedVersion.any(), events);

    /** Sends one append of the append cases. */
    @FunctionalInterface
    interface AppendSender {
        CompletableFuture<AppendResult> send(RewindClient client, String stream, List<EventData> events);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Benchmark()).execute(args));
    }

    Duration duration() {
        return Duration.ofMillis((long) (durationSeconds * 1000));
    }

    @Override
    public Integer call() throws Exception {
        deleteRecursively(workDir);
        Files.createDirectories(workDir);
        long started = System.nanoTime();
        if (replication) {
            new ReplicationBench(this).run();
            progress("Done in %.0f s", Ceilings.seconds(started));
            return 0;
        }
        if (cleanup) {
            new CleanupBench(this).run();
            progress("Done in %.0f s", Ceilings.seconds(started));
            return 0;
        }
        if (dcb) {
            new DcbBench(this).run();
            progress("Done in %.0f s", Ceilings.seconds(started));
            return 0;
        }
        if (curve) {
            new CurveBench(this).run();
            progress("Done in %.0f s", Ceilings.seconds(started));
            return 0;
        }
        progress("Ceilings of this machine (%.1f s each)", durationSeconds);
        double fsyncs = record("ceiling_fsync", Map.of(), "per_s",
                Ceilings.fsyncsPerSecond(workDir.resolve("fsync"), duration()));
        double syncedPuts = record("ceiling_rocksdb_synced_put", Map.of(), "per_s",
                Ceilings.rocksDbSyncedBatchesPerSecond(workDir.resolve("ceiling-put"), 1, duration()));
        double syncedBatches = record("ceiling_rocksdb_synced_batch100", Map.of(), "per_s",
                Ceilings.rocksDbSyncedBatchesPerSecond(workDir.resolve("ceiling-batch"), 100, duration()));
        double roundTrips = record("ceiling_zeromq_round_trips", Map.of("window", 1), "per_s",
                Ceilings.zeroMqRoundTripsPerSecond(1, duration()));
        double pipelined = record("ceiling_zeromq_round_trips", Map.of("window", 256), "per_s",
                Ceilings.zeroMqRoundTripsPerSecond(256, duration()));

        double redisBefore = redis("before");
        Map<String, Object> durable16 = null;
        for (String fsync : fsyncModes) {
            try (ServerProcess server = ServerProcess.start("bench-" + fsync, workDir.resolve("server-" + fsync),
                    "rocksdb", "--fsync", fsync, "--legacy-query-endpoint", "tcp://127.0.0.1:*")) {
                // Let both JVMs compile the hot paths before anything is measured.
                progress("Warming up the server (fsync %s)", fsync);
                runAppends(server, "warmup-" + fsync, 16, 1, 100, 500_000_000L, 2_500_000_000L);
                for (int batch : batchSizes) {
                    for (int size : eventSizes) {
                        for (int clients : clientCounts) {
                            Map<String, Object> result = appendCase(server, fsync, clients, batch, size);
                            double events = (double) result.get("events_per_s");
                            double appends = events / batch;
                            // Each append is one round trip; a synced batch is the most a group commit can be.
                            result.put("vs_zeromq_pipelined_round_trips", appends / pipelined);
                            if (fsync.equals("always")) {
                                compareDurable(result, appends, events, fsyncs, syncedPuts, syncedBatches);
                                if (batch == 1 && clients == 16 && size == eventSizes.get(0)) {
                                    durable16 = result;
                                }
                            }
                            emit(result);
                        }
                    }
                }
                if (fsync.equals("always") && manyWriters > 0 && batchSizes.contains(1)) {
                    int saved = connections;
                    connections = 4;
                    Map<String, Object> result = appendCase(server, fsync, manyWriters, 1, eventSizes.get(0));
                    connections = saved;
                    double events = (double) result.get("events_per_s");
                    result.put("vs_zeromq_pipelined_round_trips", events / pipelined);
                    compareDurable(result, events, events, fsyncs, syncedPuts, syncedBatches);
                    emit(result);
                }
                if (fsync.equals("always")) {
                    legacyPublish(server, syncedPuts);
                    if (idleConnections > 0 && durable16 != null) {
                        manyConnections(server, (double) durable16.get("events_per_s"));
                    }
                }
                if (fsync.equals(fsyncModes.get(0))) {
                    // Before the replay data: storing a million events sets RocksDB flushing and compacting.
                    if (feedSeconds > 0) {
                        feedLatency(server, fsync);
                    }
                    if (replayEvents > 0) {
                        replay(server);
                        // The same events, read by RocksDB alone: the most a replay of them can be.
                        double scan = record("ceiling_rocksdb_scan", Map.of("column_family", "events"), "per_s",
                                Ceilings.rocksDbScanPerSecond(workDir.resolve("server-" + fsync), "events"));
                        for (Map<String, Object> replay : List.copyOf(results)) {
                            if (replay.get("name").equals("replay_global_log")) {
                                Map<String, Object> ratio = result("target_replay_vs_rocksdb_scan", Map.of());
                                ratio.put("first_pass_ratio", (double) replay.get("first_pass_events_per_s") / scan);
                                ratio.put("median_ratio", (double) replay.get("events_per_s") / scan);
                                ratio.put("target", 0.5);
                                emit(ratio);
                            }
                        }
                    }
                }
            }
        }
        double redisAfter = redis("after");
        if (durable16 != null && redisBefore > 0 && redisAfter > 0) {
            Map<String, Object> ratio = result("target_vs_redis_streams", Map.of("clients", 16, "in_flight", inFlight));
            ratio.put("rewind_events_per_s", durable16.get("events_per_s"));
            ratio.put("redis_before_per_s", redisBefore);
            ratio.put("redis_after_per_s", redisAfter);
            ratio.put("ratio", (double) durable16.get("events_per_s") / ((redisBefore + redisAfter) / 2));
            ratio.put("target", 1.0);
            emit(ratio);
        }
        printTable(fsyncs, syncedPuts, syncedBatches, roundTrips, pipelined);
        progress("Done in %.0f s", Ceilings.seconds(started));
        return 0;
    }

    /** What group commit buys: durable appends per fsync and per synced RocksDB put, the one-sync-per-event way. */
    private static void compareDurable(Map<String, Object> result, double appends, double events, double fsyncs,
            double syncedPuts, double syncedBatches) {
        result.put("appends_per_fsync_ceiling", appends / fsyncs);
        result.put("appends_per_rocksdb_synced_put", appends / syncedPuts);
        result.put("vs_rocksdb_synced_batch100_events", events / (syncedBatches * 100));
    }

    /** Measures one append case; the caller adds the ratios to the ceilings and emits it. */
    private Map<String, Object> appendCase(ServerProcess server, String fsync, int clientCount, int batch, int size)
            throws Exception {
        progress("Appends: fsync %s, %d clients x %d in flight, %d events of %d bytes per append", fsync, clientCount,
                inFlight, batch, size);
        String name = fsync + "-" + batch + "-" + size + "-" + clientCount;
        Measured measured = runAppends(List.of(server.commandEndpoint()), name, clientCount, batch, size, 500_000_000L,
                duration().toNanos(), server);
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("fsync", fsync);
        params.put("clients", clientCount);
        params.put("in_flight", inFlight);
        params.put("connections", connections == 0 ? clientCount : Math.min(connections, clientCount));
        params.put("batch", batch);
        params.put("event_bytes", size);
        Map<String, Object> result = result("append", params);
        result.put("events_per_s", measured.events() / (duration().toNanos() / 1e9));
        result.put("p50_ms", measured.latency().getValueAtPercentile(50) / 1e6);
        result.put("p99_ms", measured.latency().getValueAtPercentile(99) / 1e6);
        result.put("p999_ms", measured.latency().getValueAtPercentile(99.9) / 1e6);
        putCpu(result, measured);
        return result;
    }

    /** CPU per event over the measured interval: the server process's own clock, and this JVM's (the clients'). */
    private static void putCpu(Map<String, Object> result, Measured measured) {
        if (measured.events() > 0 && measured.serverCpuNanos() >= 0) {
            result.put("server_cpu_us_per_event", measured.serverCpuNanos() / 1e3 / measured.events());
        }
        if (measured.events() > 0 && measured.clientCpuNanos() >= 0) {
            result.put("client_cpu_us_per_event", measured.clientCpuNanos() / 1e3 / measured.events());
        }
    }

    /**
     * @param serverCpuNanos the server process's CPU time over the measured interval, -1 when unknown
     * @param clientCpuNanos this JVM's CPU time over it, -1 when unknown
     */
    record Measured(long events, Histogram latency, long serverCpuNanos, long clientCpuNanos) {}

    /** Samples a process's CPU clock at the start and the end of the measured interval, on a thread of its own. */
    private static final class CpuWindow {
        private final java.util.function.Supplier<java.util.Optional<Duration>> clock;
        private volatile long start = -1;
        private volatile long end = -1;
        private final Thread sampler;

        CpuWindow(java.util.function.Supplier<java.util.Optional<Duration>> clock, long fromNanos, long toNanos) {
            this.clock = clock;
            this.sampler = new Thread(() -> {
                LockSupport.parkNanos(fromNanos - System.nanoTime());
                start = read();
                LockSupport.parkNanos(toNanos - System.nanoTime());
                end = read();
            }, "bench-cpu");
            sampler.setDaemon(true);
            sampler.start();
        }

        private long read() {
            return clock.get().map(Duration::toNanos).orElse(-1L);
        }

        long nanos() throws InterruptedException {
            sampler.join();
            return start < 0 || end < 0 ? -1 : end - start;
        }
    }

    /**
     * Appends from {@code clientCount} clients, each to its own stream with {@code inFlight} appends
     * outstanding: every reply sends that slot's next append, from the reply's callback, the way an
     * asynchronous application would (a thread per client blocking on a semaphore measured mostly
     * the load generator's own thread wake-ups). Counts what completes after the warm-up and before
     * the end.
     */
    private Measured runAppends(ServerProcess server, String name, int clientCount, int batch, int size,
            long warmupNanos, long measureNanos) throws Exception {
        return runAppends(List.of(server.commandEndpoint()), name, clientCount, batch, size, warmupNanos, measureNanos);
    }

    /** Like {@link #runAppends(ServerProcess, String, int, int, int, long, long)} against these command endpoints. */
    Measured runAppends(List<String> endpoints, String name, int clientCount, int batch, int size,
            long warmupNanos, long measureNanos) throws Exception {
        return runAppends(endpoints, name, clientCount, batch, size, warmupNanos, measureNanos, null);
    }

    /** Like the above, measuring the CPU of {@code cpuOf} (when not null) and of this JVM over the interval. */
    Measured runAppends(List<String> endpoints, String name, int clientCount, int batch, int size,
            long warmupNanos, long measureNanos, ServerProcess cpuOf) throws Exception {
        Recorder latencies = new Recorder(TimeUnit.SECONDS.toNanos(60), 3);
        AtomicLong events = new AtomicLong();
        AtomicLong failures = new AtomicLong();
        byte[] data = new byte[size];
        long warmupEnd = System.nanoTime() + warmupNanos;
        long end = warmupEnd + measureNanos;
        List<RewindClient> clients = new ArrayList<>();
        int connectionCount = connections == 0 ? clientCount : Math.min(connections, clientCount);
        for (int c = 0; c < connectionCount; c++) {
            clients.add(clientOptions.apply(RewindClient.builder().commandEndpoints(endpoints.toArray(new String[0])))
                    .build());
        }
        CountDownLatch finished = new CountDownLatch(clientCount * inFlight);
        CpuWindow serverCpu = cpuOf == null ? null : new CpuWindow(cpuOf::cpuTime, warmupEnd, end);
        CpuWindow clientCpu = new CpuWindow(() -> ProcessHandle.current().info().totalCpuDuration(), warmupEnd, end);
        for (int c = 0; c < clientCount; c++) {
            AppendLoop loop = new AppendLoop(clients.get(c % connectionCount), appendSender, "bench-" + name + "-" + c,
                    batch, data, warmupEnd, end, latencies, events, failures, finished);
            for (int slot = 0; slot < inFlight; slot++) {
                loop.next();
            }
        }
        if (!finished.await(measureNanos + warmupNanos + TimeUnit.SECONDS.toNanos(60), TimeUnit.NANOSECONDS)) {
            throw new IllegalStateException("appends of case " + name + " did not finish");
        }
        clients.forEach(RewindClient::close);
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " appends of case " + name + " failed");
        }
        return new Measured(events.get(), latencies.getIntervalHistogram(), serverCpu == null ? -1 : serverCpu.nanos(),
                clientCpu.nanos());
    }

    /** One client's appends to its stream: each completed append sends the next until the end. */
    private record AppendLoop(RewindClient client, AppendSender sender, String stream, int batch, byte[] data,
            long warmupEnd, long end,
            Recorder latencies, AtomicLong events, AtomicLong failures, CountDownLatch finished) {
        void next() {
            long sent = System.nanoTime();
            if (sent >= end) {
                finished.countDown();
                return;
            }
            List<EventData> appended = new ArrayList<>(batch);
            for (int i = 0; i < batch; i++) {
                appended.add(EventData.of("BenchEvent", data));
            }
            sender.send(client, stream, appended).whenComplete((r, e) -> {
                long done = System.nanoTime();
                if (e != null) {
                    // A failing slot stops: retrying at once could recurse without end.
                    System.err.println("[bench] append to " + stream + " failed: " + e);
                    failures.incrementAndGet();
                    finished.countDown();
                    return;
                }
                if (sent >= warmupEnd && done <= end) {
                    latencies.recordValue(done - sent);
                    events.addAndGet(batch);
                }
                next();
            });
        }
    }

    /** Redis Streams, fsync always, 16 clients x the in-flight window: before or after Rewind's cases; 0 if skipped. */
    private double redis(String when) throws Exception {
        if (redisRequests <= 0) {
            return 0;
        }
        java.util.Optional<RedisBaseline> redis = RedisBaseline.start(workDir.resolve("redis-" + when));
        if (redis.isEmpty()) {
            return 0;
        }
        try (RedisBaseline running = redis.get()) {
            progress("Redis Streams (%s): 16 clients x %d in flight, XADD of 100 bytes, appendfsync always", when,
                    inFlight);
            // A first, shorter run warms the server's file and the page cache, as the warm-up does for Rewind.
            running.xaddsPerSecond(16, inFlight, Math.max(1_000, redisRequests / 10));
            return record("redis_streams_xadd", Map.of("when", when, "clients", 16, "pipeline", inFlight,
                    "fsync", "always"), "per_s", running.xaddsPerSecond(16, inFlight, redisRequests));
        }
    }

    /**
     * The original protocol's PUBLISH: 4 DEALER sockets, each with the in-flight window of
     * {@code [empty][PUBLISH][100 bytes]}, answered {@code PUBLISHED} once stored.
     */
    private void legacyPublish(ServerProcess server, double syncedPuts) throws Exception {
        int clients = 4;
        progress("Legacy PUBLISH: %d clients x %d in flight, 100 bytes, fsync always", clients, inFlight);
        String endpoint = server.legacyQueryEndpoint();
        AtomicLong published = new AtomicLong();
        long warmupEnd = System.nanoTime() + 500_000_000L;
        long end = warmupEnd + duration().toNanos();
        List<Thread> threads = new ArrayList<>();
        AtomicLong failures = new AtomicLong();
        for (int c = 0; c < clients; c++) {
            Thread thread = new Thread(() -> {
                try (org.zeromq.ZContext context = new org.zeromq.ZContext(1)) {
                    org.zeromq.ZMQ.Socket dealer = context.createSocket(org.zeromq.SocketType.DEALER);
                    dealer.setReceiveTimeOut(30_000);
                    dealer.connect(endpoint);
                    byte[] data = new byte[100];
                    int outstanding = 0;
                    while (System.nanoTime() < end) {
                        while (outstanding < inFlight) {
                            dealer.sendMore(new byte[0]);
                            dealer.sendMore("PUBLISH");
                            dealer.send(data);
                            outstanding++;
                        }
                        byte[] empty = dealer.recv();
                        String reply = dealer.recvStr();
                        if (empty == null || !"PUBLISHED".equals(reply)) {
                            failures.incrementAndGet();
                            return;
                        }
                        outstanding--;
                        long now = System.nanoTime();
                        if (now >= warmupEnd && now <= end) {
                            published.incrementAndGet();
                        }
                    }
                    while (outstanding-- > 0) {
                        dealer.recv();
                        dealer.recvStr();
                    }
                }
            }, "bench-legacy-" + c);
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " legacy PUBLISH clients got no PUBLISHED");
        }
        double rate = published.get() / (duration().toNanos() / 1e9);
        Map<String, Object> result = result("legacy_publish", Map.of("clients", clients, "in_flight", inFlight,
                "fsync", "always", "event_bytes", 100));
        result.put("events_per_s", rate);
        result.put("vs_rocksdb_synced_put", rate / syncedPuts);
        result.put("target", 10.0);
        emit(result);
    }

    /**
     * Many connections: {@code --idle-connections} clients connected (each has made one request) while 100 others
     * append single events, durably; beside 16 clients' rate measured earlier in the run.
     */
    private void manyConnections(ServerProcess server, double sixteenClients) throws Exception {
        progress("Many connections: %d idle, 100 appending x %d in flight, fsync always", idleConnections, inFlight);
        List<RewindClient> idle = new ArrayList<>();
        try {
            List<CompletableFuture<?>> connected = new ArrayList<>();
            for (int i = 0; i < idleConnections; i++) {
                RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                        .requestTimeout(Duration.ofSeconds(60)).build();
                idle.add(client);
                connected.add(client.serverInfoAsync());
            }
            connected.forEach(CompletableFuture::join);
            int saved = connections;
            connections = 0;
            Measured measured = runAppends(List.of(server.commandEndpoint()), "many-connections", 100, 1, 100,
                    500_000_000L, duration().toNanos(), server);
            connections = saved;
            double rate = measured.events() / (duration().toNanos() / 1e9);
            Map<String, Object> result = result("many_connections", Map.of("idle", idleConnections, "appending", 100,
                    "in_flight", inFlight, "fsync", "always"));
            result.put("events_per_s", rate);
            result.put("p99_ms", measured.latency().getValueAtPercentile(99) / 1e6);
            result.put("vs_16_clients", rate / sixteenClients);
            result.put("target", 0.8);
            putCpu(result, measured);
            emit(result);
        } finally {
            idle.forEach(RewindClient::close);
        }
    }

    private void replay(ServerProcess server) throws Exception {
        progress("Replay: storing %,d events of 100 bytes in one stream", replayEvents);
        try (RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                .requestTimeout(Duration.ofSeconds(60)).build()) {
            long first = store(client, "replay", replayEvents, 100);
            awaitQuiet(server);

            // Five passes each: the first ones also compile the read path in both JVMs (a long-running
            // server and a client rebuilding a read model are warm); the median is reported, the first
            // beside it.
            double[] all = new double[REPLAY_PASSES];
            for (int pass = 0; pass < REPLAY_PASSES; pass++) {
                progress("Replay %d of %d: the global log from position %,d", pass + 1, REPLAY_PASSES, first);
                long start = System.nanoTime();
                long count = client.readAll(ReadOptions.forwards().from(first).maxCount(replayEvents)).count();
                all[pass] = checkedRate(count, start);
            }
            emit(replayResult("replay_global_log", all));
            double[] stream = new double[REPLAY_PASSES];
            for (int pass = 0; pass < REPLAY_PASSES; pass++) {
                progress("Replay %d of %d: one stream of %,d events", pass + 1, REPLAY_PASSES, replayEvents);
                long start = System.nanoTime();
                stream[pass] = checkedRate(client.readStream("replay").count(), start);
            }
            emit(replayResult("replay_stream", stream));
        }
    }

    private static final int REPLAY_PASSES = 5;

    /**
     * Appends {@code events} events of {@code eventBytes} bytes to the stream, 100 per append, 32 appends in
     * flight; returns the global position of the first.
     */
    static long store(RewindClient client, String stream, int events, int eventBytes) {
        long first = client.serverInfo().headPosition() + 1;
        byte[] data = new byte[eventBytes];
        List<CompletableFuture<AppendResult>> window = new ArrayList<>();
        for (int written = 0; written < events; written += 100) {
            List<EventData> batch = new ArrayList<>(100);
            for (int i = 0; i < Math.min(100, events - written); i++) {
                batch.add(EventData.of("Replay", data));
            }
            window.add(client.appendAsync(stream, ExpectedVersion.any(), batch));
            if (window.size() == 32) {
                window.forEach(CompletableFuture::join);
                window.clear();
            }
            if (written % 200_000 == 0 && written > 0) {
                progress("  %,d stored", written);
            }
        }
        window.forEach(CompletableFuture::join);
        return first;
    }

    /**
     * Waits until the server has finished flushing and compacting what was just stored (its CPU use
     * stays under 5% for a second), or a minute: a read model is rebuilt from history that was
     * written earlier, not from a store still busy with its last million events.
     */
    static void awaitQuiet(ServerProcess server) throws InterruptedException {
        if (server.cpuTime().isEmpty()) {
            progress("Replay: the server's CPU time is unknown here; not waiting for RocksDB to settle");
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        long before = server.cpuTime().get().toNanos();
        while (System.nanoTime() < deadline) {
            Thread.sleep(1_000);
            long now = server.cpuTime().orElseThrow().toNanos();
            if (now - before < TimeUnit.MILLISECONDS.toNanos(50)) {
                return;
            }
            progress("  waiting for the server to settle: %.0f%% CPU in the last second", (now - before) / 1e7);
            before = now;
        }
        progress("Replay: the server is still busy after a minute; replaying anyway");
    }

    private double checkedRate(long count, long startNanos) {
        if (count != replayEvents) {
            throw new IllegalStateException("replayed " + count + " events, expected " + replayEvents);
        }
        return count / Ceilings.seconds(startNanos);
    }

    private Map<String, Object> replayResult(String name, double[] passes) {
        double[] sorted = passes.clone();
        Arrays.sort(sorted);
        Map<String, Object> result = result(name, Map.of("events", replayEvents, "passes", passes.length));
        result.put("events_per_s", sorted[passes.length / 2]);
        result.put("first_pass_events_per_s", passes[0]);
        result.put("pass_events_per_s", Arrays.stream(passes).mapToObj(p -> String.format(Locale.ROOT, "%.0f", p))
                .collect(Collectors.joining(" ")));
        return result;
    }

    /** Marks an event whose listener ran before its ack came. */
    private static final Long LISTENED = Long.MIN_VALUE;
    private static final int FEED_WARMUP_SECONDS = 2;

    private void feedLatency(ServerProcess server, String fsync) throws Exception {
        progress("Live feed: %,d events/s for %d s after %d s of warm-up, append sent to listener", feedRate,
                feedSeconds, FEED_WARMUP_SECONDS);
        Recorder sentToListener = new Recorder(TimeUnit.SECONDS.toNanos(60), 3);
        Recorder ackToListener = new Recorder(TimeUnit.SECONDS.toNanos(60), 3);
        Map<Long, Long> acks = new java.util.concurrent.ConcurrentHashMap<>();
        AtomicLong received = new AtomicLong();
        try (RewindClient writer = RewindClient.builder().commandEndpoint(server.commandEndpoint()).build();
                RewindClient reader = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                        .streamEndpoint(server.streamEndpoint()).build();
                Subscription subscription = reader.subscribe(SubscriptionTarget.stream("feed"), StartFrom.end(),
                        (s, event) -> {
                            long now = System.nanoTime();
                            sentToListener.recordValue(Math.max(0, now - ByteBuffer.wrap(event.data()).getLong()));
                            // The feed publishes before the reply is sent, so the listener often wins the race:
                            // then it leaves a mark for the ack to clear, and counts 0.
                            Long ack = acks.putIfAbsent(event.streamVersion(), LISTENED);
                            if (ack != null) {
                                acks.remove(event.streamVersion());
                            }
                            ackToListener.recordValue(ack == null ? 0 : Math.max(0, now - ack));
                            received.incrementAndGet();
                        })) {
            Thread.sleep(1_000);
            // Paced in ticks of a millisecond (10 appends per tick at 10,000/s): waking the writer for
            // every single append cost so much CPU on two shared cores that it delayed the listener.
            int perTick = Math.max(1, feedRate / 1_000);
            long interval = perTick * 1_000_000_000L / feedRate;
            long next = System.nanoTime();
            // The first seconds compile the feed's path in both JVMs: they run at the rate, unrecorded.
            long measureFrom = next + TimeUnit.SECONDS.toNanos(FEED_WARMUP_SECONDS);
            long end = measureFrom + TimeUnit.SECONDS.toNanos(feedSeconds);
            boolean measuring = false;
            long sent = 0;
            long warmupSent = 0;
            while (next < end) {
                if (!measuring && next >= measureFrom) {
                    sentToListener.reset();
                    ackToListener.reset();
                    measuring = true;
                    warmupSent = sent;
                }
                LockSupport.parkNanos(next - System.nanoTime());
                for (int i = 0; i < perTick; i++) {
                    byte[] data = ByteBuffer.allocate(100).putLong(System.nanoTime()).array();
                    writer.appendAsync("feed", ExpectedVersion.any(), List.of(EventData.of("Tick", data)))
                            .thenAccept(r -> {
                                if (acks.putIfAbsent(r.nextExpectedVersion(), System.nanoTime()) != null) {
                                    acks.remove(r.nextExpectedVersion());
                                }
                            });
                    sent++;
                }
                next += interval;
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (received.get() < sent && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            Histogram latency = sentToListener.getIntervalHistogram();
            Histogram afterAck = ackToListener.getIntervalHistogram();
            Map<String, Object> result = result("live_feed", Map.of("events_per_s", feedRate, "fsync", fsync));
            result.put("events_measured", sent - warmupSent);
            result.put("events_sent", sent);
            result.put("events_received", received.get());
            result.put("sent_to_listener_p50_ms", latency.getValueAtPercentile(50) / 1e6);
            result.put("sent_to_listener_p99_ms", latency.getValueAtPercentile(99) / 1e6);
            result.put("ack_to_listener_p50_ms", afterAck.getValueAtPercentile(50) / 1e6);
            result.put("ack_to_listener_p99_ms", afterAck.getValueAtPercentile(99) / 1e6);
            emit(result);
        }
    }

    double record(String name, Map<String, Object> params, String unit, double value) {
        Map<String, Object> result = result(name, params);
        result.put(unit, value);
        emit(result);
        return value;
    }

    static Map<String, Object> result(String name, Map<String, Object> params) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("name", name);
        result.putAll(params);
        return result;
    }

    void emit(Map<String, Object> result) {
        results.add(result);
        System.out.println("RESULT " + json(result));
    }

    private static String json(Map<String, Object> map) {
        StringBuilder out = new StringBuilder("{");
        for (Map.Entry<String, Object> entry : map.entrySet()) {
            if (out.length() > 1) {
                out.append(", ");
            }
            out.append('"').append(entry.getKey()).append("\": ");
            Object value = entry.getValue();
            if (value instanceof Double d) {
                out.append(String.format(Locale.ROOT, "%.3f", d));
            } else if (value instanceof Number) {
                out.append(value);
            } else {
                out.append('"').append(value).append('"');
            }
        }
        return out.append('}').toString();
    }

    private void printTable(double fsyncs, double syncedPuts, double syncedBatches, double roundTrips,
            double pipelined) {
        System.out.println();
        System.out.printf(Locale.ROOT, "Rewind benchmark, %s, %d cores%n", LocalDate.now(),
                Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "Ceilings: fsync %,.0f/s | RocksDB synced put %,.0f/s | synced 100-put batch"
                + " %,.0f/s (%,.0f events/s) | ZeroMQ round trips %,.0f/s, pipelined %,.0f/s%n", fsyncs, syncedPuts,
                syncedBatches, syncedBatches * 100, roundTrips, pipelined);
        System.out.println();
        System.out.printf("%-7s %7s %6s %6s %14s %9s %9s %9s %13s %13s %10s %11s %11s%n", "fsync", "clients",
                "batch", "bytes", "events/s", "p50 ms", "p99 ms", "p99.9 ms", "per fsync", "per sync put", "vs zmq rt",
                "server us", "client us");
        for (Map<String, Object> r : results) {
            if (r.get("name").equals("append")) {
                System.out.printf(Locale.ROOT, "%-7s %7d %6d %6d %,14.0f %9.2f %9.2f %9.2f %13s %13s %9.2fx %11s %11s%n",
                        r.get("fsync"), r.get("clients"), r.get("batch"), r.get("event_bytes"), r.get("events_per_s"),
                        r.get("p50_ms"), r.get("p99_ms"), r.get("p999_ms"), ratio(r, "appends_per_fsync_ceiling"),
                        ratio(r, "appends_per_rocksdb_synced_put"), r.get("vs_zeromq_pipelined_round_trips"),
                        micros(r, "server_cpu_us_per_event"), micros(r, "client_cpu_us_per_event"));
            }
        }
        System.out.println();
        for (Map<String, Object> r : results) {
            String name = r.get("name").toString();
            if (name.startsWith("replay") || name.equals("live_feed") || name.startsWith("target_")
                    || name.startsWith("redis_") || name.equals("legacy_publish") || name.equals("many_connections")
                    || name.equals("ceiling_rocksdb_scan")) {
                System.out.println(r.get("name") + ": " + json(r));
            }
        }
    }

    private static String micros(Map<String, Object> result, String key) {
        return result.containsKey(key) ? String.format(Locale.ROOT, "%.1f", (double) result.get(key)) : "-";
    }

    private static String ratio(Map<String, Object> result, String key) {
        return result.containsKey(key) ? String.format(Locale.ROOT, "%.1fx", (double) result.get(key)) : "-";
    }

    static void progress(String format, Object... args) {
        System.err.printf(Locale.ROOT, "[bench] " + format + "%n", args);
    }

    private static void deleteRecursively(Path path) throws java.io.IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (var walk = Files.walk(path)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
