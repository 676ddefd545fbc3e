package io.rewind.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreVerifierTest {
    @TempDir
    Path directory;

    /** A store of 300 events in three streams, closed. */
    private List<StoredEvent> store() {
        List<StoredEvent> events = new ArrayList<>();
        try (RocksDbStorage storage = RocksDbStorage.open(directory)) {
            for (int i = 0; i < 300; i++) {
                String stream = "s" + (i % 3);
                events.add(new StoredEvent(UUID.randomUUID(), stream, i / 3, i, "T",
                        ("e" + i).getBytes(StandardCharsets.UTF_8), new byte[0], 1,
                        i % 10 == 0 ? List.of("tenth", "n:" + i) : List.of()));
            }
            storage.append(events, true);
        }
        return events;
    }

    /** Changes the store with RocksDB directly, as damage would. */
    private interface Damage {
        void apply(RocksDbStorage.Db db) throws Exception;
    }

    private void damage(Damage damage) throws Exception {
        try (RocksDbStorage storage = RocksDbStorage.open(directory)) {
            damage.apply(storage.database());
        }
    }

    @Test
    void aWholeStorePasses() {
        store();
        List<String> progress = new ArrayList<>();
        StoreVerifier.Report report = StoreVerifier.verify(directory, 200, (done, total) -> progress.add(done + "/"
                + total));
        assertThat(report.ok()).as(report.problem()).isTrue();
        assertThat(report.events()).isEqualTo(300);
        assertThat(report.streams()).isEqualTo(3);
        // Four entries an event: the log, then the stream index, the id index and the type index.
        assertThat(progress).containsExactly("0/1200", "200/1200", "400/1200", "600/1200", "800/1200",
                "1000/1200", "1200/1200");
    }

    @Test
    void aMissingStreamIndexEntryIsNamed() throws Exception {
        List<StoredEvent> events = store();
        StoredEvent victim = events.get(151);
        damage(db -> db.rocks().delete(db.streams(), EventCodec.streamKey(EventCodec.streamPrefix(victim.stream()),
                victim.streamVersion())));

        StoreVerifier.Report report = StoreVerifier.verify(directory, (done, total) -> { });

        assertThat(report.problem()).isEqualTo("the event at position 151 (stream 's1' version 50) is missing from"
                + " the stream index");
    }

    @Test
    void aMissingOrStrayQueryIndexEntryIsNamed() throws Exception {
        store();
        damage(db -> db.rocks().delete(db.tags(), EventCodec.indexKey(EventCodec.indexPrefix("n:120"), 120)));
        assertThat(StoreVerifier.verify(directory, (done, total) -> { }).problem())
                .isEqualTo("the event at position 120 (stream 's0' version 40) is missing from the index of tag 'n:120'");

        damage(db -> db.rocks().put(db.tags(), EventCodec.indexKey(EventCodec.indexPrefix("n:120"), 120), new byte[0]));
        damage(db -> db.rocks().put(db.types(), EventCodec.indexKey(EventCodec.indexPrefix("Ghost"), 3), new byte[0]));
        assertThat(StoreVerifier.verify(directory, (done, total) -> { }).problem())
                .isEqualTo("the type index holds 301 entries for 300 events");
    }

    @Test
    void aMissingIdEntryAndAWrongHeadAreNamed() throws Exception {
        List<StoredEvent> events = store();
        damage(db -> db.rocks().delete(db.ids(), EventCodec.uuidKey(events.get(7).eventId())));
        assertThat(StoreVerifier.verify(directory, (done, total) -> { }).problem()).contains("position 7")
                .contains("missing from the id index").contains(events.get(7).eventId().toString());

        damage(db -> db.rocks().put(db.ids(), EventCodec.uuidKey(events.get(7).eventId()),
                EventCodec.encodeLocation(events.get(7), "s1".getBytes(StandardCharsets.UTF_8))));
        damage(db -> db.rocks().put(db.heads(), "s2".getBytes(StandardCharsets.UTF_8), EventCodec.longKey(5)));
        assertThat(StoreVerifier.verify(directory, (done, total) -> { }).problem())
                .isEqualTo("the head of stream 's2' is version 5, but its last event has version 99");
    }

    @Test
    void aDirectoryWithoutAStoreIsSaidSo() {
        assertThatThrownBy(() -> StoreVerifier.verify(directory.resolve("none"), (done, total) -> { }))
                .isInstanceOf(StorageException.class).hasMessageContaining("no data directory");
        assertThatThrownBy(() -> StoreVerifier.verify(directory, (done, total) -> { }))
                .isInstanceOf(StorageException.class).hasMessageContaining("holds no Rewind store");
    }
}
