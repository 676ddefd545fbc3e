package io.rewind.cli;

import io.rewind.client.AppendResult;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.RewindClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "append", mixinStandardHelpOptions = true,
        description = {"Append events to a stream: one from --data or --file, or one per line of standard input,"
                + " in appends of up to --batch events. The expected version applies to the first append; each"
                + " later one expects the version the one before it left."})
final class AppendCommand implements Callable<Integer> {
    @ParentCommand
    RewindCli root;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STREAM", description = "The stream to append to.")
    String stream;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "Event",
            description = "The events' type, where the input does not give one (default: ${DEFAULT-VALUE}).")
    String type;

    @Option(names = "--expected-version", paramLabel = "any|no-stream|exists|N", defaultValue = "any",
            description = "What the stream must look like (default: ${DEFAULT-VALUE}).")
    String expected;

    @Option(names = "--data", paramLabel = "TEXT", description = "One event with this data (UTF-8).")
    String data;

    @Option(names = "--file", paramLabel = "FILE", description = "One event whose data is this file's bytes.")
    Path file;

    @Option(names = "--format", paramLabel = "text|json", defaultValue = "text",
            description = "Standard input: each line is an event's data (text), or {\"type\":…,\"data\":…,"
                    + "\"metadata\":…,\"id\":…} (json). Also how results are printed (default: ${DEFAULT-VALUE}).")
    EventFormat format;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "100",
            description = "Most events in one append from standard input (default: ${DEFAULT-VALUE}).")
    int batch;

    @Override
    public Integer call() throws IOException {
        if (data != null && file != null) {
            throw new ParameterException(spec.commandLine(), "give --data or --file, not both");
        }
        if (batch < 1) {
            throw new ParameterException(spec.commandLine(), "--batch must be at least 1, got " + batch);
        }
        ExpectedVersion condition = parseExpected();
        try (RewindClient client = root.client()) {
            if (data != null || file != null) {
                byte[] bytes;
                try {
                    bytes = data != null ? data.getBytes(StandardCharsets.UTF_8) : Files.readAllBytes(file);
                } catch (IOException e) {
                    throw new IOException("cannot read --file " + file + ": " + e.getMessage(), e);
                }
                print(client.append(stream, condition, EventData.of(type, bytes)), 1);
                return 0;
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            List<EventData> pending = new ArrayList<>();
            String line;
            int lineNumber = 0;
            long appended = 0;
            while ((line = in.readLine()) != null) {
                lineNumber++;
                if (line.isEmpty()) {
                    continue;
                }
                pending.add(format.parse(line, type, lineNumber));
                if (pending.size() == batch) {
                    condition = flush(client, condition, pending);
                    appended++;
                }
            }
            if (!pending.isEmpty()) {
                flush(client, condition, pending);
                appended++;
            }
            if (appended == 0) {
                throw new IllegalArgumentException("no events: give --data, --file or lines on standard input");
            }
        }
        return 0;
    }

    private ExpectedVersion flush(RewindClient client, ExpectedVersion condition, List<EventData> pending) {
        AppendResult result = client.append(stream, condition, pending);
        print(result, pending.size());
        pending.clear();
        return ExpectedVersion.exact(result.nextExpectedVersion());
    }

    private void print(AppendResult result, int events) {
        if (format == EventFormat.JSON) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("stream", stream);
            fields.put("events", events);
            fields.put("first_position", result.firstPosition());
            fields.put("last_position", result.lastPosition());
            fields.put("next_expected_version", result.nextExpectedVersion());
            spec.commandLine().getOut().println(EventFormat.jsonObject(fields));
        } else {
            spec.commandLine().getOut().printf("appended %d event%s to %s: positions %d..%d, version %d%n", events,
                    events == 1 ? "" : "s", stream, result.firstPosition(), result.lastPosition(),
                    result.nextExpectedVersion());
        }
        spec.commandLine().getOut().flush();
    }

    private ExpectedVersion parseExpected() {
        return parseExpected(spec, expected);
    }

    /** An expected version as the commands take it: any, no-stream, exists or a version number. */
    static ExpectedVersion parseExpected(CommandSpec spec, String expected) {
        return switch (expected.toLowerCase(java.util.Locale.ROOT)) {
            case "any" -> ExpectedVersion.any();
            case "no-stream" -> ExpectedVersion.noStream();
            case "exists" -> ExpectedVersion.streamExists();
            default -> {
                try {
                    yield ExpectedVersion.exact(Long.parseLong(expected));
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), "Invalid value for option '--expected-version': '"
                            + expected + "' is not any, no-stream, exists or a version number");
                }
            }
        };
    }
}
