package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rewind.client.AppendResult;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.ReadOptions;
import io.rewind.client.ReadPage;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.RewindException;
import io.rewind.client.ServerErrorException;
import io.rewind.client.ServerUnavailableException;
import io.rewind.testkit.ServerProcess;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged stores, full disks and exhausted memory, as an operator meets them, against real server
 * processes. In every case nothing acknowledged may be lost, and the server either keeps serving or
 * stops with a message that says why.
 */
class StoreFaultsIT {
    @TempDir
    Path tmp;

    private static RewindClient client(ServerProcess server) {
        return RewindClient.builder().commandEndpoint(server.commandEndpoint())
                .streamEndpoint(server.streamEndpoint()).requestTimeout(Duration.ofSeconds(10)).build();
    }

    /** Appends {@code count} events of {@code size} bytes to the stream, 100 to an append, and returns their ids. */
    private static List<UUID> appendEvents(RewindClient client, String stream, int count, int size) {
        return appendEvents(client, stream, count, size, new ArrayList<>());
    }

    /** Like {@link #appendEvents(RewindClient, String, int, int)}, adding every id it sends to {@code sent}. */
    private static List<UUID> appendEvents(RewindClient client, String stream, int count, int size, List<UUID> sent) {
        List<UUID> ids = new ArrayList<>();
        List<CompletableFuture<AppendResult>> acks = new ArrayList<>();
        for (int start = 0; start < count; start += 100) {
            List<EventData> batch = new ArrayList<>();
            for (int i = start; i < Math.min(count, start + 100); i++) {
                UUID id = UUID.randomUUID();
                ids.add(id);
                batch.add(EventData.of("Filled", payload(i, size)).withId(id));
            }
            sent.addAll(batch.stream().map(EventData::eventId).toList());
            acks.add(client.appendAsync(stream, ExpectedVersion.any(), batch));
        }
        acks.forEach(CompletableFuture::join);
        return ids;
    }

    /** A payload that says which event it is and does not compress to nothing. */
    private static byte[] payload(int i, int size) {
        byte[] bytes = new byte[size];
        new Random(i).nextBytes(bytes);
        byte[] label = ("event " + i + " ").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(label, 0, bytes, 0, Math.min(label.length, size));
        return bytes;
    }

    @Test
    void aStoreWithoutItsCurrentFileIsRefusedUntouchedHoweverOftenItIsStarted() throws Exception {
        Path data = tmp.resolve("data");
        try (ServerProcess server = ServerProcess.start("no-current", data, "rocksdb")) {
            try (RewindClient client = client(server)) {
                appendEvents(client, "kept", 20_000, 100);
            }
            assertThat(server.stop()).isZero();
        }
        byte[] current = Files.readAllBytes(data.resolve("CURRENT"));
        Files.delete(data.resolve("CURRENT"));
        Map<String, String> before = snapshot(data);

        for (int attempt = 1; attempt <= 3; attempt++) {
            Process start = new ProcessBuilder(ServerProcess.command(List.of("--data-dir", data.toString(),
                    "--command-endpoint", "tcp://127.0.0.1:*", "--stream-endpoint", "tcp://127.0.0.1:*")))
                    .redirectErrorStream(true).start();
            String output = new String(start.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(start.waitFor()).as("exit status of start %d:%n%s", attempt, output).isEqualTo(1);
            assertThat(output).contains(data.toString()).contains("CURRENT is missing").contains("MANIFEST-")
                    .doesNotContain("ready");
            assertThat(snapshot(data)).as("the data directory after start %d", attempt).isEqualTo(before);
        }

        // Repaired as the message says, the store has every event.
        Files.write(data.resolve("CURRENT"), current);
        try (ServerProcess server = ServerProcess.start("no-current-repaired", data, "rocksdb");
                RewindClient client = client(server)) {
            assertThat(server.outputText()).contains("Recovered 20000 events in 1 streams");
            assertThat(client.readStream("kept").count()).isEqualTo(20_000);
        }
    }

    @Test
    void aCorruptBlockFailsTheReadsThatMeetItNamingPositionAndFileAndTheServerGoesOn() throws Exception {
        Path data = tmp.resolve("data");
        int events = 20_000;
        try (ServerProcess server = ServerProcess.start("corrupt", data, "rocksdb")) {
            try (RewindClient client = client(server)) {
                appendEvents(client, "victim", events, 200);
            }
            // A clean stop flushes the memtables: the events are in table files now.
            assertThat(server.stop()).isZero();

            // The events' table is the largest; its data blocks come first, its index last.
            Path table;
            try (Stream<Path> files = Files.list(data)) {
                table = files.filter(f -> f.toString().endsWith(".sst"))
                        .max(Comparator.comparingLong(StoreFaultsIT::size)).orElseThrow();
            }
            try (RandomAccessFile file = new RandomAccessFile(table.toFile(), "rw")) {
                long middle = file.length() / 2;
                for (int i = 0; i < 16; i++) {
                    file.seek(middle + i);
                    int b = file.read();
                    file.seek(middle + i);
                    file.write(b ^ 0xFF);
                }
            }

            server.restart();
            try (RewindClient client = client(server)) {
                // The paged read of the whole log fails with an error, never loops on an empty page.
                assertThatThrownBy(() -> client.readAll().count()).isInstanceOf(ServerErrorException.class)
                        .hasMessageContaining("global log").hasMessageContaining("position")
                        .hasMessageContaining(table.getFileName().toString());
                assertThatThrownBy(() -> client.readStream("victim").count()).isInstanceOf(ServerErrorException.class)
                        .hasMessageContaining("'victim'").hasMessageContaining(table.getFileName().toString());
                // Page by page, as a client in another language would: each answer is progress or an error.
                long from = 0;
                int pages = 0;
                while (true) {
                    ReadPage page;
                    try {
                        page = client.readAllPageAsync(ReadOptions.forwards().from(from).pageSize(500)).join();
                    } catch (CompletionException e) {
                        assertThat(e.getCause()).isInstanceOf(ServerErrorException.class);
                        break;
                    }
                    assertThat(page.endReached()).as("the log was read to its end past a corrupt block").isFalse();
                    assertThat(page.events()).as("a page that makes no progress").isNotEmpty();
                    from = page.nextFrom();
                    assertThat(++pages).isLessThan(events / 500 + 1);
                }
                assertThat(from).as("the pages before the damage were served").isPositive().isLessThan(events);

                // What is not damaged is served, and appends go on.
                assertThat(client.readAll(ReadOptions.backwards().maxCount(10)).count()).isEqualTo(10);
                assertThat(client.append("after", ExpectedVersion.noStream(), EventData.of("Still", "here"))
                        .firstPosition()).isEqualTo(events);
                assertThat(client.serverInfo().headPosition()).isEqualTo(events);
            }
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void theMemoryStoreRefusesAppendsAtItsBoundAndKeepsServingReads() {
        // The default bound is half the heap: it must refuse before the heap runs out.
        try (ServerProcess server = ServerProcess.start("memory-bound", tmp, "memory", List.of("-Xmx128m"));
                RewindClient client = client(server)) {
            assertThat(server.outputText()).contains("In-memory store: up to 64 MiB");
            long stored = 0;
            ServerUnavailableException refused = null;
            while (refused == null) {
                try {
                    appendEvents(client, "big", 1_000, 1024);
                    stored += 1_000;
                } catch (CompletionException e) {
                    assertThat(e.getCause()).isInstanceOf(ServerUnavailableException.class);
                    refused = (ServerUnavailableException) e.getCause();
                }
                assertThat(stored).as("events stored before a refusal").isLessThan(200_000);
            }
            assertThat(refused).hasMessageContaining("in-memory store is full").hasMessageContaining("--memory-limit");
            assertThat(stored).isGreaterThan(30_000);
            assertThat(server.process().isAlive()).isTrue();
            long head = client.serverInfo().headPosition();
            assertThat(client.readAll(ReadOptions.forwards().maxCount(5_000)).count()).isEqualTo(5_000);
            assertThatThrownBy(() -> client.append("big", ExpectedVersion.any(),
                    EventData.of("More", new byte[1000 << 10]))).isInstanceOf(ServerUnavailableException.class);
            assertThat(client.serverInfo().headPosition()).isEqualTo(head);
            assertThat(server.stop()).isZero();
        }
    }

    @Test
    void anOutOfMemoryErrorEndsTheServerAtOnceWithStatus3() {
        // A bound above the heap lets the server run out of memory, as any other cause would.
        try (ServerProcess server = ServerProcess.start("out-of-memory", tmp, "memory", List.of("-Xmx64m"),
                "--memory-limit", "1GiB");
                RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                        .requestTimeout(Duration.ofSeconds(2)).build()) {
            assertThat(server.outputText()).contains("--memory-limit 1024 MiB is more than three quarters of the");
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (server.process().isAlive() && System.nanoTime() < deadline) {
                try {
                    appendEvents(client, "huge", 200, 16 * 1024);
                } catch (RuntimeException e) {
                    // Timeouts and refusals while it dies.
                }
            }
            assertThat(server.awaitExit(Duration.ofSeconds(30))).as("exit status:%n%s", server.outputText())
                    .isEqualTo(3);
            assertThat(server.outputText()).contains("Fatal java.lang.OutOfMemoryError")
                    .contains("exiting with status 3");
        }
    }

    @Test
    void belowTheFreeSpaceReserveAppendsAreRefusedAndResumeOnceSpaceIsFreed() throws Exception {
        try (Tmpfs disk = Tmpfs.mountOrSkip(tmp.resolve("disk"), 256)) {
            Path data = disk.path().resolve("data");
            List<UUID> acknowledged = new ArrayList<>();
            try (ServerProcess server = ServerProcess.start("reserve", data, "rocksdb", "--min-free-space", "32MiB");
                    RewindClient client = client(server)) {
                acknowledged.addAll(appendEvents(client, "s", 2_000, 500));
                Path filler = disk.fill(20L << 20);

                // Free space is checked every 100 ms: appends until then are taken.
                ServerUnavailableException refused = awaitRefusal(() -> acknowledged.addAll(appendEvents(client, "s", 1,
                        100)), ServerUnavailableException.class);
                assertThat(refused).hasMessageContaining("almost full").hasMessageContaining("--min-free-space")
                        .hasMessageContaining(data.toString());
                assertThat(client.readStream("s").count()).as("reads go on").isEqualTo(acknowledged.size());
                server.awaitOutput("Refusing appends", Duration.ofSeconds(10));

                // The reserve is what lets the store restart with the disk still this full.
                assertThat(server.stop()).isZero();
                server.restart();
                try (RewindClient again = client(server)) {
                    assertThat(again.readStream("s").count()).isEqualTo(acknowledged.size());
                    awaitRefusal(() -> acknowledged.addAll(appendEvents(again, "s", 1, 100)),
                            ServerUnavailableException.class);
                }

                Files.delete(filler);
                awaitSuccess(() -> acknowledged.addAll(appendEvents(client, "s", 100, 500)));
                server.awaitOutput("Taking appends again", Duration.ofSeconds(10));
                assertThat(server.stop()).isZero();
                server.restart();
                try (RewindClient reader = client(server)) {
                    assertThat(reader.readStream("s").map(RecordedEvent::eventId).toList())
                            .containsExactlyElementsOf(acknowledged);
                }
            }
        }
    }

    @Test
    void whenRocksDbItselfRunsOutOfSpaceAppendsResumeByThemselvesOnceSpaceIsFreed() throws Exception {
        try (Tmpfs disk = Tmpfs.mountOrSkip(tmp.resolve("disk"), 256)) {
            Path data = disk.path().resolve("data");
            List<UUID> acknowledged = new ArrayList<>();
            List<UUID> sent = new ArrayList<>();
            // No reserve: RocksDB's own writes fail, which the server must recover from without a restart.
            try (ServerProcess server = ServerProcess.start("enospc", data, "rocksdb", "--min-free-space", "0");
                    RewindClient client = client(server)) {
                acknowledged.addAll(appendEvents(client, "s", 1_000, 500));
                Path filler = disk.fill(1L << 20);

                RewindException failed = awaitRefusal(() -> acknowledged.addAll(appendEvents(client, "s", 100, 4096,
                        sent)), RewindException.class);
                assertThat(failed).hasMessageContaining("No space left on device");
                assertThat(client.readStream("s").count()).as("reads go on")
                        .isEqualTo(acknowledged.size());

                Files.delete(filler);
                assertResumesAndRestarts(server, client, acknowledged, sent);
            }
        }
    }

    /**
     * A write-ahead log larger than what is free once space returns: a reopen that first flushed the log into a new
     * table file (RocksDB's default) needed as much space again as the log and failed every second, for good; so did
     * a restart. Recovery must not need more than a little free space.
     */
    @Test
    void aStoreWhoseLogOutgrewTheFreeSpaceRecoversOnceALittleIsFree() throws Exception {
        try (Tmpfs disk = Tmpfs.mountOrSkip(tmp.resolve("disk"), 64)) {
            Path data = disk.path().resolve("data");
            List<UUID> acknowledged = new ArrayList<>();
            List<UUID> sent = new ArrayList<>();
            try (ServerProcess server = ServerProcess.start("small-disk", data, "rocksdb", "--min-free-space", "0");
                    RewindClient client = client(server)) {
                // About 34 MiB of events: they stay in the memtables and the write-ahead log.
                acknowledged.addAll(appendEvents(client, "s", 30_000, 1_000, sent));
                Path filler = disk.fill(1L << 20);
                awaitRefusal(() -> acknowledged.addAll(appendEvents(client, "s", 100, 4096, sent)),
                        RewindException.class);
                Files.delete(filler);
                assertThat(disk.free()).as("less free than the log holds").isLessThan(34L << 20);

                assertResumesAndRestarts(server, client, acknowledged, sent);
            }
            // A reserve larger than the whole disk could never be free: the start says so.
            try (ServerProcess tooLarge = ServerProcess.start("reserve-too-large", disk.path().resolve("other"),
                    "rocksdb", "--min-free-space", "1GiB")) {
                tooLarge.awaitOutput("less than the reserve of 1024.0 MiB (--min-free-space): every append will be"
                        + " refused", Duration.ofSeconds(10));
            }
        }
    }

    /**
     * Once space is back: appends resume by themselves, the stream holds every acknowledged one, and so it does
     * after a clean stop and a restart, which takes appends too.
     */
    private static void assertResumesAndRestarts(ServerProcess server, RewindClient client, List<UUID> acknowledged,
            List<UUID> sent) {
        awaitSuccess(() -> acknowledged.addAll(appendEvents(client, "s", 100, 500, sent)));
        assertHoldsEveryAcknowledged(client.readStream("s").map(RecordedEvent::eventId).toList(), acknowledged, sent);
        assertThat(server.stop()).isZero();
        server.restart();
        try (RewindClient reader = client(server)) {
            assertHoldsEveryAcknowledged(reader.readStream("s").map(RecordedEvent::eventId).toList(), acknowledged,
                    sent);
            acknowledged.addAll(appendEvents(reader, "s", 100, 500, sent));
        }
    }

    /**
     * The stream holds every acknowledged event, in order. A write that failed may still have reached
     * the write-ahead log, and the reopen that recovers from the failure then replays it: such
     * unacknowledged events may stand beside them, never anything that was not sent.
     */
    private static void assertHoldsEveryAcknowledged(List<UUID> stored, List<UUID> acknowledged, List<UUID> sent) {
        Set<UUID> acked = new HashSet<>(acknowledged);
        assertThat(stored.stream().filter(acked::contains).toList()).containsExactlyElementsOf(acknowledged);
        assertThat(sent).containsAll(stored.stream().filter(id -> !acked.contains(id)).toList());
        assertThat(new HashSet<>(stored)).as("stored once").hasSameSizeAs(stored);
    }

    /** Repeats the action until it fails with this exception (a failure in an async append counts too). */
    private static <E extends RewindException> E awaitRefusal(Runnable action, Class<E> type) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                action.run();
            } catch (CompletionException e) {
                if (type.isInstance(e.getCause())) {
                    return type.cast(e.getCause());
                }
                throw e;
            } catch (RewindException e) {
                if (type.isInstance(e)) {
                    return type.cast(e);
                }
                throw e;
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " within 60 s");
    }

    /** Repeats the action until it succeeds, for at most 60 s. */
    private static void awaitSuccess(Runnable action) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try {
                action.run();
                return;
            } catch (RewindException | CompletionException e) {
                last = e;
                pause();
            }
        }
        throw new AssertionError("still failing after 60 s", last);
    }

    /** Paces a retry loop that polls the server; the test waits on the condition, not on the pause. */
    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Every file's name, size and content hash. */
    private static Map<String, String> snapshot(Path dir) throws Exception {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path file : list.toList()) {
                byte[] content = Files.readAllBytes(file);
                files.put(file.getFileName().toString(), content.length + " "
                        + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content)));
            }
        }
        return files;
    }
}
