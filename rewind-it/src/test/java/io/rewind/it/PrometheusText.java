package io.rewind.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A scrape of {@code /metrics} as Prometheus' own parser reads it: the text goes through the official
 * Python client's {@code text_string_to_metric_families} (Debian's python3-prometheus-client, which
 * {@code .ci/run} installs), so a line the format does not allow fails the test instead of being
 * skipped by a lenient reader of our own. Java has no such parser.
 */
record PrometheusText(Map<String, Double> samples, Map<String, String> types) {
    static final String MISSING = "Prometheus' text-format parser (Debian package python3-prometheus-client, installed"
            + " by .ci/run) is not installed";
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final String SCRIPT = String.join("\n",
            "import sys",
            "from prometheus_client.parser import text_string_to_metric_families",
            "for family in text_string_to_metric_families(sys.stdin.read()):",
            "    print('type', family.name, family.type, sep='\\t')",
            "    for sample in family.samples:",
            "        labels = ','.join('%s=\"%s\"' % item for item in sample.labels.items())",
            "        key = sample.name + ('{' + labels + '}' if labels else '')",
            "        print('sample', key, repr(float(sample.value)), sep='\\t')");

    static boolean parserAvailable() {
        if (!Files.isExecutable(PYTHON)) {
            return false;
        }
        try {
            Process probe = new ProcessBuilder(PYTHON.toString(), "-c", "import prometheus_client.parser")
                    .redirectErrorStream(true).start();
            probe.getInputStream().readAllBytes();
            return probe.waitFor(30, TimeUnit.SECONDS) && probe.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Parses a scrape; fails with the parser's own message when the text is not the format. */
    static PrometheusText parse(String text) throws Exception {
        Process parser = new ProcessBuilder(PYTHON.toString(), "-c", SCRIPT).start();
        CompletableFuture<String> errors = CompletableFuture.supplyAsync(() -> readAll(parser.getErrorStream()));
        try (var in = parser.getOutputStream()) {
            in.write(text.getBytes(StandardCharsets.UTF_8));
        }
        String out = readAll(parser.getInputStream());
        if (!parser.waitFor(60, TimeUnit.SECONDS) || parser.exitValue() != 0) {
            throw new AssertionError("Prometheus' parser refused the scrape: " + errors.get() + "\n" + text);
        }
        Map<String, Double> samples = new HashMap<>();
        Map<String, String> types = new HashMap<>();
        for (String line : out.split("\n")) {
            String[] fields = line.split("\t");
            if (fields[0].equals("type")) {
                types.put(fields[1], fields[2]);
            } else if (fields[0].equals("sample")) {
                samples.put(fields[1], Double.parseDouble(fields[2]));
            }
        }
        return new PrometheusText(Map.copyOf(samples), Map.copyOf(types));
    }

    private static String readAll(java.io.InputStream stream) {
        try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
