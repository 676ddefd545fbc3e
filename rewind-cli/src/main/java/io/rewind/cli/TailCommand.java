package io.rewind.cli;

import io.rewind.client.RewindClient;
import io.rewind.client.StartFrom;
import io.rewind.client.Subscription;
import io.rewind.client.SubscriptionTarget;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "tail", mixinStandardHelpOptions = true,
        description = {"Follow a stream, the streams of a prefix, or the global log through a gap-free"
                + " subscription, printing each event as 'read' does, until Ctrl-C (or --count events)."})
final class TailCommand implements Callable<Integer> {
    /** The global log's name in KurrentDB. */
    private static final String ALL = "$all";
    @ParentCommand
    RewindCli root;

    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Parameters(paramLabel = "STREAM", description = "The stream to follow ('$all', as KurrentDB names it, follows the"
                + " global log, as --all does).")
        String stream;

        @Option(names = "--prefix", paramLabel = "PREFIX", description = "Follow every stream whose name starts so.")
        String prefix;

        @Option(names = "--all", description = "Follow the global log (every stream, in commit order).")
        boolean all;
    }

    @Option(names = "--from", paramLabel = "start|end|N", defaultValue = "end",
            description = "start: from the first event; end: only new ones; N: after version/position N"
                    + " (default: ${DEFAULT-VALUE}).")
    String from;

    @Option(names = "--count", paramLabel = "N", description = "Stop after this many events.")
    Long count;

    @Option(names = "--format", paramLabel = "text|json", defaultValue = "text",
            description = "text or json lines (default: ${DEFAULT-VALUE}).")
    EventFormat format;

    @Override
    public Integer call() throws Exception {
        StartFrom start = switch (from) {
            case "start" -> StartFrom.start();
            case "end" -> StartFrom.end();
            default -> {
                try {
                    yield StartFrom.after(Long.parseLong(from));
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), "Invalid value for option '--from': '" + from
                            + "' is not start, end or a position");
                }
            }
        };
        if (ALL.equals(target.stream)) {
            // What a KurrentDB user types: read as --all, said once (a stream of that name is read with 'read').
            spec.commandLine().getErr().println("Following the global log ('$all' is read as --all)");
            target.all = true;
            target.stream = null;
        }
        SubscriptionTarget what = target.all ? SubscriptionTarget.all()
                : target.prefix != null ? SubscriptionTarget.prefix(target.prefix)
                        : SubscriptionTarget.stream(target.stream);
        PrintWriter out = spec.commandLine().getOut();
        CompletableFuture<Void> done = new CompletableFuture<>();
        AtomicLong printed = new AtomicLong();
        try (RewindClient client = root.client();
                Subscription subscription = client.subscribe(what, start, new io.rewind.client.SubscriptionListener() {
                    @Override
                    public void onEvent(Subscription s, io.rewind.client.RecordedEvent event) {
                        // The subscription may deliver more before it is closed: --count events, not one more.
                        if (count != null && printed.get() >= count) {
                            return;
                        }
                        out.println(format.format(event));
                        out.flush();
                        if (count != null && printed.incrementAndGet() >= count) {
                            done.complete(null);
                        }
                    }

                    @Override
                    public void onError(Subscription s, Throwable error) {
                        done.completeExceptionally(error);
                    }
                })) {
            if (count != null && count <= 0) {
                return 0;
            }
            // Until --count events, or Ctrl-C, which the JVM turns into exit status 130.
            done.join();
        }
        return 0;
    }
}
