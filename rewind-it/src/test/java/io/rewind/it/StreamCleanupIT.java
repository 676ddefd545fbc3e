package io.rewind.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rewind.client.AppendResult;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.StreamNotFoundException;
import io.rewind.testkit.ServerGroup;
import io.rewind.testkit.ServerProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the background cleanup removes from the disk, and that a SIGKILL in its middle loses nothing else. */
class StreamCleanupIT {
    private static final Path CLI = Path.of(System.getProperty("rewind.cli.jar", "../rewind-cli/target/rewind.jar"));

    @TempDir
    Path tmp;

    /** The data directory's files that hold these bytes (tables, write-ahead logs, RocksDB's own logs). */
    private static List<Path> filesHolding(Path dir, byte[] marker) throws IOException {
        List<Path> holding = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                byte[] content;
                try {
                    content = Files.readAllBytes(file);
                } catch (IOException gone) {
                    continue; // deleted meanwhile
                }
                if (indexOf(content, marker) >= 0) {
                    holding.add(file.getFileName());
                }
            }
        }
        return holding;
    }

    private static int indexOf(byte[] content, byte[] marker) {
        outer:
        for (int i = 0; i + marker.length <= content.length; i++) {
            for (int j = 0; j < marker.length; j++) {
                if (content[i + j] != marker[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void erasedAndDeletedBytesAreInNoFileOfTheDataDirectoryAfterTheCleanup() throws Exception {
        Path data = tmp.resolve("data");
        byte[] erasedMarker = ("ERASED-" + UUID.randomUUID()).getBytes(US_ASCII);
        byte[] deletedMarker = ("DELETED-" + UUID.randomUUID()).getBytes(US_ASCII);
        byte[] keptMarker = ("KEPT-" + UUID.randomUUID()).getBytes(US_ASCII);
        try (ServerProcess server = ServerProcess.start("cleanup-marker", data, "rocksdb", "--cleanup-interval", "0.2");
                RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint()).build()) {
            UUID erasedId = UUID.randomUUID();
            client.append("person-7", ExpectedVersion.any(), new EventData(erasedId, "Registered", erasedMarker,
                    erasedMarker));
            client.append("gone", ExpectedVersion.any(), EventData.of("Secret", deletedMarker));
            client.append("kept", ExpectedVersion.any(), EventData.of("Kept", keptMarker));
            for (int i = 0; i < 20; i++) {
                List<EventData> filler = new ArrayList<>();
                for (int j = 0; j < 100; j++) {
                    filler.add(EventData.of("Filler", new byte[200]));
                }
                client.append("filler-" + i, ExpectedVersion.any(), filler);
            }
            assertThat(filesHolding(data, erasedMarker)).as("the marker was written").isNotEmpty();

            client.eraseEvent(erasedId);
            client.deleteStream("gone", ExpectedVersion.any());
            server.awaitOutput("compacted 1 erased events away", Duration.ofSeconds(30));

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            List<Path> erasedIn = filesHolding(data, erasedMarker);
            List<Path> deletedIn = filesHolding(data, deletedMarker);
            while ((!erasedIn.isEmpty() || !deletedIn.isEmpty()) && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(100); // RocksDB deletes the obsolete files after the compaction
                erasedIn = filesHolding(data, erasedMarker);
                deletedIn = filesHolding(data, deletedMarker);
            }
            assertThat(erasedIn).as("files that still hold the erased bytes").isEmpty();
            assertThat(deletedIn).as("files that still hold the deleted stream's bytes").isEmpty();
            assertThat(filesHolding(data, keptMarker)).as("what was not removed is still there").isNotEmpty();
            RecordedEvent erased = client.readStream("person-7").toList().get(0);
            assertThat(erased.erased()).isTrue();
            assertThat(erased.eventId()).isEqualTo(erasedId);
            assertThat(client.readStream("kept").toList().get(0).data()).isEqualTo(keptMarker);
        }
    }

    /**
     * In a replicated group each member's Raft log also holds the erased bytes (in the entry that appended them), and
     * so may its snapshot: they leave those too, on every member, and the group goes on serving.
     */
    @Test
    void anErasedEventIsInNoFileOfAnyMemberOfAGroup() throws Exception {
        byte[] erasedMarker = ("ERASED-" + UUID.randomUUID()).getBytes(US_ASCII);
        byte[] keptMarker = ("KEPT-" + UUID.randomUUID()).getBytes(US_ASCII);
        Duration patience = Duration.ofSeconds(60);
        try (ServerGroup group = ServerGroup.start(tmp.resolve("group"), 3, "--cleanup-interval", "0.2")) {
            group.awaitLeader(patience);
            try (RewindClient client = group.client()) {
                UUID erasedId = UUID.randomUUID();
                client.append("person-8", ExpectedVersion.any(), new EventData(erasedId, "Registered", erasedMarker,
                        erasedMarker));
                AppendResult kept = client.append("kept", ExpectedVersion.any(), EventData.of("Kept", keptMarker));
                group.awaitApplied(kept.lastPosition(), patience);
                for (int member = 0; member < group.size(); member++) {
                    assertThat(filesHolding(group.member(member).dataDir(), erasedMarker))
                            .as("member %s wrote the marker", group.id(member)).isNotEmpty();
                }

                client.eraseEvent(erasedId);
                for (int member = 0; member < group.size(); member++) {
                    group.member(member).awaitOutput("Erased events are gone from member", patience);
                }
                for (int member = 0; member < group.size(); member++) {
                    Path data = group.member(member).dataDir();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    List<Path> erasedIn = filesHolding(data, erasedMarker);
                    while (!erasedIn.isEmpty() && System.nanoTime() < deadline) {
                        TimeUnit.MILLISECONDS.sleep(100); // RocksDB and Ratis delete obsolete files in the background
                        erasedIn = filesHolding(data, erasedMarker);
                    }
                    assertThat(erasedIn).as("files of member %s that still hold the erased bytes", group.id(member))
                            .isEmpty();
                    assertThat(filesHolding(data, keptMarker)).as("member %s keeps what was not erased",
                            group.id(member)).isNotEmpty();
                }

                // The leadership moved on the way; the group goes on, the erased event in place on every member.
                AppendResult after = client.append("kept", ExpectedVersion.any(), EventData.of("Kept", "after"));
                group.awaitApplied(after.lastPosition(), patience);
                for (int member = 0; member < group.size(); member++) {
                    List<RecordedEvent> person = group.log(member).stream()
                            .filter(e -> e.stream().equals("person-8")).toList();
                    assertThat(person).hasSize(1);
                    assertThat(person.get(0).erased()).isTrue();
                    assertThat(person.get(0).eventId()).isEqualTo(erasedId);
                }
            }
        }
    }

    @Test
    void aSigkillInTheMiddleOfACleanupLeavesAStoreWhoseReadsMatchTheModel() throws Exception {
        Path data = tmp.resolve("killed");
        try (ServerProcess server = ServerProcess.start("cleanup-kill", data, "rocksdb", "--cleanup-interval", "0.2",
                "--cleanup-rate", "1000")) {
            try (RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                    .requestTimeout(Duration.ofSeconds(30)).build()) {
                for (int s = 0; s < 20; s++) {
                    List<EventData> events = new ArrayList<>();
                    for (int i = 0; i < 300; i++) {
                        events.add(EventData.of("E", "s" + s + "-" + i));
                    }
                    client.append("stream-" + s, ExpectedVersion.noStream(), events);
                }
                for (int s = 0; s < 20; s += 2) {
                    client.deleteStream("stream-" + s, ExpectedVersion.exact(299));
                }
                client.truncateStream("stream-1", 150);
            }
            // 3,150 events to remove at 1,000 a second: the kill lands in the middle.
            server.awaitOutput("Cleanup: removing", Duration.ofSeconds(30));
            server.kill();
            server.restart();
            try (RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                    .requestTimeout(Duration.ofSeconds(30)).build()) {
                assertModel(client);
                server.awaitOutput("Cleanup: removed", Duration.ofSeconds(60));
                assertModel(client);
                client.append("stream-0", ExpectedVersion.exact(299), EventData.of("E", "after"));
                assertThat(client.readStream("stream-0").map(RecordedEvent::dataAsString)).containsExactly("after");
            }
            assertThat(server.stop()).isZero();
        }
        Process verify = new ProcessBuilder("java", "-jar", CLI.toString(), "verify", "--data-dir", data.toString())
                .redirectErrorStream(true).start();
        String output = new String(verify.getInputStream().readAllBytes(), US_ASCII);
        assertThat(verify.waitFor()).as(output).isZero();
        assertThat(output).contains("ok");
    }

    /** Even streams deleted, stream-1 truncated before 150, the other odd streams whole. */
    private static void assertModel(RewindClient client) {
        for (int s = 0; s < 20; s++) {
            String stream = "stream-" + s;
            if (s % 2 == 0) {
                assertThatThrownBy(() -> client.readStream(stream)).isInstanceOf(StreamNotFoundException.class);
            } else {
                long first = s == 1 ? 150 : 0;
                assertThat(client.readStream(stream).map(RecordedEvent::streamVersion).toList())
                        .as(stream).isEqualTo(java.util.stream.LongStream.range(first, 300).boxed().toList());
            }
        }
        List<RecordedEvent> all = client.readAll().toList();
        assertThat(all).hasSize(9 * 300 + 150);
        assertThat(all).allMatch(e -> Integer.parseInt(e.stream().substring(7)) % 2 == 1);
    }
}
