package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rewind.client.BackupResult;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.InvalidRequestException;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.RewindException;
import io.rewind.testkit.ServerProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Online backups while clients append, restored offline and compared event by event. */
class BackupIT {
    private static final Path CLI = Path.of(System.getProperty("rewind.cli.jar", "../rewind-cli/target/rewind.jar"));
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @Test
    void backupsTakenWhileEightClientsAppendRestoreEventForEventUpToTheirPosition() throws Exception {
        Path backups = tmp.resolve("backups").toAbsolutePath();
        List<RecordedEvent> original;
        BackupResult first;
        BackupResult second;
        try (ServerProcess server = ServerProcess.start("backup", tmp.resolve("data"), "rocksdb")) {
            AtomicBoolean writing = new AtomicBoolean(true);
            List<Thread> writers = new ArrayList<>();
            List<RewindClient> clients = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint()).build();
                clients.add(client);
                String stream = "backup-" + i;
                Thread writer = new Thread(() -> {
                    int n = 0;
                    while (writing.get()) {
                        client.append(stream, ExpectedVersion.any(), EventData.of("Written", "event " + n++),
                                EventData.of("Written", "event " + n++));
                    }
                }, "writer-" + i);
                writers.add(writer);
                writer.start();
            }
            try (RewindClient admin = RewindClient.builder().commandEndpoint(server.commandEndpoint()).build()) {
                SubscriptionIT.await("2,000 events", WAIT, () -> admin.serverInfo().headPosition() > 2_000);
                first = admin.backup(backups.toString(), WAIT);
                long afterFirst = first.position();
                SubscriptionIT.await("more events", WAIT, () -> admin.serverInfo().headPosition() > afterFirst + 2_000);
                second = admin.backup(backups.toString(), WAIT);
                writing.set(false);
                for (Thread writer : writers) {
                    writer.join(30_000);
                }
                clients.forEach(RewindClient::close);
                original = admin.readAll().toList();
            }
            assertThat(server.stop()).isZero();
        }
        assertThat(first.backupId()).isEqualTo(1);
        assertThat(first.position()).isGreaterThan(2_000);
        assertThat(second.backupId()).isEqualTo(2);
        assertThat(second.position()).isGreaterThan(first.position() + 2_000).isLessThan(original.size());
        assertThat(second.newBytes()).as("the second backup shares files with the first").isLessThan(second.totalBytes());
        assertThat(first.directory()).isEqualTo(backups.toString());

        Path restored = tmp.resolve("restored");
        CliIT.Run restore = cli("restore", backups.toString(), "--data-dir", restored.toString());
        assertThat(restore.status()).as(restore.err()).isZero();
        assertThat(restore.out()).isEqualTo("restored " + backups + " into " + restored + ": positions 0.."
                + second.position());
        assertThat(cli("verify", "--data-dir", restored.toString()).out()).startsWith("ok: " + (second.position() + 1)
                + " events");

        try (ServerProcess again = ServerProcess.start("restored", restored, "rocksdb");
                RewindClient client = RewindClient.builder().commandEndpoint(again.commandEndpoint()).build()) {
            List<RecordedEvent> back = client.readAll().toList();
            assertThat(back).hasSize((int) second.position() + 1);
            for (int i = 0; i < back.size(); i++) {
                assertThat(back.get(i)).as("position %d", i).isEqualTo(original.get(i));
            }
            // The restored store goes on where the backup ends.
            assertThat(client.append("after-restore", ExpectedVersion.noStream(), EventData.of("New", "x"))
                    .firstPosition()).isEqualTo(second.position() + 1);
        }

        CliIT.Run twice = cli("restore", backups.toString(), "--data-dir", restored.toString());
        assertThat(twice.status()).isEqualTo(1);
        assertThat(twice.err()).contains("already holds a store");
    }

    @Test
    void badBackupRequestsAreRefusedAndTheToolPrintsWhatABackupHolds() throws Exception {
        try (ServerProcess memory = ServerProcess.start("backup-memory", tmp.resolve("m"), "memory");
                RewindClient client = RewindClient.builder().commandEndpoint(memory.commandEndpoint()).build()) {
            assertThatThrownBy(() -> client.backup(tmp.resolve("b").toAbsolutePath().toString(), WAIT))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("keeps nothing to back up");
        }
        Path data = tmp.resolve("data").toAbsolutePath();
        try (ServerProcess server = ServerProcess.start("backup-checks", data, "rocksdb");
                RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint()).build()) {
            assertThatThrownBy(() -> client.backup("relative/dir", WAIT)).isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("absolute path");
            assertThatThrownBy(() -> client.backup(data.resolve("inside").toString(), WAIT))
                    .isInstanceOf(InvalidRequestException.class).hasMessageContaining("inside the data directory");
            Path file = tmp.resolve("a-file").toAbsolutePath();
            Files.writeString(file, "not a directory");
            assertThatThrownBy(() -> client.backup(file.toString(), WAIT)).isInstanceOf(RewindException.class)
                    .hasMessageContaining(file.toString());

            client.append("s", ExpectedVersion.any(), EventData.of("E", "1".getBytes(StandardCharsets.UTF_8)));
            CliIT.Run backup = cli("backup", tmp.resolve("cli-backups").toAbsolutePath().toString(), "--endpoint",
                    server.commandEndpoint());
            assertThat(backup.status()).as(backup.err()).isZero();
            Matcher matcher = Pattern.compile("backup 1 in (\\S+) holds positions 0\\.\\.0: (\\d+) bytes new, (\\d+) in all")
                    .matcher(backup.out());
            assertThat(matcher.matches()).as(backup.out()).isTrue();
            assertThat(Long.parseLong(matcher.group(2))).isPositive();
        }
    }

    private static CliIT.Run cli(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", CLI.toAbsolutePath().toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).start();
        process.getOutputStream().close();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new CliIT.Run(process.exitValue(), out, err);
    }
}
