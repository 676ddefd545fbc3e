package io.rewind.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real server jar, run as a separate OS process on free ports with its own data directory: for
 * tests that kill, restart or starve the server. Its output goes to {@code target/it-logs/NAME.log}
 * and is kept in memory for assertions. The jar is found at the system property
 * {@code rewind.server.jar} (default {@code ../rewind-server/target/rewind-server.jar}).
 */
public final class ServerProcess implements ServerUnderTest {
    private static final Pattern READY = Pattern.compile("ready: commands on (\\S+), live feed on (\\S+),");
    private static final Pattern LEGACY = Pattern.compile("legacy query on (\\S+), legacy stream on (\\S+) ");
    private static final Path JAR = Path.of(System.getProperty("rewind.server.jar",
            "../rewind-server/target/rewind-server.jar"));
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(60);

    private final String name;
    private final Path dataDir;
    private final String storage;
    private final List<String> extraArgs;
    private final List<String> jvmOptions;
    private final List<String> output = Collections.synchronizedList(new ArrayList<>());
    private Process process;
    private Thread pump;
    private String commandEndpoint = "tcp://127.0.0.1:*";
    private String streamEndpoint = "tcp://127.0.0.1:*";
    private String legacyQueryEndpoint;
    private String legacyStreamEndpoint;

    private ServerProcess(String name, Path dataDir, String storage, List<String> jvmOptions, List<String> extraArgs) {
        this.name = name;
        this.dataDir = dataDir;
        this.storage = storage;
        this.jvmOptions = List.copyOf(jvmOptions);
        this.extraArgs = List.copyOf(extraArgs);
    }

    /** Starts a server and waits until it logs that it is ready. */
    public static ServerProcess start(String name, Path dataDir, String storage, String... extraArgs) {
        return start(name, dataDir, storage, List.of(), extraArgs);
    }

    /** Starts a server in a JVM with these options (e.g. -Xmx128m), and waits until it logs that it is ready. */
    public static ServerProcess start(String name, Path dataDir, String storage, List<String> jvmOptions,
            String... extraArgs) {
        ServerProcess server = new ServerProcess(name, dataDir, storage, jvmOptions, List.of(extraArgs));
        server.launch();
        return server;
    }

    /** The command line that starts the jar with these arguments. */
    public static List<String> command(List<String> args) {
        return command(List.of(), args);
    }

    /** The command line that starts the jar with these JVM options (the last -Xmx wins) and arguments. */
    public static List<String> command(List<String> jvmOptions, List<String> args) {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException("server jar not found at " + JAR.toAbsolutePath()
                    + "; build it first with mvn package");
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx1g");
        // Extra server JVM options, e.g. a profiler: -Drewind.server.javaOptions="-XX:StartFlightRecording=..."
        String javaOptions = System.getProperty("rewind.server.javaOptions", "").trim();
        if (!javaOptions.isEmpty()) {
            command.addAll(List.of(javaOptions.split("\\s+")));
        }
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(JAR.toAbsolutePath().toString());
        command.addAll(args);
        return command;
    }

    private void launch() {
        List<String> args = new ArrayList<>(List.of("--data-dir", dataDir.toString(), "--storage", storage));
        // Free ports unless the test names its own (a member of a replicated group has a fixed endpoint).
        if (!extraArgs.contains("--command-endpoint")) {
            args.addAll(List.of("--command-endpoint", commandEndpoint));
        }
        if (!extraArgs.contains("--stream-endpoint")) {
            args.addAll(List.of("--stream-endpoint", streamEndpoint));
        }
        if (!extraArgs.contains("--min-free-space")) {
            // Tests need little disk; the default reserve of 512 MiB would fail them on a nearly full one.
            args.addAll(List.of("--min-free-space", "16MiB"));
        }
        args.addAll(extraArgs);
        output.clear();
        CompletableFuture<String[]> ready = new CompletableFuture<>();
        try {
            Path logs = Path.of("target", "it-logs");
            Files.createDirectories(logs);
            process = new ProcessBuilder(command(jvmOptions, args)).redirectErrorStream(true).start();
            PrintWriter log = new PrintWriter(Files.newBufferedWriter(logs.resolve(name + ".log"),
                    StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND), true);
            Process started = process;
            pump = new Thread(() -> pump(started, log, ready), "server-output " + name);
            pump.setDaemon(true);
            pump.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the server process " + name, e);
        }
        try {
            String[] endpoints = ready.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            commandEndpoint = endpoints[0];
            streamEndpoint = endpoints[1];
            if (endpoints.length == 4) {
                legacyQueryEndpoint = endpoints[2];
                legacyStreamEndpoint = endpoints[3];
            }
        } catch (TimeoutException e) {
            process.destroyForcibly();
            throw new IllegalStateException("server " + name + " not ready within " + START_TIMEOUT + ":\n"
                    + outputText());
        } catch (Exception e) {
            throw new IllegalStateException("server " + name + " did not start: " + e.getMessage() + "\n"
                    + outputText(), e);
        }
    }

    private void pump(Process started, PrintWriter log, CompletableFuture<String[]> ready) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(started.getInputStream(),
                StandardCharsets.UTF_8)); log) {
            String line;
            while ((line = reader.readLine()) != null) {
                synchronized (output) {
                    output.add(line);
                    output.notifyAll();
                }
                log.println(line);
                Matcher matcher = READY.matcher(line);
                if (matcher.find()) {
                    Matcher legacy = LEGACY.matcher(line);
                    ready.complete(legacy.find()
                            ? new String[] {matcher.group(1), matcher.group(2), legacy.group(1), legacy.group(2)}
                            : new String[] {matcher.group(1), matcher.group(2)});
                }
            }
        } catch (IOException e) {
            ready.completeExceptionally(e);
        }
        ready.completeExceptionally(new IllegalStateException(started.isAlive()
                ? "its output ended before it was ready" : "the process exited with status " + started.exitValue()
                        + " before it was ready"));
    }

    @Override
    public String commandEndpoint() {
        return commandEndpoint;
    }

    @Override
    public String streamEndpoint() {
        return streamEndpoint;
    }

    /** The legacy query endpoint, or null when the server runs without it. */
    public String legacyQueryEndpoint() {
        return legacyQueryEndpoint;
    }

    /** The legacy stream endpoint, or null when the server runs without it. */
    public String legacyStreamEndpoint() {
        return legacyStreamEndpoint;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Process process() {
        return process;
    }

    /** Everything the server printed since it was last started. */
    public String outputText() {
        synchronized (output) {
            return String.join("\n", output);
        }
    }

    /**
     * Waits until the server has printed a line containing the text: its output is read on another
     * thread, so a line logged before a reply may arrive after it.
     */
    public void awaitOutput(String text, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (output) {
            while (output.stream().noneMatch(line -> line.contains(text))) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("server " + name + " did not print '" + text + "' within "
                            + timeout + ":\n" + String.join("\n", output));
                }
                try {
                    output.wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /** CPU time the server process has used so far, where the OS tells it. */
    public java.util.Optional<Duration> cpuTime() {
        return process.toHandle().info().totalCpuDuration();
    }

    /**
     * Waits for the process to end by itself and returns its exit status; one still running after the
     * timeout is killed, and the wait fails with its output.
     */
    public int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor();
                throw new IllegalStateException("server " + name + " did not exit within " + timeout + ":\n"
                        + outputText());
            }
            // Everything the process printed has been read once the pump sees the end of its output.
            pump.join(10_000);
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Sends SIGTERM and waits for the exit status. */
    public int stop() {
        // Process.destroy() would also close our end of its output; the handle only signals.
        process.toHandle().destroy();
        return awaitExit(EXIT_TIMEOUT);
    }

    /** Sends SIGSTOP: the process stops running (its sockets stay open) until {@link #resume()}. */
    public void pause() {
        signal("STOP");
    }

    /** Sends SIGCONT to a process {@link #pause() paused}. */
    public void resume() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            if (kill.waitFor() != 0) {
                throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot signal server " + this.name, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Sends SIGKILL and waits for the process to die. */
    public void kill() {
        process.toHandle().destroyForcibly();
        awaitExit(EXIT_TIMEOUT);
    }

    /** Starts the server again on the same data directory and the same ports. */
    public void restart() {
        if (process.isAlive()) {
            throw new IllegalStateException("server " + name + " is still running");
        }
        launch();
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            kill();
        }
    }
}
