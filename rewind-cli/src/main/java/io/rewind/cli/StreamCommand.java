package io.rewind.cli;

import io.rewind.client.ErasedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.StreamMetadata;
import io.rewind.client.StreamRetention;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** A stream's lifecycle: read it, delete, tombstone, truncate, set its retention; erase one event. */
@Command(name = "stream", mixinStandardHelpOptions = true,
        description = {"Read or change a stream's lifecycle. Changes are for administrators; the events they hide"
                + " leave the server's disk at its next cleanup."},
        subcommands = {StreamCommand.Show.class, StreamCommand.Delete.class, StreamCommand.Truncate.class,
            StreamCommand.Retention.class, StreamCommand.Erase.class})
final class StreamCommand {
    @ParentCommand
    RewindCli root;

    static void print(CommandSpec spec, StreamMetadata metadata) {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%s: last version %d, first visible %d, truncated before %d%s%s%s%n", metadata.stream(),
                metadata.lastVersion(), metadata.firstVisibleVersion(), metadata.truncateBefore(),
                metadata.maxAge().isZero() ? "" : ", max age " + metadata.maxAge().toSeconds() + " s",
                metadata.maxCount() == 0 ? "" : ", max count " + metadata.maxCount(),
                metadata.tombstoned() ? ", deleted for good" : "");
        out.flush();
    }

    /** A subcommand on one stream that prints the stream's lifecycle after what it does. */
    abstract static class OnStream implements Callable<Integer> {
        @ParentCommand
        StreamCommand parent;
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "STREAM")
        String stream;

        abstract StreamMetadata run(RewindClient client);

        @Override
        public Integer call() {
            try (RewindClient client = parent.root.client()) {
                print(spec, run(client));
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Print the stream's lifecycle.")
    static final class Show extends OnStream {
        @Override
        StreamMetadata run(RewindClient client) {
            return client.streamMetadata(stream);
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete the stream: reads no longer return its events; an append continues after its last"
                    + " version. With --tombstone, for good: appends to it fail forever.")
    static final class Delete extends OnStream {
        @Option(names = "--expected-version", paramLabel = "any|no-stream|exists|N", defaultValue = "any",
                description = "What the stream must look like (default: ${DEFAULT-VALUE}).")
        String expected;
        @Option(names = "--tombstone", description = "Delete it for good.")
        boolean tombstone;

        @Override
        StreamMetadata run(RewindClient client) {
            var version = AppendCommand.parseExpected(spec, expected);
            return tombstone ? client.tombstoneStream(stream, version) : client.deleteStream(stream, version);
        }
    }

    @Command(name = "truncate", mixinStandardHelpOptions = true,
            description = "Hide the stream's events below a version; the stream keeps its versions.")
    static final class Truncate extends OnStream {
        @Option(names = "--before", paramLabel = "VERSION", required = true,
                description = "The first version to keep.")
        long before;

        @Override
        StreamMetadata run(RewindClient client) {
            return client.truncateStream(stream, before);
        }
    }

    @Command(name = "retention", mixinStandardHelpOptions = true,
            description = "Set how much of the stream reads return (0: no limit). Events beyond it are hidden at once.")
    static final class Retention extends OnStream {
        @Option(names = "--max-age", paramLabel = "DURATION", defaultValue = "PT0S",
                description = "Hide events committed longer ago, as ISO-8601 whole seconds, e.g. P30D (default: none).")
        Duration maxAge;
        @Option(names = "--max-count", paramLabel = "N", defaultValue = "0",
                description = "Keep only the newest N events (default: no limit).")
        long maxCount;

        @Override
        StreamMetadata run(RewindClient client) {
            StreamRetention retention;
            try {
                retention = new StreamRetention(maxAge, maxCount);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "Invalid retention: " + e.getMessage());
            }
            return client.setStreamRetention(stream, retention);
        }
    }

    @Command(name = "erase", mixinStandardHelpOptions = true,
            description = "Erase one event's data and metadata for good, keeping its id, type, tags and place.")
    static final class Erase implements Callable<Integer> {
        @ParentCommand
        StreamCommand parent;
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "EVENT_ID", description = "The event's id, a UUID.")
        String eventId;

        @Override
        public Integer call() {
            UUID id;
            try {
                id = UUID.fromString(eventId);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "Invalid value for EVENT_ID: '" + eventId
                        + "' is not a UUID");
            }
            try (RewindClient client = parent.root.client()) {
                ErasedEvent erased = client.eraseEvent(id);
                spec.commandLine().getOut().printf("erased event %s: %s@%d, position %d%n", id, erased.stream(),
                        erased.streamVersion(), erased.globalPosition());
                spec.commandLine().getOut().flush();
            }
            return 0;
        }
    }
}
