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

    // ------------------------------------------------------------------ tags and reads by query

    static StoredEvent tagged(long position, String stream, long version, String type, String... tags) {
        return new StoredEvent(UUID.randomUUID(), stream, version, position, type, new byte[] {(byte) position},
                new byte[0], 1_700_000_000L, List.of(tags));
    }

    /** Reads every page of a query, pages of {@code pageSize}, following next_from. */
    List<Long> readQueryPaged(EventQuery query, ReadDirection direction, int pageSize) {
        List<Long> positions = new ArrayList<>();
        long from = -1;
        for (int pages = 0; pages < 100_000; pages++) {
            QueryPage page = storage.readQuery(query, from, direction, pageSize, 1 << 20);
            page.events().forEach(e -> positions.add(e.globalPosition()));
            if (page.endReached()) {
                return positions;
            }
            assertThat(page.events()).as("a page that is not the last one holds events").isNotEmpty();
            from = page.nextFrom();
        }
        throw new AssertionError("the query never reached its end");
    }

    @Test
    void tagsAreStoredAndReadBackWhereverTheEventIsRead() {
        StoredEvent event = tagged(0, "course-c1", 0, "CourseDefined", "course:c1", "term:2026");
        storage.append(List.of(event), true);
        assertThat(storage.readAll(0, ReadDirection.FORWARD, 10, 1 << 20).get(0).tags())
                .containsExactly("course:c1", "term:2026");
        assertThat(storage.readStream("course-c1", 0, ReadDirection.FORWARD, 10, 1 << 20).get(0).tags())
                .containsExactly("course:c1", "term:2026");
        assertThat(storage.readQuery(new EventQuery(List.of(new EventQuery.Item(List.of(), List.of("term:2026")))),
                -1, ReadDirection.FORWARD, 10, 1 << 20).events()).singleElement()
                .usingRecursiveComparison().isEqualTo(event);
    }

    @Test
    void aQueryMatchesByTheSpecificationsRules() {
        storage.append(List.of(
                tagged(0, "course-c1", 0, "CourseDefined", "course:c1"),
                tagged(1, "course-c2", 0, "CourseDefined", "course:c2"),
                tagged(2, "student-s1", 0, "StudentSubscribed", "course:c1", "student:s1"),
                tagged(3, "student-s2", 0, "StudentSubscribed", "course:c2", "student:s2"),
                tagged(4, "student-s1", 1, "StudentSubscribed", "course:c2", "student:s1"),
                tagged(5, "student-s1", 2, "StudentRenamed", "student:s1")), true);

        // Types: any of them. Tags: all of them. Items: any of them. No items: everything.
        assertThat(matches(item(List.of("CourseDefined"), List.of()))).containsExactly(0L, 1L);
        assertThat(matches(item(List.of(), List.of("course:c2", "student:s1")))).containsExactly(4L);
        assertThat(matches(item(List.of("StudentSubscribed", "StudentRenamed"), List.of("student:s1"))))
                .containsExactly(2L, 4L, 5L);
        assertThat(matches(item(List.of("CourseDefined"), List.of("course:c1")),
                item(List.of("StudentSubscribed"), List.of("course:c1")))).containsExactly(0L, 2L);
        assertThat(matches()).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
        assertThat(matches(item(List.of(), List.of()))).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
        assertThat(matches(item(List.of(), List.of("unknown")))).isEmpty();
        assertThat(matches(item(List.of("Unknown"), List.of("course:c1")))).isEmpty();

        EventQuery course1 = new EventQuery(List.of(item(List.of(), List.of("course:c1"))));
        assertThat(storage.firstMatch(course1, -1)).isZero();
        assertThat(storage.firstMatch(course1, 0)).isEqualTo(2);
        assertThat(storage.firstMatch(course1, 2)).isEqualTo(-1);
        assertThat(storage.firstMatch(course1, 1_000)).isEqualTo(-1);
    }

    private static EventQuery.Item item(List<String> types, List<String> tags) {
        return new EventQuery.Item(types, tags);
    }

    private List<Long> matches(EventQuery.Item... items) {
        EventQuery query = new EventQuery(List.of(items));
        List<Long> forward = readQueryPaged(query, ReadDirection.FORWARD, 1);
        List<Long> backward = new ArrayList<>(readQueryPaged(query, ReadDirection.BACKWARD, 2));
        java.util.Collections.reverse(backward);
        assertThat(backward).as("backward, reversed").isEqualTo(forward);
        return forward;
    }

    @Test
    void queryPagesSayWhereTheNextOneStartsAndWhetherTheEndIsReached() {
        List<StoredEvent> events = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            events.add(tagged(i, "s", i, i % 2 == 0 ? "Even" : "Odd", "n:" + i));
        }
        storage.append(events, true);
        EventQuery odd = new EventQuery(List.of(item(List.of("Odd"), List.of())));

        QueryPage first = storage.readQuery(odd, -1, ReadDirection.FORWARD, 2, 1 << 20);
        assertThat(first.events()).extracting(StoredEvent::globalPosition).containsExactly(1L, 3L);
        assertThat(first.endReached()).isFalse();
        assertThat(first.nextFrom()).isEqualTo(5);
        QueryPage last = storage.readQuery(odd, 8, ReadDirection.FORWARD, 2, 1 << 20);
        assertThat(last.events()).extracting(StoredEvent::globalPosition).containsExactly(9L);
        assertThat(last.endReached()).isTrue();
        assertThat(last.nextFrom()).as("the head: where events stored later will be").isEqualTo(10);
        QueryPage beyond = storage.readQuery(odd, 50, ReadDirection.FORWARD, 2, 1 << 20);
        assertThat(beyond.events()).isEmpty();
        assertThat(beyond.endReached()).isTrue();
        assertThat(beyond.nextFrom()).isEqualTo(50);

        QueryPage newest = storage.readQuery(odd, -1, ReadDirection.BACKWARD, 2, 1 << 20);
        assertThat(newest.events()).extracting(StoredEvent::globalPosition).containsExactly(9L, 7L);
        assertThat(newest.nextFrom()).isEqualTo(5);
        QueryPage fromPastTheEnd = storage.readQuery(odd, 1_000, ReadDirection.BACKWARD, 1, 1 << 20);
        assertThat(fromPastTheEnd.events()).extracting(StoredEvent::globalPosition).containsExactly(9L);
        QueryPage oldest = storage.readQuery(odd, 2, ReadDirection.BACKWARD, 5, 1 << 20);
        assertThat(oldest.events()).extracting(StoredEvent::globalPosition).containsExactly(1L);
        assertThat(oldest.endReached()).isTrue();
        assertThat(oldest.nextFrom()).isEqualTo(-1);

        // A page is bounded in bytes too, and still holds one event.
        QueryPage tight = storage.readQuery(odd, -1, ReadDirection.FORWARD, 100, 1);
        assertThat(tight.events()).extracting(StoredEvent::globalPosition).containsExactly(1L);
        assertThat(tight.nextFrom()).isEqualTo(3);
        assertThat(tight.endReached()).isFalse();
    }

    @Test
    void queriesAgreeWithAModelOverRandomEventsAndQueries() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(42);
        String[] types = {"A", "B", "C", "D"};
        String[] tags = {"t0", "t1", "t2", "t3", "t4", "t5"};
        List<StoredEvent> all = new ArrayList<>();
        for (int batch = 0; batch < 20; batch++) {
            List<StoredEvent> events = new ArrayList<>();
            for (int i = 0; i < 1 + random.nextInt(40); i++) {
                long position = all.size() + events.size();
                List<String> eventTags = new ArrayList<>();
                for (String tag : tags) {
                    if (random.nextInt(4) == 0) {
                        eventTags.add(tag);
                    }
                }
                events.add(tagged(position, "s" + position, 0, types[random.nextInt(types.length)],
                        eventTags.toArray(String[]::new)));
            }
            storage.append(events, true);
            all.addAll(events);
        }
        for (int q = 0; q < 300; q++) {
            List<EventQuery.Item> items = new ArrayList<>();
            for (int i = 0; i < random.nextInt(4); i++) {
                List<String> itemTypes = new ArrayList<>();
                List<String> itemTags = new ArrayList<>();
                for (String type : types) {
                    if (random.nextInt(3) == 0) {
                        itemTypes.add(type);
                    }
                }
                for (String tag : tags) {
                    if (random.nextInt(4) == 0) {
                        itemTags.add(tag);
                    }
                }
                items.add(item(itemTypes, itemTags));
            }
            EventQuery query = new EventQuery(items);
            List<Long> expected = all.stream().filter(query::matches).map(StoredEvent::globalPosition).toList();
            assertThat(readQueryPaged(query, ReadDirection.FORWARD, 1 + random.nextInt(7))).as("%s", query)
                    .isEqualTo(expected);
            List<Long> backward = new ArrayList<>(readQueryPaged(query, ReadDirection.BACKWARD, 1 + random.nextInt(7)));
            java.util.Collections.reverse(backward);
            assertThat(backward).as("%s backward", query).isEqualTo(expected);
            long after = random.nextInt(all.size() + 2) - 1;
            long first = expected.stream().filter(p -> p > after).findFirst().orElse(-1L);
            assertThat(storage.firstMatch(query, after)).as("%s after %d", query, after).isEqualTo(first);
        }
    }
}
