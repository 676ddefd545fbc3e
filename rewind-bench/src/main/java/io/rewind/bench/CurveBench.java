package io.rewind.bench;

import io.rewind.client.ReadOptions;
import io.rewind.client.RewindClient;
import io.rewind.testkit.ServerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import com.neilalexander.jnacl.crypto.curve25519xsalsa20poly1305;
import org.zeromq.ZCert;

/**
 * What CurveZMQ costs: appends (16 clients x 16 in flight) and a replay of the global log through a
 * server with CURVE on, beside the same server in plain text, both running in the same run and
 * measured in turns (plain, CURVE, plain, CURVE), so that the noise of a shared machine falls on both.
 */
final class CurveBench {
    private static final int CLIENTS = 16;
    private static final int EVENT_BYTES = 100;
    private static final int ROUNDS = 2;
    private static final int REPLAY_PASSES = 3;

    private final Benchmark bench;

    CurveBench(Benchmark bench) {
        this.bench = bench;
    }

    void run() throws Exception {
        Path work = bench.workDir;
        Path keys = work.resolve("keys");
        Files.createDirectories(keys);
        ZCert server = new ZCert();
        ZCert client = new ZCert();
        Path serverSecret = keys.resolve("server_secret");
        try (var writer = Files.newBufferedWriter(serverSecret)) {
            server.saveSecret(writer);
        }
        Path authorized = keys.resolve("authorized_keys");
        Files.writeString(authorized, "bench " + client.getPublicKeyAsZ85() + " read=* write=* admin\n");
        UnaryOperator<RewindClient.Builder> plainClient = UnaryOperator.identity();
        UnaryOperator<RewindClient.Builder> curveClient = builder -> builder
                .curveServerKey(server.getPublicKeyAsZ85())
                .curveKeyPair(client.getPublicKeyAsZ85(), client.getSecretKeyAsZ85());
        List<String> lines = new ArrayList<>();
        // What CURVE costs per message in this JVM: JeroMQ encrypts and authenticates each message with
        // jnacl's XSalsa20-Poly1305, on both sides.
        for (int size : new int[] {150, 4 << 20}) {
            double perSecond = cipherRate(size);
            Map<String, Object> cipher = Benchmark.result("ceiling_curve_cipher", Map.of("message_bytes", size));
            cipher.put("messages_per_s", perSecond);
            cipher.put("mib_per_s", perSecond * size / (1 << 20));
            bench.emit(cipher);
            lines.add(String.format(Locale.ROOT, "JeroMQ's CURVE cipher (jnacl XSalsa20-Poly1305), one thread, %,d B"
                    + " messages: %,.0f/s, %.0f MiB/s", size, perSecond, perSecond * size / (1 << 20)));
        }
        for (String fsync : List.of("never", "always")) {
            try (ServerProcess plain = ServerProcess.start("bench-plain-" + fsync, work.resolve("plain-" + fsync),
                    "rocksdb", "--fsync", fsync);
                    ServerProcess curve = ServerProcess.start("bench-curve-" + fsync, work.resolve("curve-" + fsync),
                            "rocksdb", "--fsync", fsync, "--curve-secret-key-file", serverSecret.toString(),
                            "--authorized-keys", authorized.toString())) {
                Benchmark.progress("fsync %s: warming up both servers", fsync);
                appends(plain, plainClient, "warmup-plain-" + fsync, 2_500_000_000L);
                appends(curve, curveClient, "warmup-curve-" + fsync, 2_500_000_000L);
                double plainSum = 0;
                double curveSum = 0;
                for (int round = 0; round < ROUNDS; round++) {
                    Benchmark.progress("fsync %s, round %d of %d: %d clients x %d in flight, 1 event of %d bytes",
                            fsync, round + 1, ROUNDS, CLIENTS, bench.inFlight, EVENT_BYTES);
                    plainSum += appends(plain, plainClient, "plain-" + fsync + "-" + round, bench.duration().toNanos());
                    curveSum += appends(curve, curveClient, "curve-" + fsync + "-" + round, bench.duration().toNanos());
                }
                Map<String, Object> result = Benchmark.result("curve_append", params(fsync));
                result.put("plain_events_per_s", plainSum / ROUNDS);
                result.put("curve_events_per_s", curveSum / ROUNDS);
                result.put("ratio", curveSum / plainSum);
                bench.emit(result);
                lines.add(String.format(Locale.ROOT, "Appends, fsync %s, %d clients x %d in flight, %d B: plain %,.0f/s,"
                        + " CURVE %,.0f/s (%.2fx)", fsync, CLIENTS, bench.inFlight, EVENT_BYTES, plainSum / ROUNDS,
                        curveSum / ROUNDS, curveSum / plainSum));
                if (fsync.equals("never") && bench.replayEvents > 0) {
                    lines.add(replay(plain, plainClient, curve, curveClient));
                }
            }
        }
        System.out.println();
        lines.forEach(System.out::println);
    }

    /** Messages of this size that jnacl's crypto_box_afternm (what JeroMQ calls per message) seals per second. */
    private double cipherRate(int size) {
        byte[] publicKey = new byte[32];
        byte[] secretKey = new byte[32];
        byte[] shared = new byte[32];
        curve25519xsalsa20poly1305.crypto_box_keypair(publicKey, secretKey);
        curve25519xsalsa20poly1305.crypto_box_beforenm(shared, publicKey, secretKey);
        byte[] message = new byte[size + 32];
        byte[] sealed = new byte[size + 32];
        byte[] nonce = new byte[24];
        long end = System.nanoTime() + 500_000_000L + bench.duration().toNanos();
        long measuredFrom = System.nanoTime() + 500_000_000L;
        long count = 0;
        long start = 0;
        while (System.nanoTime() < end) {
            curve25519xsalsa20poly1305.crypto_box_afternm(sealed, message, message.length, nonce, shared);
            nonce[0]++;
            if (start == 0 && System.nanoTime() >= measuredFrom) {
                start = System.nanoTime();
                count = 0;
            }
            count++;
        }
        return count / ((System.nanoTime() - start) / 1e9);
    }

    private Map<String, Object> params(String fsync) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("fsync", fsync);
        params.put("clients", CLIENTS);
        params.put("in_flight", bench.inFlight);
        params.put("event_bytes", EVENT_BYTES);
        return params;
    }

    private double appends(ServerProcess server, UnaryOperator<RewindClient.Builder> options, String name,
            long measureNanos) throws Exception {
        UnaryOperator<RewindClient.Builder> saved = bench.clientOptions;
        bench.clientOptions = options;
        try {
            Benchmark.Measured measured = bench.runAppends(List.of(server.commandEndpoint()), name, CLIENTS, 1,
                    EVENT_BYTES, 500_000_000L, measureNanos);
            return measured.events() / (measureNanos / 1e9);
        } finally {
            bench.clientOptions = saved;
        }
    }

    /** Stores the same events in both servers, then reads the global log back from each in turns. */
    private String replay(ServerProcess plain, UnaryOperator<RewindClient.Builder> plainOptions, ServerProcess curve,
            UnaryOperator<RewindClient.Builder> curveOptions) throws Exception {
        int events = bench.replayEvents;
        try (RewindClient plainClient = client(plain, plainOptions);
                RewindClient curveClient = client(curve, curveOptions)) {
            Benchmark.progress("Replay: storing %,d events of %d bytes in each server", events, EVENT_BYTES);
            long plainFirst = Benchmark.store(plainClient, "replay", events, EVENT_BYTES);
            long curveFirst = Benchmark.store(curveClient, "replay", events, EVENT_BYTES);
            Benchmark.awaitQuiet(plain);
            Benchmark.awaitQuiet(curve);
            double[] plainRates = new double[REPLAY_PASSES];
            double[] curveRates = new double[REPLAY_PASSES];
            for (int pass = 0; pass < REPLAY_PASSES; pass++) {
                Benchmark.progress("Replay %d of %d: %,d events of the global log, plain then CURVE", pass + 1,
                        REPLAY_PASSES, events);
                plainRates[pass] = read(plainClient, plainFirst, events);
                curveRates[pass] = read(curveClient, curveFirst, events);
            }
            Arrays.sort(plainRates);
            Arrays.sort(curveRates);
            double plainRate = plainRates[REPLAY_PASSES / 2];
            double curveRate = curveRates[REPLAY_PASSES / 2];
            Map<String, Object> result = Benchmark.result("curve_replay_global_log",
                    Map.of("events", events, "passes", REPLAY_PASSES));
            result.put("plain_events_per_s", plainRate);
            result.put("curve_events_per_s", curveRate);
            result.put("ratio", curveRate / plainRate);
            bench.emit(result);
            return String.format(Locale.ROOT, "Replay of %,d events of %d B (median of %d): plain %,.0f/s, CURVE %,.0f/s"
                    + " (%.2fx)", events, EVENT_BYTES, REPLAY_PASSES, plainRate, curveRate, curveRate / plainRate);
        }
    }

    private static RewindClient client(ServerProcess server, UnaryOperator<RewindClient.Builder> options) {
        return options.apply(RewindClient.builder().commandEndpoint(server.commandEndpoint())
                .requestTimeout(Duration.ofSeconds(60))).build();
    }

    private static double read(RewindClient client, long first, int events) {
        long start = System.nanoTime();
        long count = client.readAll(ReadOptions.forwards().from(first).maxCount(events)).count();
        if (count != events) {
            throw new IllegalStateException("replayed " + count + " events, expected " + events);
        }
        return count / Ceilings.seconds(start);
    }
}
