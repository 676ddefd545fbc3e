package io.rewind.cli;

import io.rewind.client.AuthenticationException;
import io.rewind.client.RequestTimeoutException;
import io.rewind.client.RewindClient;
import io.rewind.client.RewindException;
import io.rewind.client.ServerUnavailableException;
import io.rewind.server.storage.StorageException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code rewind}: talks to a Rewind server from a shell, through the Java client.
 *
 * <p>Exit status: 0 done, 1 failed (the message says what), 2 bad usage, 69 the server cannot be
 * reached, 130 interrupted (Ctrl-C).
 */
@Command(name = "rewind", mixinStandardHelpOptions = true, versionProvider = RewindCli.Version.class,
        subcommands = {AppendCommand.class, ReadCommand.class, TailCommand.class, InfoCommand.class,
            VerifyCommand.class, BackupCommand.class, RestoreCommand.class, StatsCommand.class, KeygenCommand.class,
            RaftKeygenCommand.class, StreamCommand.class},
        description = "Append, read, follow and inspect the events of a Rewind server.",
        footer = {"", "Exit status: 0 done, 1 failed, 2 bad usage, 69 server unreachable, 130 interrupted."})
public final class RewindCli {
    static final int FAILED = 1;
    static final int UNREACHABLE = 69;

    @Option(names = "--endpoint", paramLabel = "ENDPOINT[,ENDPOINT...]", defaultValue = "tcp://127.0.0.1:9090",
            scope = ScopeType.INHERIT, description = "The server's command endpoint (default: ${DEFAULT-VALUE}), or"
                    + " those of the members of a replicated group, comma-separated: appends follow the leader.")
    String endpoint;

    @Option(names = "--feed-endpoint", paramLabel = "ENDPOINT", scope = ScopeType.INHERIT,
            description = "The server's live-feed endpoint (default: as the server announces it).")
    String feedEndpoint;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "PT5S", scope = ScopeType.INHERIT,
            description = "How long a request waits for the server, as ISO-8601 (default: 5 s).")
    Duration timeout;

    @Option(names = "--server-key", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "The server's public certificate (or its public key, 40 characters of Z85): speak CURVE to a"
                    + " server started with --curve-secret-key-file. Needs --key.")
    String serverKey;

    @Option(names = "--key", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "This client's secret certificate (NAME_secret of `rewind keygen NAME`), whose public key is"
                    + " in the server's authorized keys. Needs --server-key.")
    Path key;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the tool and returns its exit status. */
    static int run(String... args) {
        CommandLine commandLine = new CommandLine(new RewindCli()).setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setExecutionExceptionHandler((error, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            RewindCli root = cmd.getCommandSpec().root().userObject() instanceof RewindCli r ? r : null;
            String where = root == null ? "the server" : root.endpoint;
            if (error instanceof RequestTimeoutException || error instanceof ServerUnavailableException
                    && String.valueOf(error.getMessage()).contains("requests are already queued")) {
                err.println("rewind: cannot reach the server at " + where + ": " + error.getMessage());
                return UNREACHABLE;
            }
            if (error instanceof AuthenticationException) {
                err.println("rewind: " + error.getMessage());
                return UNREACHABLE;
            }
            if (error instanceof RewindException || error instanceof StorageException
                    || error instanceof UncheckedIOException
                    || error instanceof IOException || error instanceof IllegalArgumentException) {
                err.println("rewind: " + error.getMessage());
                return FAILED;
            }
            err.println("rewind: failed: " + error);
            return FAILED;
        });
        return commandLine.execute(args);
    }

    /** A client of the server these options name. */
    RewindClient client() {
        RewindClient.Builder builder = RewindClient.builder().commandEndpoints(endpoint.split(","))
                .requestTimeout(timeout);
        if (feedEndpoint != null) {
            builder.streamEndpoint(feedEndpoint);
        }
        if (serverKey != null || key != null) {
            if (serverKey == null || key == null) {
                throw new IllegalArgumentException("CURVE needs both --server-key (the server's public key) and --key"
                        + " (this client's secret certificate)");
            }
            if (serverKey.length() == 40 && !Files.exists(Path.of(serverKey))) {
                builder.curveServerKey(serverKey);
            } else {
                builder.curveServerKeyFile(Path.of(serverKey));
            }
            builder.curveKeyPairFile(key);
        }
        return builder.build();
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = RewindCli.class.getPackage().getImplementationVersion();
            return new String[] {"rewind " + (version == null ? "(development build)" : version)};
        }
    }
}
