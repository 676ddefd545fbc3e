package io.rewind.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RocksDbStorageTest extends EventStorageContract {
    @TempDir
    Path directory;

    @Override
    EventStorage create() {
        return RocksDbStorage.open(directory.resolve("db"));
    }

    @Test
    void reopeningRecoversPositionsHeadsAndStreamCount() {
        List<StoredEvent> events = appendRoundRobin(7, "x", "y");
        storage.close();

        storage = create();

        assertThat(storage.nextPosition()).isEqualTo(7);
        assertThat(storage.streamCount()).isEqualTo(2);
        assertThat(storage.streamVersion("x")).isEqualTo(3);
        assertThat(storage.streamVersion("y")).isEqualTo(2);
        assertThat(storage.locate(events.get(6).eventId())).contains(new EventLocation("x", 3, 6));
        appendRoundRobin(1, "y");
        assertThat(storage.streamVersion("y")).isEqualTo(3);
    }

    @Test
    void aReplicatedErasureIsPendingInTheRaftLogUntilTheMemberSaysOtherwiseAcrossRestarts() {
        RocksDbStorage rocks = (RocksDbStorage) storage;
        List<StoredEvent> events = appendRoundRobin(3, "person");
        assertThat(rocks.erasureInReplicatedLog()).isNull();

        rocks.appendReplicated(new EventStorage.Changes(List.of(), Map.of(),
                List.of(events.get(1).globalPosition())), 2, 40);
        assertThat(rocks.erasuresCompacted()).isFalse();
        assertThat(rocks.erasureInReplicatedLog()).containsExactly(2, 40);
        // Written alone (not replicated), an erasure leaves no Raft log behind.
        rocks.write(new EventStorage.Changes(List.of(), Map.of(), List.of(events.get(2).globalPosition())),
                true);
        assertThat(rocks.erasureInReplicatedLog()).containsExactly(2, 40);
        storage.close();
        storage = create();
        rocks = (RocksDbStorage) storage;
        assertThat(rocks.erasureInReplicatedLog()).as("after a restart").containsExactly(2, 40);

        rocks.compactErasures();
        assertThat(rocks.erasuresCompacted()).isTrue();
        // A later erasure stays when the earlier is done with.
        rocks.appendReplicated(new EventStorage.Changes(List.of(), Map.of(),
                List.of(events.get(0).globalPosition())), 3, 45);
        rocks.erasedFromReplicatedLog(new long[] {2, 40});
        assertThat(rocks.erasureInReplicatedLog()).containsExactly(3, 45);
        rocks.erasedFromReplicatedLog(new long[] {3, 45});
        assertThat(rocks.erasureInReplicatedLog()).isNull();
        assertThat(storage.readStream("person", 0, ReadDirection.FORWARD, 3, Long.MAX_VALUE)).allMatch(StoredEvent::erased);
    }

    @Test
    void eventsTheCleanupRemovedForTheirAgeStayHidden() {
        RocksDbStorage rocks = (RocksDbStorage) storage;
        appendRoundRobin(3, "aging");
        rocks.write(new EventStorage.Changes(List.of(), Map.of("aging", StreamState.NONE.withRetention(1_000_000, 0)),
                List.of()), true);
        long later = 1_700_000_000L + 10_000_000;
        assertThat(Visibility.firstVisibleVersion(storage, "aging", later)).isEqualTo(3);

        rocks.cleanup(later, 1_000, removed -> { });

        assertThat(storage.removedBelow("aging")).isEqualTo(3);
        // With no commit times left to search, the age limit alone would have made the stream start at 0 again.
        assertThat(Visibility.firstVisibleVersion(storage, "aging", later)).as("after the cleanup").isEqualTo(3);
        assertThat(Visibility.firstVisibleVersion(storage, "aging", later + 60_000_000)).isEqualTo(3);
    }

    @Test
    void aStoreIsMarkedWithItsIdentityAndKeepsItAcrossOpens() throws Exception {
        Path db = directory.resolve("db");
        Properties marker = readMarker(db);
        assertThat(marker.getProperty("format-version")).isEqualTo("1");
        String id = marker.getProperty("store-id");
        assertThat(UUID.fromString(id)).isNotNull();
        storage.close();

        storage = create();

        assertThat(readMarker(db).getProperty("store-id")).isEqualTo(id);
    }

    @Test
    void aStoreWithoutItsCurrentFileIsRefusedAndLeftExactlyAsItWas() throws Exception {
        appendRoundRobin(100, "a", "b");
        storage.close();
        Path db = directory.resolve("db");
        Files.delete(db.resolve("CURRENT"));
        Map<String, String> before = snapshot(db);

        for (int attempt = 0; attempt < 3; attempt++) {
            assertThatThrownBy(this::create).isInstanceOf(StorageException.class)
                    .hasMessageContaining(db.toString()).hasMessageContaining("CURRENT is missing")
                    .hasMessageContaining("MANIFEST-").hasMessageContaining("Nothing was changed");
            assertThat(snapshot(db)).as("the directory after attempt %d", attempt).isEqualTo(before);
        }
        storage = new InMemoryStorage();
    }

    @Test
    void rocksDbFilesWithoutMarkerOrCurrentAreNotTakenForAnEmptyDirectory() throws Exception {
        storage.close();
        Path db = directory.resolve("db");
        Files.delete(db.resolve("CURRENT"));
        Files.delete(db.resolve(StoreDirectory.MARKER));
        Map<String, String> before = snapshot(db);

        assertThatThrownBy(this::create).isInstanceOf(StorageException.class)
                .hasMessageContaining(db.toString()).hasMessageContaining("no CURRENT file")
                .hasMessageContaining("Refusing to create a new store");
        assertThat(snapshot(db)).isEqualTo(before);
        storage = new InMemoryStorage();
    }

    @Test
    void aStoreOfAnEarlierRewindWithoutMarkerIsOpenedAndMarked() throws Exception {
        appendRoundRobin(5, "old");
        storage.close();
        Path db = directory.resolve("db");
        Files.delete(db.resolve(StoreDirectory.MARKER));

        storage = create();

        assertThat(storage.nextPosition()).isEqualTo(5);
        assertThat(db.resolve(StoreDirectory.MARKER)).exists();
    }

    @Test
    void aMarkerOfAnotherStoreOrANewerFormatIsRefused() throws Exception {
        storage.close();
        Path db = directory.resolve("db");
        Path marker = db.resolve(StoreDirectory.MARKER);
        String original = Files.readString(marker);
        UUID other = UUID.randomUUID();
        Files.writeString(marker, original.replaceAll("store-id=.*", "store-id=" + other));
        assertThatThrownBy(this::create).isInstanceOf(StorageException.class)
                .hasMessageContaining("mixes two stores").hasMessageContaining(other.toString());

        Files.writeString(marker, original.replace("format-version=1", "format-version=7"));
        assertThatThrownBy(this::create).isInstanceOf(StorageException.class)
                .hasMessageContaining("format version 7").hasMessageContaining("newer Rewind");

        Files.writeString(marker, "garbage\n");
        assertThatThrownBy(this::create).isInstanceOf(StorageException.class)
                .hasMessageContaining(marker.toString()).hasMessageContaining("damaged");
        storage = new InMemoryStorage();
    }

    @Test
    void filesThatAreNotRocksDbsDoNotStopANewStore() throws Exception {
        Path fresh = directory.resolve("volume");
        Files.createDirectories(fresh.resolve("lost+found"));
        Files.writeString(fresh.resolve("README"), "data of the event store");
        storage.close();

        storage = RocksDbStorage.open(fresh);

        assertThat(fresh.resolve(StoreDirectory.MARKER)).exists();
        assertThat(storage.nextPosition()).isZero();
    }

    private static Properties readMarker(Path db) throws IOException {
        Properties properties = new Properties();
        try (var reader = Files.newBufferedReader(db.resolve(StoreDirectory.MARKER))) {
            properties.load(reader);
        }
        return properties;
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

    @Test
    void aSecondOpenOfTheSameDirectoryFailsNamingIt() {
        assertThatThrownBy(this::create)
                .isInstanceOf(StorageException.class)
                .hasMessageContaining(directory.resolve("db").toString())
                .hasMessageContaining("in use by another process");
    }

    @Test
    void anUncreatableDirectoryIsNamedInTheError() {
        // Tests may run as root, which ignores permissions: a path under a regular file fails for anyone.
        Path underAFile = directory.resolve("db").resolve("CURRENT").resolve("sub");
        assertThatThrownBy(() -> RocksDbStorage.open(underAFile))
                .isInstanceOf(StorageException.class).hasMessageContaining(underAFile.toString());
    }

    @Test
    void theWriterGuardRejectsASecondWritingThread() throws Exception {
        appendRoundRobin(1, "s");
        Thread other = new Thread(() -> assertThatThrownBy(() -> storage.append(
                List.of(event("s", 1, 1, "other thread")), true))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("writer thread"));
        other.start();
        other.join();
        assertThat(storage.nextPosition()).isEqualTo(1);
    }

    /**
     * A store written before tags existed: its events in the first format, no tag and type indexes. The first start
     * builds the indexes; events read as before, without tags; new ones carry theirs.
     */
    @Test
    void aStoreOfAnEarlierRewindGetsItsIndexesAtStart() throws Exception {
        Path db = directory.resolve("db");
        List<StoredEvent> old = appendRoundRobin(2_500, "x", "y", "z");
        storage.close();
        try (org.rocksdb.DBOptions options = new org.rocksdb.DBOptions();
                org.rocksdb.ColumnFamilyOptions family = new org.rocksdb.ColumnFamilyOptions()) {
            List<org.rocksdb.ColumnFamilyDescriptor> descriptors = new java.util.ArrayList<>();
            for (String name : List.of("default", "events", "streams", "heads", "ids", "tags", "types", "lifecycle")) {
                descriptors.add(new org.rocksdb.ColumnFamilyDescriptor(name.getBytes(), family));
            }
            List<org.rocksdb.ColumnFamilyHandle> handles = new java.util.ArrayList<>();
            try (org.rocksdb.RocksDB rocks = org.rocksdb.RocksDB.open(options, db.toString(), descriptors, handles)) {
                for (StoredEvent event : old) {
                    byte[] current = EventCodec.encodeEvent(event, event.stream().getBytes());
                    byte[] first = java.util.Arrays.copyOf(current, current.length - 3);
                    first[0] = 1;
                    rocks.put(handles.get(1), EventCodec.longKey(event.globalPosition()), first);
                }
                rocks.delete(handles.get(0), "indexes_complete".getBytes());
                rocks.dropColumnFamily(handles.get(5));
                rocks.dropColumnFamily(handles.get(6));
                rocks.dropColumnFamily(handles.get(7));
                handles.forEach(org.rocksdb.ColumnFamilyHandle::close);
            }
        }

        storage = create();

        EventQuery typeOne = new EventQuery(List.of(new EventQuery.Item(List.of("Type-1"), List.of())));
        assertThat(storage.readQuery(typeOne, -1, ReadDirection.FORWARD, 10, 1 << 20).events())
                .singleElement().usingRecursiveComparison().isEqualTo(old.get(1));
        assertThat(storage.readAll(0, ReadDirection.FORWARD, 5_000, 1 << 30)).usingRecursiveFieldByFieldElementComparator()
                .isEqualTo(old);
        storage.append(List.of(tagged(2_500, "x", 834, "New", "fresh")), true);
        storage.close();

        storage = create();
        assertThat(storage.readQuery(new EventQuery(List.of(new EventQuery.Item(List.of(), List.of("fresh")))), -1,
                ReadDirection.BACKWARD, 10, 1 << 20).events()).extracting(StoredEvent::globalPosition)
                .containsExactly(2_500L);
    }

    @Test
    void timesAreFoundOverRangesTheCleanupRemoved() {
        List<StoredEvent> events = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            events.add(new StoredEvent(UUID.randomUUID(), "s", i, i, "T", new byte[] {1}, new byte[0], 1_000L * i));
        }
        storage.append(events, true);
        storage.write(new EventStorage.Changes(List.of(), Map.of("s", StreamState.NONE.withTruncateBefore(5)),
                List.of()), true);
        RocksDbStorage rocks = (RocksDbStorage) storage;
        assertThat(rocks.cleanup(Long.MAX_VALUE, 100, removed -> { }).removedEvents()).isEqualTo(5);

        // Removed versions take the time of the first event still stored: a read from there starts at it.
        long found = TimestampSearch.streamVersion(storage, "s", 2_000, ReadDirection.FORWARD);
        assertThat(found).isLessThanOrEqualTo(5);
        assertThat(storage.readStream("s", found, ReadDirection.FORWARD, 1, 1 << 20).get(0).streamVersion())
                .isEqualTo(5);
        assertThat(TimestampSearch.streamVersion(storage, "s", 2_000, ReadDirection.BACKWARD)).isEqualTo(-1);
        assertThat(TimestampSearch.streamVersion(storage, "s", 7_000, ReadDirection.FORWARD)).isEqualTo(7);
        assertThat(TimestampSearch.streamVersion(storage, "s", 7_000, ReadDirection.BACKWARD)).isEqualTo(7);
        assertThat(TimestampSearch.streamVersion(storage, "s", 99_000, ReadDirection.FORWARD)).isEqualTo(10);
        assertThat(TimestampSearch.globalPosition(storage, 3_000, ReadDirection.BACKWARD)).as("none left").isEqualTo(-1);
        assertThat(TimestampSearch.globalPosition(storage, 6_000, ReadDirection.BACKWARD)).isEqualTo(6);
        assertThat(TimestampSearch.globalPosition(storage, 6_500, ReadDirection.FORWARD)).isEqualTo(7);
        assertThat(Visibility.firstVisibleVersion(storage, "s", Long.MAX_VALUE)).isEqualTo(5);
    }
}
