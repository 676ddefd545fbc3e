package io.rewind.server.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.server.storage.EventLocation;
import io.rewind.server.storage.EventQuery;
import io.rewind.server.storage.EventStorage;
import io.rewind.server.storage.QueryPage;
import io.rewind.server.storage.InMemoryStorage;
import io.rewind.server.storage.ReadDirection;
import io.rewind.server.storage.StorageException;
import io.rewind.server.storage.StoredEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class AppendWriterTest {
    private final InMemoryStorage memory = new InMemoryStorage();
    private final List<List<AppendOutcome<String>>> groups = Collections.synchronizedList(new ArrayList<>());

    private AppendWriter<String> writer(EventStorage storage) {
        return new AppendWriter<>(storage, true, 100, 10_000, groups::add, () -> { });
    }

    private static AppendCommand append(String stream, ExpectedVersion expected, ProposedEvent... events) {
        return new AppendCommand(stream, expected, List.of(events));
    }

    private static ProposedEvent event(String data) {
        return event(null, data);
    }

    private static ProposedEvent event(UUID id, String data) {
        return new ProposedEvent(id, "T", data.getBytes(StandardCharsets.UTF_8), new byte[0]);
    }

    /** Submits everything before committing, so it all lands in one group. */
    private List<AppendOutcome<String>> commitAsOneGroup(EventStorage storage, AppendCommand... commands) {
        AppendWriter<String> writer = writer(storage);
        for (int i = 0; i < commands.length; i++) {
            assertThat(writer.submit(commands[i], "append-" + i)).isTrue();
        }
        assertThat(writer.commitQueued()).isEqualTo(commands.length);
        assertThat(groups).hasSize(1);
        return groups.get(0);
    }

    @Test
    void appendsInOneGroupSeeTheOnesBeforeThemAndARejectionSparesTheOthers() {
        List<AppendOutcome<String>> outcomes = commitAsOneGroup(memory,
                append("s", ExpectedVersion.NO_STREAM, event("a"), event("b")),
                append("s", new ExpectedVersion.Exact(1), event("c")),
                append("s", ExpectedVersion.NO_STREAM, event("rejected")),
                append("t", ExpectedVersion.STREAM_EXISTS, event("rejected too")),
                append("t", ExpectedVersion.ANY, event("d")));

        assertThat(outcomes).extracting(AppendOutcome::attachment)
                .containsExactly("append-0", "append-1", "append-2", "append-3", "append-4");
        assertThat(outcomes.get(0).result()).isEqualTo(new AppendResult(0, 1, 1, false));
        assertThat(outcomes.get(1).result()).isEqualTo(new AppendResult(2, 2, 2, false));
        assertThat(outcomes.get(2).error().code()).isEqualTo(ErrorCode.WRONG_EXPECTED_VERSION);
        assertThat(outcomes.get(2).error().conflict().actualVersion()).isEqualTo(2);
        assertThat(outcomes.get(3).error().conflict().actualVersion()).isEqualTo(-1);
        assertThat(outcomes.get(4).result()).isEqualTo(new AppendResult(3, 3, 0, false));
        assertThat(outcomes.get(4).committed()).extracting(StoredEvent::globalPosition).containsExactly(3L);
        assertThat(memory.nextPosition()).isEqualTo(4);
        assertThat(memory.readAll(0, ReadDirection.FORWARD, 10, 1 << 20))
                .extracting(e -> new String(e.data(), StandardCharsets.UTF_8)).containsExactly("a", "b", "c", "d");
    }

    @Test
    void aRetriedAppendReturnsTheOriginalResultEvenWithinTheSameGroup() {
        UUID first = UUID.randomUUID();
        UUID second = UUID.randomUUID();
        AppendCommand command = append("s", ExpectedVersion.NO_STREAM, event(first, "1"), event(second, "2"));

        List<AppendOutcome<String>> outcomes = commitAsOneGroup(memory, command, command);

        assertThat(outcomes.get(0).result()).isEqualTo(new AppendResult(0, 1, 1, false));
        assertThat(outcomes.get(1).result()).isEqualTo(new AppendResult(0, 1, 1, true));
        assertThat(outcomes.get(1).committed()).isEmpty();
        assertThat(memory.nextPosition()).isEqualTo(2);
    }

    @Test
    void idsThatMatchOnlyPartlyAreRejected() {
        UUID stored = UUID.randomUUID();
        List<AppendOutcome<String>> outcomes = commitAsOneGroup(memory,
                append("s", ExpectedVersion.ANY, event(stored, "1")),
                append("s", ExpectedVersion.ANY, event(stored, "1"), event(UUID.randomUUID(), "new")),
                append("s", ExpectedVersion.ANY, event(UUID.randomUUID(), "new"), event(stored, "1")),
                append("other", ExpectedVersion.ANY, event(stored, "1")));

        assertThat(outcomes.get(0).succeeded()).isTrue();
        for (AppendOutcome<String> rejected : outcomes.subList(1, 4)) {
            assertThat(rejected.error().code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        }
        assertThat(outcomes.get(3).error().message()).contains(stored.toString()).contains("'s'");
        assertThat(memory.nextPosition()).isEqualTo(1);
    }

    @Test
    void aFailedWriteRejectsTheWholeGroupAndTheNextGroupStartsAtTheSamePosition() {
        AtomicBoolean fail = new AtomicBoolean(true);
        EventStorage flaky = new DelegatingStorage(memory) {
            @Override
            public void append(List<StoredEvent> events, boolean sync) {
                if (fail.getAndSet(false)) {
                    throw new StorageException("disk full");
                }
                super.append(events, sync);
            }
        };
        AppendWriter<String> writer = writer(flaky);
        writer.submit(append("s", ExpectedVersion.ANY, event("lost")), "first");
        writer.submit(append("s", ExpectedVersion.NO_STREAM, event("lost too")), "second");
        writer.commitQueued();
        writer.submit(append("s", ExpectedVersion.NO_STREAM, event("kept")), "third");
        writer.commitQueued();

        assertThat(groups.get(0)).allSatisfy(o -> {
            assertThat(o.error().code()).isEqualTo(ErrorCode.INTERNAL);
            assertThat(o.error().message()).contains("disk full").contains("not acknowledged");
        });
        AppendOutcome<String> third = groups.get(1).get(0);
        assertThat(third.result()).isEqualTo(new AppendResult(0, 0, 0, false));
    }

    @Test
    void afterAFailedWriteTheStorageRecoversFirstAndPositionsAndHeadsAreAskedAgain() {
        AtomicBoolean failWrite = new AtomicBoolean(true);
        List<String> recoveries = new ArrayList<>();
        EventStorage reopening = new DelegatingStorage(memory) {
            @Override
            public void append(List<StoredEvent> events, boolean sync) {
                if (failWrite.getAndSet(false)) {
                    // The write reached the log before it failed: a reopen finds it stored.
                    super.append(events, sync);
                    throw new StorageException("fsync failed");
                }
                super.append(events, sync);
            }

            @Override
            public void recoverWrites() {
                recoveries.add("attempt");
                if (recoveries.size() == 1) {
                    throw new StorageException("still no space");
                }
            }
        };
        AppendWriter<String> writer = writer(reopening);
        writer.submit(append("s", ExpectedVersion.NO_STREAM, event("reached the log")), "failed");
        writer.commitQueued();
        writer.submit(append("s", ExpectedVersion.ANY, event("refused")), "while broken");
        writer.commitQueued();
        writer.submit(append("s", new ExpectedVersion.Exact(0), event("after recovery")), "healed");
        writer.commitQueued();

        assertThat(groups.get(0).get(0).error().code()).isEqualTo(ErrorCode.INTERNAL);
        RequestError refused = groups.get(1).get(0).error();
        assertThat(refused.code()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(refused.message()).contains("still no space").contains("nothing was stored");
        assertThat(recoveries).hasSize(2);
        // The writer did not trust its cached position and head: the event it failed on is at 0.
        assertThat(groups.get(2).get(0).result()).isEqualTo(new AppendResult(1, 1, 1, false));
    }

    @Test
    void aFullStoreRefusesTheAppendThatDoesNotFitAndKeepsTheOthers() {
        InMemoryStorage small = new InMemoryStorage(3 * InMemoryStorage.EVENT_OVERHEAD_BYTES + 100);
        List<AppendOutcome<String>> outcomes = commitAsOneGroup(small,
                append("s", ExpectedVersion.ANY, event("1"), event("2")),
                append("s", ExpectedVersion.ANY, event("x".repeat(200))),
                append("s", ExpectedVersion.ANY, event("3")));

        assertThat(outcomes.get(0).succeeded()).isTrue();
        assertThat(outcomes.get(1).error().code()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(outcomes.get(1).error().message()).contains("in-memory store is full").contains("--memory-limit");
        assertThat(outcomes.get(2).result()).isEqualTo(new AppendResult(2, 2, 2, false));
        assertThat(small.readStream("s", 0, ReadDirection.FORWARD, 10, 1 << 20)).hasSize(3);
        assertThat(small.capacityProblem(1, 1)).contains("full");
    }

    @Test
    void afterCloseTheQueuedAppendsAreStillCommittedButNewOnesAreRefused() {
        AppendWriter<String> writer = writer(memory);
        for (int i = 0; i < 50; i++) {
            assertThat(writer.submit(append("s", ExpectedVersion.ANY, event("e" + i)), "a" + i)).isTrue();
        }
        writer.close();
        writer.commitQueued();

        assertThat(groups.stream().mapToInt(List::size).sum()).isEqualTo(50);
        assertThat(memory.nextPosition()).isEqualTo(50);
        assertThat(writer.submit(append("s", ExpectedVersion.ANY, event("late")), "late")).isFalse();
    }

    @Test
    void eachAcceptedSubmitWakesTheCommitterAndARefusedOneDoesNot() {
        java.util.concurrent.atomic.AtomicInteger wakes = new java.util.concurrent.atomic.AtomicInteger();
        AppendWriter<String> writer = new AppendWriter<>(memory, true, 1, 10_000, groups::add, wakes::incrementAndGet);
        assertThat(writer.submit(append("s", ExpectedVersion.ANY, event("1")), "1")).isTrue();
        assertThat(writer.submit(append("s", ExpectedVersion.ANY, event("2")), "2")).isFalse();
        assertThat(wakes).hasValue(1);
    }

    @Test
    void groupsStopGrowingAtTheirEventLimitAndContinueWhereTheLastOneEnded() {
        AppendWriter<String> writer = new AppendWriter<>(memory, true, 100, 3, groups::add, () -> { });
        for (int i = 0; i < 4; i++) {
            writer.submit(append("s", ExpectedVersion.ANY, event("a" + i), event("b" + i)), "append-" + i);
        }

        assertThat(writer.commitQueued()).isEqualTo(4);

        assertThat(groups).extracting(List::size).containsExactly(2, 2);
        assertThat(groups.get(1).get(0).result()).isEqualTo(new AppendResult(4, 5, 5, false));
        assertThat(memory.nextPosition()).isEqualTo(8);
    }

    @Test
    void eventsSentWithoutAnIdGetDistinctRandomUuids() {
        AppendWriter<String> writer = new AppendWriter<>(memory, true, 1000, 10_000, groups::add, () -> { });
        for (int i = 0; i < 1000; i++) {
            writer.submit(append("s", ExpectedVersion.ANY, event("e" + i)), "a" + i);
        }
        writer.commitQueued();

        List<UUID> ids = memory.readAll(0, ReadDirection.FORWARD, 1000, 1 << 20).stream()
                .map(StoredEvent::eventId).toList();
        assertThat(ids).hasSize(1000).doesNotHaveDuplicates()
                .allSatisfy(id -> {
                    assertThat(id.version()).isEqualTo(4);
                    assertThat(id.variant()).isEqualTo(2);
                });
    }

    @Test
    void aFullQueueRefusesInsteadOfGrowing() {
        AppendWriter<String> writer = new AppendWriter<>(memory, true, 2, 10_000, groups::add, () -> { });
        assertThat(writer.submit(append("s", ExpectedVersion.ANY, event("1")), "1")).isTrue();
        assertThat(writer.submit(append("s", ExpectedVersion.ANY, event("2")), "2")).isTrue();
        assertThat(writer.submit(append("s", ExpectedVersion.ANY, event("3")), "3")).isFalse();
        assertThat(writer.queued()).isEqualTo(2);
        writer.commitQueued();
        assertThat(memory.nextPosition()).isEqualTo(2);
    }

    /** Forwards everything to another storage; tests override what they need to break. */
    private static class DelegatingStorage implements EventStorage {
        private final EventStorage delegate;

        DelegatingStorage(EventStorage delegate) {
            this.delegate = delegate;
        }

        @Override
        public String engine() {
            return delegate.engine();
        }

        @Override
        public long nextPosition() {
            return delegate.nextPosition();
        }

        @Override
        public long streamCount() {
            return delegate.streamCount();
        }

        @Override
        public long streamVersion(String stream) {
            return delegate.streamVersion(stream);
        }

        @Override
        public Optional<EventLocation> locate(UUID eventId) {
            return delegate.locate(eventId);
        }

        @Override
        public void append(List<StoredEvent> events, boolean sync) {
            delegate.append(events, sync);
        }

        @Override
        public String capacityProblem(long events, long payloadBytes) {
            return delegate.capacityProblem(events, payloadBytes);
        }

        @Override
        public void recoverWrites() {
            delegate.recoverWrites();
        }

        @Override
        public QueryPage readQuery(EventQuery query, long fromPosition, ReadDirection direction, int maxCount,
                long maxBytes) {
            return delegate.readQuery(query, fromPosition, direction, maxCount, maxBytes);
        }

        @Override
        public long firstMatch(EventQuery query, long after) {
            return delegate.firstMatch(query, after);
        }

        @Override
        public void write(Changes changes, boolean sync) {
            // Through append, which the tests override to break writes.
            if (changes.onlyEvents()) {
                append(changes.events(), sync);
            } else {
                delegate.write(changes, sync);
            }
        }

        @Override
        public io.rewind.server.storage.StreamState streamState(String stream) {
            return delegate.streamState(stream);
        }

        @Override
        public java.util.Map<String, io.rewind.server.storage.StreamState> streamStates() {
            return delegate.streamStates();
        }

        @Override
        public List<StoredEvent> readAll(long from, ReadDirection direction, int maxCount, long maxBytes) {
            return delegate.readAll(from, direction, maxCount, maxBytes);
        }

        @Override
        public List<StoredEvent> readStream(String stream, long from, ReadDirection direction, int maxCount,
                long maxBytes) {
            return delegate.readStream(stream, from, direction, maxCount, maxBytes);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
