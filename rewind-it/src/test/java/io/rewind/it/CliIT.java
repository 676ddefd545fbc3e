package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.rewind.testkit.ServerProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code rewind} tool, run as a process against a real server; its output parsed. */
class CliIT {
    private static final Path JAR = Path.of(System.getProperty("rewind.cli.jar", "../rewind-cli/target/rewind.jar"));

    @TempDir
    static Path tmp;
    static ServerProcess server;

    @BeforeAll
    static void startServer() {
        server = ServerProcess.start("cli", tmp.resolve("data"), "rocksdb");
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    /** What a run of the tool printed and how it ended. */
    record Run(int status, String out, String err) {
        List<String> lines() {
            return out.isEmpty() ? List.of() : List.of(out.split("\n"));
        }
    }

    private static Process start(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", JAR.toAbsolutePath().toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).start();
    }

    private static Run run(String stdin, String... args) throws Exception {
        Process process = start(args);
        try (var in = process.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
        String out = read(process.getInputStream());
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("rewind %s ends", List.of(args)).isTrue();
        return new Run(process.exitValue(), out, err.get());
    }

    private static String read(java.io.InputStream stream) {
        try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String[] at(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--endpoint", server.commandEndpoint()));
        return all.toArray(new String[0]);
    }

    private static Map<String, String> json(String line) throws IOException {
        Map<String, String> fields = new HashMap<>();
        try (JsonParser parser = new JsonFactory().createParser(line)) {
            assertThat(parser.nextToken()).isEqualTo(JsonToken.START_OBJECT);
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                parser.nextToken();
                fields.put(name, parser.getValueAsString());
            }
        }
        return fields;
    }

    @Test
    void streamLifecycleCommands() throws Exception {
        assertThat(run("a\nb\n", at("append", "cli-life", "--batch", "2")).status()).isZero();
        Run truncated = run("", at("stream", "truncate", "cli-life", "--before", "1"));
        assertThat(truncated.status()).as(truncated.err()).isZero();
        assertThat(truncated.out()).contains("cli-life: last version 1, first visible 1, truncated before 1");
        Run retention = run("", at("stream", "retention", "cli-life", "--max-count", "5", "--max-age", "P30D"));
        assertThat(retention.out()).contains("max age 2592000 s, max count 5");
        String id = json(run("", at("read", "cli-life", "--format", "json")).out()).get("event_id");
        Run erased = run("", at("stream", "erase", id));
        assertThat(erased.out()).as(erased.err()).startsWith("erased event " + id + ": cli-life@1");
        Run deleted = run("", at("stream", "delete", "cli-life", "--expected-version", "1", "--tombstone"));
        assertThat(deleted.out()).contains("first visible 2").contains("deleted for good");
        Run refused = run("", at("append", "cli-life", "--data", "c"));
        assertThat(refused.status()).isEqualTo(1);
        assertThat(refused.err()).contains("deleted for good");
        assertThat(run("", at("stream", "erase", "not-a-uuid")).status()).isEqualTo(2);
    }

    @Test
    void appendFromDataFileAndStandardInputThenReadItBack() throws Exception {
        Run one = run("", at("append", "cli-orders", "--type", "OrderPlaced", "--data", "{\"total\": 99}",
                "--expected-version", "no-stream"));
        assertThat(one.status()).as(one.err()).isZero();
        assertThat(one.out()).matches("appended 1 event to cli-orders: positions \\d+\\.\\.\\d+, version 0");

        Path file = tmp.resolve("payload.bin");
        Files.write(file, new byte[] {(byte) 0xff, 0, 1});
        assertThat(run("", at("append", "cli-orders", "--file", file.toString(), "--expected-version", "0"))
                .status()).isZero();

        Run lines = run("first\nsecond\nthird\n", at("append", "cli-orders", "--type", "Line", "--batch", "2"));
        assertThat(lines.status()).as(lines.err()).isZero();
        assertThat(lines.lines()).hasSize(2).allMatch(l -> l.startsWith("appended "));
        assertThat(lines.lines().get(1)).endsWith("version 4");

        Run jsonLines = run("{\"type\":\"Paid\",\"data\":{\"amount\":5},\"metadata\":\"m1\"}\n", at("append",
                "cli-orders", "--format", "json"));
        assertThat(json(jsonLines.out())).containsEntry("next_expected_version", "5").containsEntry("events", "1");

        Run text = run("", at("read", "cli-orders"));
        assertThat(text.status()).isZero();
        assertThat(text.lines()).hasSize(6);
        assertThat(text.lines().get(0)).matches("\\d+\tcli-orders@0\tOrderPlaced\t\\{\"total\": 99}");
        assertThat(text.lines().get(1)).contains("<3 bytes, base64 /wAB>");
        assertThat(text.lines().get(4)).endsWith("cli-orders@4\tLine\tthird");

        Run asJson = run("", at("read", "cli-orders", "--format", "json", "--backwards", "--count", "1"));
        Map<String, String> paid = json(asJson.out());
        assertThat(paid).containsEntry("type", "Paid").containsEntry("data", "{\"amount\":5}")
                .containsEntry("metadata", "m1").containsEntry("stream_version", "5").containsKey("event_id")
                .containsKey("committed_at");
        Run binary = run("", at("read", "cli-orders", "--format", "json", "--from", "1", "--count", "1"));
        assertThat(json(binary.out())).containsEntry("data", "/wAB").containsEntry("data_encoding", "base64");

        Run all = run("", at("read", "--all", "--count", "2"));
        assertThat(all.lines()).hasSize(2);
    }

    @Test
    void infoDescribesTheServer() throws Exception {
        Run info = run("", at("info", "--format", "json"));
        assertThat(info.status()).isZero();
        assertThat(json(info.out())).containsEntry("storage_engine", "rocksdb")
                .containsEntry("stream_endpoint", server.streamEndpoint());
        assertThat(run("", at("info")).out()).contains("storage engine:  rocksdb");
    }

    @Test
    void tailFollowsLiveUntilItHasEnoughEventsOrIsInterrupted() throws Exception {
        Process tail = start(at("tail", "--prefix", "cli-tail-", "--count", "2", "--format", "json"));
        BufferedReader out = new BufferedReader(new InputStreamReader(tail.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<List<String>> printed = CompletableFuture.supplyAsync(() -> {
            List<String> lines = new ArrayList<>();
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return lines;
        });
        // tail starts at the end: append until it has seen two events (it may start after the first ones).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int sent = 0;
        while (tail.isAlive() && System.nanoTime() < deadline) {
            assertThat(run("", at("append", "cli-tail-" + (sent % 2), "--data", "event " + sent++)).status()).isZero();
        }
        assertThat(tail.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(tail.exitValue()).isZero();
        List<String> lines = printed.get(10, TimeUnit.SECONDS);
        assertThat(lines).hasSize(2);
        assertThat(json(lines.get(0)).get("stream")).startsWith("cli-tail-");
        long first = Long.parseLong(json(lines.get(0)).get("global_position"));
        assertThat(Long.parseLong(json(lines.get(1)).get("global_position"))).isEqualTo(first + 1);

        // History longer than --count: exactly --count lines, then the end (it printed all of them).
        for (int i = 0; i < 5; i++) {
            assertThat(run("", at("append", "cli-tail-count", "--data", "event " + i)).status()).isZero();
        }
        Run three = run("", at("tail", "--all", "--from", "start", "--count", "3"));
        assertThat(three.status()).isZero();
        assertThat(three.out().lines().toList()).hasSize(3);
        Run kurrent = run("", at("tail", "$all", "--from", "start", "--count", "2"));
        assertThat(kurrent.status()).isZero();
        assertThat(kurrent.err()).contains("Following the global log ('$all' is read as --all)");
        assertThat(kurrent.out().lines().toList()).hasSize(2);

        Process endless = start(at("tail", "--all", "--from", "start"));
        BufferedReader endlessOut = new BufferedReader(new InputStreamReader(endless.getInputStream(),
                StandardCharsets.UTF_8));
        assertThat(endlessOut.readLine()).as("the first event of the log").isNotNull();
        new ProcessBuilder("kill", "-INT", Long.toString(endless.pid())).start().waitFor();
        assertThat(endless.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(endless.exitValue()).as("exit status after Ctrl-C").isEqualTo(130);
    }

    @Test
    void failuresHaveTheirOwnExitStatusAndSayWhatFailed() throws Exception {
        Run conflict = run("", at("append", "cli-conflict", "--data", "x", "--expected-version", "7"));
        assertThat(conflict.status()).isEqualTo(1);
        assertThat(conflict.err()).contains("wrong expected version for stream 'cli-conflict'");

        Run missing = run("", at("read", "cli-never-written"));
        assertThat(missing.status()).isEqualTo(1);
        assertThat(missing.err()).contains("'cli-never-written' does not exist");

        Run usage = run("", at("append", "s", "--expected-version", "sometimes", "--data", "x"));
        assertThat(usage.status()).isEqualTo(2);
        assertThat(usage.err()).contains("--expected-version").contains("sometimes");
        assertThat(run("", "frobnicate").status()).isEqualTo(2);

        Run badJson = run("{\"type\": \"T\"\n", at("append", "s", "--format", "json"));
        assertThat(badJson.status()).isEqualTo(1);
        assertThat(badJson.err()).contains("line 1");

        Run unreachable = run("", "info", "--endpoint", "tcp://127.0.0.1:1", "--timeout", "PT1S");
        assertThat(unreachable.status()).isEqualTo(69);
        assertThat(unreachable.err()).contains("cannot reach the server at tcp://127.0.0.1:1");
    }

    @Test
    void verifyChecksAStoppedStore() throws Exception {
        Path data = tmp.resolve("verified");
        try (ServerProcess own = ServerProcess.start("cli-verify", data, "rocksdb")) {
            assertThat(run("a\nb\nc\n", "append", "v", "--endpoint", own.commandEndpoint()).status()).isZero();
            assertThat(own.stop()).isZero();
        }
        Run ok = run("", "verify", "--data-dir", data.toString());
        assertThat(ok.status()).as(ok.err()).isZero();
        assertThat(ok.out()).isEqualTo("ok: 3 events in 1 streams in " + data + ", every index entry checked");

        Run none = run("", "verify", "--data-dir", tmp.resolve("nowhere").toString());
        assertThat(none.status()).isEqualTo(1);
        assertThat(none.err()).contains("no data directory").contains("nowhere");
    }

    @Test
    void statsSummarizesTheMetricsOnOneScreen() throws Exception {
        try (ServerProcess own = ServerProcess.start("cli-stats", tmp.resolve("stats"), "rocksdb", "--http-endpoint",
                "127.0.0.1:0")) {
            Matcher health = Pattern.compile("health on (http://[^/\\s]+)/")
                    .matcher(own.outputText());
            assertThat(health.find()).isTrue();
            assertThat(run("a\nb\n", "append", "st", "--endpoint", own.commandEndpoint()).status()).isZero();
            assertThat(run("", "read", "st", "--endpoint", own.commandEndpoint()).status()).isZero();

            Run stats = run("", "stats", "--http", health.group(1));
            assertThat(stats.status()).as(stats.err()).isZero();
            assertThat(stats.out()).contains("head position      1").contains("appends            1 ok, 0 retries")
                    .contains("events appended    2").contains("reads              1, 2 events")
                    .contains("live feed          2 events published").contains("rocksdb ").contains("heap ");
            assertThat(stats.out()).containsPattern("append latency     p50 <= [0-9.]+ ms");
        }
        Run unreachable = run("", "stats", "--http", "http://127.0.0.1:1");
        assertThat(unreachable.status()).isEqualTo(69);
    }

    @Test
    void longWorkShowsProgressOnATerminalAndNothingElsewhere() throws Exception {
        Path script = Path.of("/usr/bin/script");
        Assumptions.assumeTrue(Files.isExecutable(script), "util-linux's script, which gives a process a terminal");
        Path data = tmp.resolve("progress");
        Path backups = tmp.resolve("progress-backups").toAbsolutePath();
        try (ServerProcess own = ServerProcess.start("cli-progress", data, "rocksdb")) {
            assertThat(run("a\nb\nc\n", "append", "p", "--endpoint", own.commandEndpoint()).status()).isZero();
            Run backup = run("", "backup", backups.toString(), "--endpoint", own.commandEndpoint());
            assertThat(backup.status()).as(backup.err()).isZero();
            assertThat(backup.err()).as("no terminal, no progress").isEmpty();

            // Output to a file, standard error on a terminal: the read says how far it is there.
            Path file = tmp.resolve("read.txt");
            String read = onATerminal("read p --endpoint " + own.commandEndpoint() + " > " + file);
            assertThat(read).contains("reading p  [########################] 100%  3 events of 3 events");
            assertThat(Files.readAllLines(file)).hasSize(3);
            // Output to the terminal: events only, no progress between them.
            assertThat(onATerminal("read p --endpoint " + own.commandEndpoint())).doesNotContain("reading p");
            assertThat(own.stop()).isZero();
        }
        assertThat(onATerminal("verify --data-dir " + data))
                .contains("verifying " + data + "  [########################] 100%  12 entries of 12 entries")
                .contains("ok: 3 events");
        Path restored = tmp.resolve("progress-restored");
        assertThat(onATerminal("restore " + backups + " --data-dir " + restored)).containsPattern(
                "restoring " + Pattern.quote(backups.toString()) + "  \\[#+-*\\] +[0-9]+%  [0-9.]+ KiB of [0-9.]+ KiB")
                .contains("restored " + backups);

        Run verified = run("", "verify", "--data-dir", restored.toString());
        assertThat(verified.status()).isZero();
        assertThat(verified.err()).as("no terminal, no progress").isEmpty();
    }

    /** Runs the tool with a pseudo-terminal as its standard streams, and returns what the terminal showed. */
    private static String onATerminal(String arguments) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder("/usr/bin/script", "--quiet", "--return", "--command",
                java + " -jar " + JAR.toAbsolutePath() + " " + arguments, "/dev/null")
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE).start();
        process.getOutputStream().close();
        String shown = read(process.getInputStream());
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("rewind %s ends", arguments).isTrue();
        assertThat(process.exitValue()).as(shown).isZero();
        return shown;
    }
}
