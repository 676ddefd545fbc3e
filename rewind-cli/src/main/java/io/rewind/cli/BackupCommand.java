package io.rewind.cli;

import io.rewind.client.BackupResult;
import io.rewind.client.RewindClient;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "backup", mixinStandardHelpOptions = true,
        description = {"Have the server back its store up into DIR, a directory on the server's machine, while"
                + " appends go on; incremental when DIR holds earlier backups. Prints the position it holds."})
final class BackupCommand implements Callable<Integer> {
    @ParentCommand
    RewindCli root;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "DIR", description = "Absolute path of the backup directory on the server's machine.")
    String directory;

    @Option(names = "--wait", paramLabel = "DURATION", defaultValue = "PT1H",
            description = "How long to wait for the backup, as ISO-8601 (default: 1 hour).")
    Duration wait;

    @Override
    public Integer call() {
        BackupResult result;
        // The server does the copying and says nothing until it is done; the display shows that it goes on,
        // and how much has reached the directory when it is on this machine too.
        Path local = Path.of(directory);
        try (RewindClient client = root.client();
                Progress progress = Progress.start("backing up into " + directory, Progress.Unit.BYTES, -1,
                        () -> Progress.directorySize(local))) {
            result = client.backup(directory, wait);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("backup %d in %s holds positions 0..%d: %d bytes new, %d in all%n", result.backupId(),
                result.directory(), result.position(), result.newBytes(), result.totalBytes());
        out.flush();
        return 0;
    }
}
