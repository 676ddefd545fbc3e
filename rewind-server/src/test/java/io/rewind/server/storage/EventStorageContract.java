package io.rewind.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every storage engine must do; each engine's test extends this once. */
abstract class EventStorageContract {
    EventStorage storage;

    abstract EventStorage create();

    @BeforeEach
    void open() {
        storage = create();
    }

    @AfterEach
    void close() {
        storage.close();
    }

    static StoredEvent event(String stream, long version, long position, String data) {
        return new StoredEvent(UUID.randomUUID(), stream, version, position, "Type-" + data,
                data.getBytes(StandardCharsets.UTF_8), ("m" + data).getBytes(StandardCharsets.UTF_8), 1_700_000_000L);
    }

    /** Appends events to the given streams (round robin), continuing each stream and the log. */
    List<StoredEvent> appendRoundRobin(int count, String... streams) {
        List<StoredEvent> events = new ArrayList<>();
        long position = storage.nextPosition();
        for (int i = 0; i < count; i++) {
            String stream = streams[i % streams.length];
            long version = storage.streamVersion(stream) + 1 + events.stream().filter(e -> e.stream().equals(stream))
                    .count();
            events.add(event(stream, version, position++, Integer.toString(i)));
        }
        storage.append(events, true);
        return events;
    }

    static List<String> data(List<StoredEvent> events) {
        return events.stream().map(e -> new String(e.data(), StandardCharsets.UTF_8)).toList();
    }

    @Test
    void anEmptyStoreHasNothing() {
        assertThat(storage.nextPosition()).isZero();
        assertThat(storage.streamCount()).isZero();
        assertThat(storage.streamVersion("any")).isEqualTo(-1);
        assertThat(storage.locate(UUID.randomUUID())).isEmpty();
        assertThat(storage.readAll(0, ReadDirection.FORWARD, 10, 1 << 20)).isEmpty();
        assertThat(storage.readAll(Long.MAX_VALUE, ReadDirection.BACKWARD, 10, 1 << 20)).isEmpty();
        assertThat(storage.readStream("any", 0, ReadDirection.FORWARD, 10, 1 << 20)).isEmpty();
    }

    @Test
    void storesEveryFieldAndIndexesIt() {
        StoredEvent stored = event("orders", 0, 0, "x");
        storage.append(List.of(stored), true);

        List<StoredEvent> read = storage.readAll(0, ReadDirection.FORWARD, 10, 1 << 20);
        assertThat(read).hasSize(1);
        StoredEvent back = read.get(0);
        assertThat(back).usingRecursiveComparison().isEqualTo(stored);
        assertThat(storage.locate(stored.eventId())).contains(new EventLocation("orders", 0, 0));
        assertThat(storage.streamVersion("orders")).isZero();
        assertThat(storage.streamCount()).isEqualTo(1);
        assertThat(storage.nextPosition()).isEqualTo(1);
    }

    @Test
    void locatesManyIdsAtOnceAndLeavesOutTheUnknownOnes() {
        List<StoredEvent> events = appendRoundRobin(300, "a", "b");
        UUID unknown = UUID.randomUUID();
        List<UUID> asked = new ArrayList<>(List.of(unknown, events.get(0).eventId(), events.get(299).eventId()));
        events.subList(100, 200).forEach(e -> asked.add(e.eventId()));

        java.util.Map<UUID, EventLocation> found = storage.locateAll(asked);

        assertThat(found).hasSize(102).doesNotContainKey(unknown);
        assertThat(found.get(events.get(0).eventId())).isEqualTo(new EventLocation("a", 0, 0));
        assertThat(found.get(events.get(299).eventId())).isEqualTo(new EventLocation("b", 149, 299));
        for (StoredEvent event : events.subList(100, 200)) {
            assertThat(found.get(event.eventId())).isEqualTo(event.location());
        }
        assertThat(storage.locateAll(List.of())).isEmpty();
    }

    @Test
    void readsTheGlobalLogBothWaysFromAnyPoint() {
        appendRoundRobin(10, "a", "b", "c");

        assertThat(data(storage.readAll(0, ReadDirection.FORWARD, 100, 1 << 20)))
                .containsExactly("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
        assertThat(data(storage.readAll(7, ReadDirection.FORWARD, 100, 1 << 20))).containsExactly("7", "8", "9");
        assertThat(data(storage.readAll(3, ReadDirection.FORWARD, 2, 1 << 20))).containsExactly("3", "4");
        assertThat(data(storage.readAll(4, ReadDirection.BACKWARD, 3, 1 << 20))).containsExactly("4", "3", "2");
        assertThat(data(storage.readAll(Long.MAX_VALUE, ReadDirection.BACKWARD, 2, 1 << 20)))
                .containsExactly("9", "8");
        assertThat(storage.readAll(10, ReadDirection.FORWARD, 5, 1 << 20)).isEmpty();
    }

    @Test
    void readsOneStreamWithoutItsPrefixNeighbours() {
        // "a" is a prefix of "ab": a stream read must not leak the other's events.
        appendRoundRobin(9, "a", "ab", "b");

        assertThat(data(storage.readStream("a", 0, ReadDirection.FORWARD, 100, 1 << 20)))
                .containsExactly("0", "3", "6");
        assertThat(data(storage.readStream("ab", 0, ReadDirection.FORWARD, 100, 1 << 20)))
                .containsExactly("1", "4", "7");
        assertThat(data(storage.readStream("a", Long.MAX_VALUE, ReadDirection.BACKWARD, 100, 1 << 20)))
                .containsExactly("6", "3", "0");
        assertThat(data(storage.readStream("ab", 1, ReadDirection.BACKWARD, 100, 1 << 20)))
                .containsExactly("4", "1");
        assertThat(data(storage.readStream("b", 1, ReadDirection.FORWARD, 1, 1 << 20))).containsExactly("5");
        assertThat(storage.readStream("a", 3, ReadDirection.FORWARD, 10, 1 << 20)).isEmpty();
        assertThat(storage.readStream("", 0, ReadDirection.FORWARD, 10, 1 << 20)).isEmpty();
        assertThat(storage.streamVersion("ab")).isEqualTo(2);
        assertThat(storage.streamCount()).isEqualTo(3);
    }

    @Test
    void readsAStreamWhoseEventsComeInRunsBetweenOtherStreams() {
        // Runs of consecutive positions with gaps between them, read both ways from the middle.
        appendRoundRobin(3, "x");
        appendRoundRobin(2, "y");
        appendRoundRobin(4, "x");
        appendRoundRobin(1, "y");
        appendRoundRobin(2, "x");

        assertThat(storage.readStream("x", 0, ReadDirection.FORWARD, 100, 1 << 20))
                .extracting(StoredEvent::globalPosition).containsExactly(0L, 1L, 2L, 5L, 6L, 7L, 8L, 10L, 11L);
        assertThat(storage.readStream("x", 4, ReadDirection.FORWARD, 100, 1 << 20))
                .extracting(StoredEvent::streamVersion).containsExactly(4L, 5L, 6L, 7L, 8L);
        assertThat(storage.readStream("x", 6, ReadDirection.BACKWARD, 100, 1 << 20))
                .extracting(StoredEvent::globalPosition).containsExactly(8L, 7L, 6L, 5L, 2L, 1L, 0L);
        assertThat(storage.readStream("y", 2, ReadDirection.BACKWARD, 2, 1 << 20))
                .extracting(StoredEvent::globalPosition).containsExactly(9L, 4L);
    }

    @Test
    void aPageStopsAtItsByteBudgetButHoldsAtLeastOneEvent() {
        appendRoundRobin(10, "s");
        long oneEvent = storage.readAll(0, ReadDirection.FORWARD, 1, 1 << 20).get(0).payloadSize();

        assertThat(storage.readAll(0, ReadDirection.FORWARD, 100, oneEvent * 3)).hasSize(3);
        assertThat(storage.readAll(0, ReadDirection.FORWARD, 100, 1)).hasSize(1);
        assertThat(storage.readStream("s", 0, ReadDirection.FORWARD, 100, oneEvent * 2)).hasSize(2);
        assertThat(storage.readStream("s", 5, ReadDirection.BACKWARD, 100, 1)).hasSize(1);
    }

    @Test
    void aBatchThatIsNotDenseStoresNothing() {
        appendRoundRobin(2, "s");

        assertThatThrownBy(() -> storage.append(List.of(event("t", 0, 2, "ok"), event("t", 1, 4, "gap")), true))
                .isInstanceOf(StorageException.class).hasMessageContaining("not dense");

        assertThat(storage.nextPosition()).isEqualTo(2);
        assertThat(storage.streamVersion("t")).isEqualTo(-1);
        assertThat(storage.readAll(0, ReadDirection.FORWARD, 100, 1 << 20)).hasSize(2);
    }

    @Test
    void bufferedWritesAreVisibleLikeSyncedOnes() {
        storage.append(List.of(event("s", 0, 0, "buffered")), false);

        assertThat(data(storage.readStream("s", 0, ReadDirection.FORWARD, 10, 1 << 20))).containsExactly("buffered");
    }
}
