package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.testkit.ServerProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starting, stopping, restarting and misconfiguring the real server process. */
class ServerLifecycleIT {
    @TempDir
    Path tmp;

    private static RewindClient client(ServerProcess server) {
        return RewindClient.builder().commandEndpoint(server.commandEndpoint())
                .streamEndpoint(server.streamEndpoint()).build();
    }

    @Test
    void acknowledgedEventsSurviveACleanRestart() {
        try (ServerProcess server = ServerProcess.start("restart", tmp.resolve("data"), "rocksdb")) {
            List<CompletableFuture<?>> acks = new ArrayList<>();
            try (RewindClient client = client(server)) {
                client.append("survivor", ExpectedVersion.noStream(), EventData.of("Born", "0"));
                for (int i = 1; i <= 500; i++) {
                    acks.add(client.appendAsync("survivor", ExpectedVersion.any(), List.of(EventData.of("Lived",
                            Integer.toString(i)))));
                }
                acks.forEach(CompletableFuture::join);
            }

            assertThat(server.stop()).as("exit status after SIGTERM").isZero();
            assertThat(server.outputText()).contains("Shutting down").contains("Closed RocksDB");
            server.restart();
            assertThat(server.outputText()).contains("Recovered 501 events in 1 streams");

            try (RewindClient client = client(server)) {
                assertThat(client.readStream("survivor").map(RecordedEvent::dataAsString)).containsExactlyElementsOf(
                        IntStream.rangeClosed(0, 500).mapToObj(Integer::toString).toList());
                assertThat(client.serverInfo().streamCount()).isEqualTo(1);
                assertThat(client.append("survivor", ExpectedVersion.exact(500), EventData.of("Again", "501"))
                        .nextExpectedVersion()).isEqualTo(501);
            }
        }
    }

    @Test
    void aSecondServerOnTheSameDataDirectoryFailsFast() throws Exception {
        Path data = tmp.resolve("shared");
        try (ServerProcess first = ServerProcess.start("first", data, "rocksdb")) {
            Process second = new ProcessBuilder(ServerProcess.command(List.of("--data-dir", data.toString(),
                    "--command-endpoint", "tcp://127.0.0.1:*", "--stream-endpoint", "tcp://127.0.0.1:*")))
                    .redirectErrorStream(true).start();
            assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String output = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(second.exitValue()).isEqualTo(1);
            assertThat(output).contains("data directory " + data).contains("in use by another process");

            // The first server is untouched.
            try (RewindClient client = client(first)) {
                assertThat(client.serverInfo().storageEngine()).isEqualTo("rocksdb");
            }
        }
    }

    @Test
    void aBadOptionStopsStartUpNamingTheOption() throws Exception {
        assertRefused(List.of("--storage", "mongodb"), "--storage", "mongodb");
        assertRefused(List.of("--max-event-size", "lots"), "--max-event-size", "lots");
        assertRefused(List.of("--command-endpoint", "http://localhost"), "--command-endpoint", "http://localhost");
        assertRefused(List.of("--fsync", "sometimes"), "--fsync", "sometimes");
        assertRefused(List.of("--no-such-option"), "--no-such-option");
        assertRefused(List.of("--max-read-page", "0"), "--max-read-page", "0");
        String peers = "n1@127.0.0.1:7001@tcp://127.0.0.1:9090,n2@127.0.0.1:7002@tcp://127.0.0.1:9190";
        assertRefused(List.of("--storage", "rocksdb", "--node-id", "n3", "--peers", peers), "--node-id", "'n3' is not in");
        assertRefused(List.of("--storage", "rocksdb", "--node-id", "n1", "--peers", peers + ",n2@h:1@tcp://h:2"),
                "--peers", "'n2' is listed twice");
        assertRefused(List.of("--storage", "rocksdb", "--node-id", "n1", "--peers", "n1@nowhere"), "--peers",
                "n1@nowhere");
    }

    @Test
    void aConfigFileSetsOptionsAndRejectsUnknownKeys() throws Exception {
        Path good = tmp.resolve("good.properties");
        Files.writeString(good, "storage=memory\ncommand-endpoint=tcp://127.0.0.1:*\n"
                + "stream-endpoint=tcp://127.0.0.1:*\nmax-read-page=10\n");
        Process process = new ProcessBuilder(ServerProcess.command(List.of("--config", good.toString())))
                .redirectErrorStream(true).start();
        try {
            String ready = readUntil(process, "ready");
            assertThat(ready).contains("storage memory");
        } finally {
            process.destroy();
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }

        Path bad = tmp.resolve("bad.properties");
        Files.writeString(bad, "storag=memory\n");
        assertRefused(List.of("--config", bad.toString()), "storag", bad.toString());
        assertRefused(List.of("--config", tmp.resolve("missing.properties").toString()), "--config",
                "missing.properties");
    }

    @Test
    void theHealthEndpointSaysLiveAndReadyOnceTheServerServes() throws Exception {
        try (ServerProcess server = ServerProcess.start("health", tmp.resolve("data"), "rocksdb", "--http-endpoint",
                "127.0.0.1:0")) {
            Matcher ready = Pattern.compile("health on (http://\\S+/health/ready)")
                    .matcher(server.outputText());
            assertThat(ready.find()).as(server.outputText()).isTrue();
            HttpClient http = HttpClient.newHttpClient();
            URI readyUri = URI.create(ready.group(1));
            assertThat(http.send(HttpRequest.newBuilder(readyUri).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            assertThat(http.send(HttpRequest.newBuilder(readyUri.resolve("/health/live")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

            assertThat(server.stop()).isZero();
        }
    }

    @Test
    void metricsCountWhatClientsDidInThePrometheusTextFormat() throws Exception {
        Assumptions.assumeTrue(PrometheusText.parserAvailable(), PrometheusText.MISSING);
        try (ServerProcess server = ServerProcess.start("metrics", tmp.resolve("data"), "rocksdb", "--http-endpoint",
                "127.0.0.1:0")) {
            Matcher endpoint = Pattern.compile("health on (http://[^/\\s]+)/").matcher(server.outputText());
            assertThat(endpoint.find()).as(server.outputText()).isTrue();
            try (RewindClient client = client(server)) {
                List<EventData> events = List.of(EventData.of("E", "1"), EventData.of("E", "2"));
                client.append("metered", ExpectedVersion.noStream(), events);
                client.append("metered", ExpectedVersion.noStream(), events);
                try {
                    client.append("metered", ExpectedVersion.noStream(), EventData.of("E", "3"));
                } catch (io.rewind.client.WrongExpectedVersionException expected) {
                    // Counted as its error code.
                }
                assertThat(client.readStream("metered").count()).isEqualTo(2);
            }
            HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(endpoint.group(1) + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(scrape.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type)
                    .startsWith("text/plain; version=0.0.4"));

            PrometheusText metrics = PrometheusText.parse(scrape.body());
            assertThat(metrics.samples()).containsEntry("rewind_appends_total{outcome=\"ok\"}", 1.0)
                    .containsEntry("rewind_appends_total{outcome=\"duplicate\"}", 1.0)
                    .containsEntry("rewind_appends_total{outcome=\"wrong_expected_version\"}", 1.0)
                    .containsEntry("rewind_events_appended_total", 2.0)
                    .containsEntry("rewind_append_latency_seconds_count", 3.0)
                    .containsEntry("rewind_commit_group_events_sum", 2.0)
                    .containsEntry("rewind_feed_events_published_total", 2.0)
                    .containsEntry("rewind_reads_total", 1.0)
                    .containsEntry("rewind_events_read_total", 2.0)
                    .containsEntry("rewind_head_position", 1.0)
                    .containsEntry("rewind_append_queue_depth", 0.0)
                    .containsKeys("rewind_commit_duration_seconds_sum", "rewind_rocksdb_live_sst_bytes",
                            "rewind_rocksdb_memtable_bytes", "rewind_rocksdb_pending_compaction_bytes",
                            "rewind_rocksdb_background_errors", "jvm_memory_used_bytes{area=\"heap\"}",
                            "jvm_threads_current");
            assertThat(metrics.types()).containsEntry("rewind_appends", "counter")
                    .containsEntry("rewind_append_latency_seconds", "histogram")
                    .containsEntry("rewind_commit_group_events", "histogram")
                    .containsEntry("rewind_commit_duration_seconds", "histogram")
                    .containsEntry("rewind_append_queue_depth", "gauge")
                    .containsEntry("rewind_head_position", "gauge");
            // Every histogram's buckets rise to its count.
            assertThat(metrics.samples()).containsEntry("rewind_append_latency_seconds_bucket{le=\"+Inf\"}", 3.0);
            assertThat(server.stop()).isZero();
        }
    }

    private static String readUntil(Process process, String word) throws IOException {
        var reader = process.inputReader(StandardCharsets.UTF_8);
        StringBuilder seen = new StringBuilder();
        String line;
        while ((line = reader.readLine()) != null) {
            seen.append(line).append('\n');
            if (line.contains(word)) {
                return line;
            }
        }
        throw new AssertionError("the server exited without printing '" + word + "':\n" + seen);
    }

    private static void assertRefused(List<String> args, String... mentions) throws Exception {
        List<String> all = new ArrayList<>(List.of("--storage", "memory"));
        if (!args.contains("--storage")) {
            all.addAll(args);
        } else {
            all = new ArrayList<>(args);
        }
        Process process = new ProcessBuilder(ServerProcess.command(all)).redirectErrorStream(true).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exits for %s", args).isTrue();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as("exit status for %s: %s", args, output).isEqualTo(2);
        assertThat(output).as("message for %s", args).contains(mentions).doesNotContain("ready");
    }
}
