package io.rewind.cli;

import io.rewind.client.ReadOptions;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "read", mixinStandardHelpOptions = true,
        description = {"Read a stream or the global log, one event a line: in text, 'POSITION STREAM@VERSION TYPE"
                + " DATA' separated by tabs; in json, every field, data and metadata as UTF-8 where they are,"
                + " else base64."})
final class ReadCommand implements Callable<Integer> {
    @ParentCommand
    RewindCli root;

    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Parameters(paramLabel = "STREAM", description = "The stream to read.")
        String stream;

        @Option(names = "--all", description = "Read the global log: every stream, in global order.")
        boolean all;
    }

    @Option(names = "--from", paramLabel = "N", description = "First version (stream) or position (--all) to read.")
    Long from;

    @Option(names = "--backwards", description = "Newest first.")
    boolean backwards;

    @Option(names = "--count", paramLabel = "N", description = "Read at most this many events.")
    Long count;

    @Option(names = "--format", paramLabel = "text|json", defaultValue = "text",
            description = "text or json lines (default: ${DEFAULT-VALUE}).")
    EventFormat format;

    @Override
    public Integer call() {
        ReadOptions options = backwards ? ReadOptions.backwards() : ReadOptions.forwards();
        if (from != null) {
            options = options.from(from);
        }
        if (count != null) {
            options = options.maxCount(count);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (RewindClient client = root.client();
                Stream<RecordedEvent> events = source.all ? client.readAll(options)
                        : client.readStream(source.stream, options)) {
            events.forEach(event -> out.println(format.format(event)));
        }
        out.flush();
        return 0;
    }
}
