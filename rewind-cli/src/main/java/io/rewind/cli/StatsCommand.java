package io.rewind.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "stats", mixinStandardHelpOptions = true,
        description = {"A one-screen summary of the server's metrics, read from its HTTP endpoint (the server's"
                + " --http-endpoint)."})
final class StatsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--http", paramLabel = "URL", required = true,
            description = "The server's HTTP endpoint, e.g. http://127.0.0.1:9100")
    URI http;

    @Override
    public Integer call() throws IOException, InterruptedException {
        HttpResponse<String> response;
        URI metricsUri = http.resolve("/metrics");
        try {
            response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
                    .send(HttpRequest.newBuilder(metricsUri).timeout(Duration.ofSeconds(10)).build(),
                            HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            spec.commandLine().getErr().println("rewind: cannot reach " + metricsUri + ": " + e);
            return RewindCli.UNREACHABLE;
        }
        if (response.statusCode() != 200) {
            throw new IllegalArgumentException(metricsUri + " answered " + response.statusCode() + ": "
                    + response.body().strip());
        }
        Map<String, Double> samples = parse(response.body());
        PrintWriter out = spec.commandLine().getOut();
        out.printf("head position      %,.0f%n", samples.getOrDefault("rewind_head_position", -1.0));
        out.printf("appends            %,.0f ok, %,.0f retries answered, %,.0f refused or failed%n",
                samples.getOrDefault("rewind_appends_total{outcome=\"ok\"}", 0.0),
                samples.getOrDefault("rewind_appends_total{outcome=\"duplicate\"}", 0.0), failed(samples));
        out.printf("events appended    %,.0f%n", samples.getOrDefault("rewind_events_appended_total", 0.0));
        out.printf("append latency     p50 %s, p99 %s (receipt to acknowledgement)%n",
                quantile(samples, "rewind_append_latency_seconds", 0.5),
                quantile(samples, "rewind_append_latency_seconds", 0.99));
        out.printf("group commits      %,.0f, %.1f events each, %s per write and sync (mean)%n",
                samples.getOrDefault("rewind_commit_group_events_count", 0.0),
                mean(samples, "rewind_commit_group_events"), millis(mean(samples, "rewind_commit_duration_seconds")));
        out.printf("append queue       %,.0f waiting%n", samples.getOrDefault("rewind_append_queue_depth", 0.0));
        out.printf("reads              %,.0f, %,.0f events%n", samples.getOrDefault("rewind_reads_total", 0.0),
                samples.getOrDefault("rewind_events_read_total", 0.0));
        out.printf("live feed          %,.0f events published%n",
                samples.getOrDefault("rewind_feed_events_published_total", 0.0));
        if (samples.containsKey("rewind_rocksdb_live_sst_bytes")) {
            out.printf("rocksdb            %s in tables, %s in memtables, %s pending compaction, %,.0f background"
                            + " errors%s%n", mib(samples.get("rewind_rocksdb_live_sst_bytes")),
                    mib(samples.getOrDefault("rewind_rocksdb_memtable_bytes", 0.0)),
                    mib(samples.getOrDefault("rewind_rocksdb_pending_compaction_bytes", 0.0)),
                    samples.getOrDefault("rewind_rocksdb_background_errors", 0.0),
                    samples.getOrDefault("rewind_rocksdb_write_stopped", 0.0) > 0 ? ", WRITES STOPPED" : "");
        }
        out.printf("heap               %s used of %s%n",
                mib(samples.getOrDefault("jvm_memory_used_bytes{area=\"heap\"}", 0.0)),
                mib(samples.getOrDefault("jvm_memory_max_bytes{area=\"heap\"}", 0.0)));
        out.flush();
        return 0;
    }

    /** The samples of the Prometheus text format: {@code name{labels} value}, comments skipped. */
    static Map<String, Double> parse(String text) {
        Map<String, Double> samples = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int end = line.lastIndexOf('}');
            int split = line.indexOf(' ', Math.max(end, 0));
            if (split < 0) {
                continue;
            }
            try {
                String value = line.substring(split + 1).trim().split(" ")[0];
                samples.put(line.substring(0, split), Double.parseDouble(value));
            } catch (NumberFormatException e) {
                // A value this summary does not need.
            }
        }
        return samples;
    }

    private static double failed(Map<String, Double> samples) {
        return samples.entrySet().stream().filter(e -> e.getKey().startsWith("rewind_appends_total{")
                && !e.getKey().contains("\"ok\"") && !e.getKey().contains("\"duplicate\""))
                .mapToDouble(Map.Entry::getValue).sum();
    }

    private static double mean(Map<String, Double> samples, String histogram) {
        double count = samples.getOrDefault(histogram + "_count", 0.0);
        return count == 0 ? 0 : samples.getOrDefault(histogram + "_sum", 0.0) / count;
    }

    /** The upper bound of the first bucket that holds the quantile: what a histogram can tell. */
    private static String quantile(Map<String, Double> samples, String histogram, double q) {
        double count = samples.getOrDefault(histogram + "_count", 0.0);
        if (count == 0) {
            return "-";
        }
        List<double[]> buckets = new ArrayList<>();
        for (Map.Entry<String, Double> sample : samples.entrySet()) {
            String key = sample.getKey();
            if (key.startsWith(histogram + "_bucket{le=\"")) {
                String le = key.substring(key.indexOf("le=\"") + 4, key.lastIndexOf('"'));
                buckets.add(new double[] {le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le),
                        sample.getValue()});
            }
        }
        buckets.sort((a, b) -> Double.compare(a[0], b[0]));
        for (double[] bucket : buckets) {
            if (bucket[1] >= q * count) {
                return Double.isInfinite(bucket[0]) ? "over the largest bucket" : "<= " + millis(bucket[0]);
            }
        }
        return "-";
    }

    private static String millis(double seconds) {
        return String.format("%.1f ms", seconds * 1000);
    }

    private static String mib(double bytes) {
        return String.format("%.1f MiB", bytes / 1048576);
    }
}
