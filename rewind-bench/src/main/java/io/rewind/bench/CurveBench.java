package io.rewind.bench;

import io.rewind.client.ReadOptions;
import io.rewind.client.RewindClient;
import io.rewind.testkit.ServerProcess;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.URL;
import java.net.URLClassLoader;
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
        // XSalsa20-Poly1305 on both sides. rewind-nacl's cipher (what runs) beside jnacl's (what JeroMQ brings).
        Map<String, Sealer> ciphers = new LinkedHashMap<>();
        ciphers.put("rewind-nacl", curve25519xsalsa20poly1305::crypto_box_afternm);
        Sealer jnacl = jnacl();
        if (jnacl != null) {
            ciphers.put("jnacl", jnacl);
        }
        for (int size : new int[] {150, 4 << 20}) {
            Map<String, Double> rates = new LinkedHashMap<>();
            for (Map.Entry<String, Sealer> cipher : ciphers.entrySet()) {
                double perSecond = cipherRate(cipher.getValue(), size);
                rates.put(cipher.getKey(), perSecond);
                Map<String, Object> result = Benchmark.result("ceiling_curve_cipher",
                        Map.of("message_bytes", size, "cipher", cipher.getKey()));
                result.put("messages_per_s", perSecond);
                result.put("mib_per_s", perSecond * size / (1 << 20));
                bench.emit(result);
            }
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                    "CURVE cipher (XSalsa20-Poly1305), one thread, %,d B messages:", size));
            rates.forEach((name, perSecond) -> line.append(String.format(Locale.ROOT, " %s %,.0f/s (%.0f MiB/s);",
                    name, perSecond, perSecond * size / (1 << 20))));
            if (rates.containsKey("jnacl")) {
                line.append(String.format(Locale.ROOT, " %.1fx", rates.get("rewind-nacl") / rates.get("jnacl")));
            }
            lines.add(line.toString());
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

    /** {@code crypto_box_afternm}: what JeroMQ calls to seal each message. */
    @FunctionalInterface
    private interface Sealer {
        int seal(byte[] box, byte[] message, long length, byte[] nonce, byte[] key) throws Throwable;
    }

    /**
     * jnacl's sealer, from the jar the build copies aside (it has the same class names as rewind-nacl, so it needs a
     * class loader of its own); null, saying so, when it is not there.
     */
    private static Sealer jnacl() throws Exception {
        Path jar = Path.of(System.getProperty("jnacl.jar", "rewind-bench/target/jnacl/jnacl.jar"));
        if (!Files.exists(jar)) {
            Benchmark.progress("jnacl's jar is not at %s: its cipher is not measured", jar);
            return null;
        }
        ClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
        MethodHandle afternm = MethodHandles.publicLookup().findStatic(
                Class.forName("com.neilalexander.jnacl.crypto.curve25519xsalsa20poly1305", true, loader),
                "crypto_box_afternm", MethodType.methodType(int.class, byte[].class, byte[].class, long.class,
                        byte[].class, byte[].class));
        return (box, message, length, nonce, key) -> (int) afternm.invokeExact(box, message, length, nonce, key);
    }

    /** Messages of this size that {@code sealer} seals per second, in one thread. */
    private double cipherRate(Sealer sealer, int size) throws Exception {
        byte[] shared = new byte[32];
        new java.util.Random(1).nextBytes(shared);
        byte[] message = new byte[size + 32];
        byte[] sealed = new byte[size + 32];
        byte[] nonce = new byte[24];
        long end = System.nanoTime() + 500_000_000L + bench.duration().toNanos();
        long measuredFrom = System.nanoTime() + 500_000_000L;
        long count = 0;
        long start = 0;
        try {
            while (System.nanoTime() < end) {
                sealer.seal(sealed, message, message.length, nonce, shared);
                nonce[0]++;
                if (start == 0 && System.nanoTime() >= measuredFrom) {
                    start = System.nanoTime();
                    count = 0;
                }
                count++;
            }
        } catch (Throwable e) {
            throw new IllegalStateException("the cipher failed", e);
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
