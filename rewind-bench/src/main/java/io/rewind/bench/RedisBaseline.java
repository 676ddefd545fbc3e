package io.rewind.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Redis Streams with an fsync on every write, the durable log a team would otherwise pick, measured on this
 * machine in the same run: Debian's {@code redis-server} on a free loopback port in a directory of its own, with
 * {@code appendonly yes} and {@code appendfsync always}, driven by {@code redis-benchmark} with Rewind's shape
 * (clients, each with appends in flight, one 100-byte entry per {@code XADD}, each client on a stream of its
 * own). Started and stopped by the benchmark; without Redis installed it says so and the run goes on.
 */
final class RedisBaseline implements AutoCloseable {
    private static final Pattern RATE = Pattern.compile("([0-9.]+) requests per second");

    private final Process server;
    private final int port;
    private final Path dir;

    private RedisBaseline(Process server, int port, Path dir) {
        this.server = server;
        this.port = port;
        this.dir = dir;
    }

    /** Starts Redis in {@code dir}, or returns empty (saying why) when redis-server or redis-benchmark is missing. */
    static Optional<RedisBaseline> start(Path directory) throws IOException, InterruptedException {
        Path dir = directory;
        Optional<Path> redis = executable("redis-server");
        Optional<Path> benchmark = executable("redis-benchmark");
        if (redis.isEmpty() || benchmark.isEmpty()) {
            Benchmark.progress("Redis baseline skipped: redis-server or redis-benchmark is not installed"
                    + " (Debian: apt-get install redis-server)");
            return Optional.empty();
        }
        dir = Files.createDirectories(dir).toAbsolutePath();
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        Process process = new ProcessBuilder(redis.get().toString(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--dir", dir.toString(), "--appendonly", "yes", "--appendfsync", "always",
                "--save", "", "--daemonize", "no", "--protected-mode", "yes", "--logfile", dir.resolve("redis.log")
                .toString()).redirectErrorStream(true).redirectOutput(dir.resolve("redis.out").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return Optional.of(new RedisBaseline(process, port, dir));
            } catch (IOException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    process.destroyForcibly();
                    throw new IOException("redis-server did not start on port " + port + "; see "
                            + dir.resolve("redis.log"), e);
                }
                Thread.sleep(50);
            }
        }
    }

    /**
     * XADDs per second of {@code clients} connections with {@code pipeline} commands in flight each, one 100-byte
     * field per entry, {@code requests} in all: what redis-benchmark prints.
     */
    double xaddsPerSecond(int clients, int pipeline, int requests) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("redis-benchmark", "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-c", Integer.toString(clients), "-P", Integer.toString(pipeline), "-n",
                Integer.toString(requests), "-r", Integer.toString(clients), "-q", "--csv"));
        command.addAll(List.of("XADD", "bench-__rand_int__", "*", "data", "x".repeat(100)));
        Process run = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (run.waitFor() != 0) {
            throw new IOException("redis-benchmark failed: " + output);
        }
        OptionalDouble rate = parse(output);
        if (rate.isEmpty()) {
            throw new IOException("redis-benchmark printed no rate: " + output);
        }
        return rate.getAsDouble();
    }

    /** The rate from redis-benchmark's CSV ("test","rps",...) or its quiet line ("...: N requests per second"). */
    static OptionalDouble parse(String output) {
        Matcher quiet = RATE.matcher(output);
        if (quiet.find()) {
            return OptionalDouble.of(Double.parseDouble(quiet.group(1)));
        }
        for (String line : output.split("\n")) {
            String[] cells = line.replace("\"", "").split(",");
            if (cells.length >= 2 && !cells[1].equals("rps")) {
                try {
                    return OptionalDouble.of(Double.parseDouble(cells[1]));
                } catch (NumberFormatException e) {
                    // Not the data line.
                }
            }
        }
        return OptionalDouble.empty();
    }

    private static Optional<Path> executable(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    @Override
    public void close() throws InterruptedException {
        server.destroy();
        if (!server.waitFor(10, TimeUnit.SECONDS)) {
            server.destroyForcibly().waitFor();
        }
    }
}
