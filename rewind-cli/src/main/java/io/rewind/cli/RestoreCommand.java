package io.rewind.cli;

import io.rewind.server.storage.StoreBackup;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "restore", mixinStandardHelpOptions = true,
        description = {"Build a data directory from the newest backup in BACKUP, offline. A server started on it"
                + " serves every event up to the position the backup holds."})
final class RestoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "BACKUP", description = "The backup directory.")
    Path backup;

    @Option(names = "--data-dir", paramLabel = "DIR", required = true,
            description = "The data directory to build: empty or new.")
    Path dataDir;

    @Override
    public Integer call() {
        long position;
        try (Progress progress = Progress.start("restoring " + backup, Progress.Unit.BYTES,
                StoreBackup.newestBackupBytes(backup), () -> Progress.directorySize(dataDir))) {
            position = StoreBackup.restore(backup, dataDir);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("restored %s into %s: positions 0..%d%n", backup, dataDir, position);
        out.flush();
        return 0;
    }
}
