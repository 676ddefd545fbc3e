package io.rewind.cli;

import io.rewind.client.ReadOptions;
import io.rewind.client.ReadPage;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.RewindException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
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
        AtomicLong written = new AtomicLong();
        try (RewindClient client = root.client();
                // Going to a file or a pipe, a read shows how far it is on the terminal, if there is one.
                Progress progress = Progress.isATerminal(1) || !Progress.isATerminal(2) ? Progress.hidden() : Progress.start("reading "
                        + (source.all ? "the global log" : source.stream), Progress.Unit.EVENTS, expected(client),
                        written::get);
                Stream<RecordedEvent> events = source.all ? client.readAll(options)
                        : client.readStream(source.stream, options)) {
            events.forEach(event -> {
                out.println(format.format(event));
                written.incrementAndGet();
            });
        }
        out.flush();
        return 0;
    }

    /**
     * How many events the read will return, as far as the server's head tells; -1 when it cannot tell (a
     * stream that does not exist is reported by the read itself).
     */
    private long expected(RewindClient client) {
        long last;
        try {
            if (source.all) {
                last = client.serverInfo().headPosition();
            } else {
                ReadPage newest = client.readStreamPageAsync(source.stream, ReadOptions.backwards().pageSize(1)).get();
                last = newest.events().isEmpty() ? -1 : newest.events().get(0).streamVersion();
            }
        } catch (ExecutionException | RewindException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
        long first = from == null ? (backwards ? last : 0) : backwards ? Math.min(from, last) : from;
        long span = backwards ? first + 1 : last - first + 1;
        span = Math.max(0, span);
        return count == null ? span : Math.min(span, count);
    }
}
