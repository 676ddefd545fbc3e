package io.rewind.cli;

import io.rewind.server.storage.StoreVerifier;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Check a stopped store offline, read-only: positions dense, stream versions dense, every"
                + " index entry pointing at its event and back, heads and counts right. Names the first problem"
                + " found and exits 1."})
final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data-dir", paramLabel = "DIR", required = true, description = "The store's data directory.")
    Path dataDir;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        AtomicLong checked = new AtomicLong();
        StoreVerifier.Report report;
        try (Progress progress = Progress.start("verifying " + dataDir, Progress.Unit.ENTRIES, -1, checked::get)) {
            report = StoreVerifier.verify(dataDir, (done, total) -> {
                progress.total(total);
                checked.set(done);
            });
        }
        if (report.ok()) {
            out.printf("ok: %d events in %d streams in %s, every index entry checked%n", report.events(),
                    report.streams(), dataDir);
            out.flush();
            return 0;
        }
        spec.commandLine().getErr().printf("rewind: the store in %s is damaged: %s%n", dataDir, report.problem());
        return RewindCli.FAILED;
    }
}
