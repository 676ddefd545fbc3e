package io.rewind.server.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rewind.server.storage.EventQuery;
import io.rewind.server.storage.EventStorage;
import io.rewind.server.storage.InMemoryStorage;
import io.rewind.server.storage.ReadDirection;
import io.rewind.server.storage.RocksDbStorage;
import io.rewind.server.storage.StoredEvent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Dynamic Consistency Boundary conditions and multi-stream appends, decided by the writer, on both engines. */
class ConditionalAndMultiStreamAppendTest {
    @TempDir
    Path tmp;

    private EventStorage storage;
    private final List<List<AppendOutcome<String>>> groups = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void close() {
        if (storage != null) {
            storage.close();
        }
    }

    private EventStorage open(String engine) {
        storage = engine.equals("memory") ? new InMemoryStorage() : RocksDbStorage.open(tmp.resolve("db"));
        return storage;
    }

    private static ProposedEvent event(String type, String... tags) {
        return new ProposedEvent(UUID.randomUUID(), type, new byte[] {1}, new byte[0], List.of(tags));
    }

    private static EventQuery tagged(String... tags) {
        return new EventQuery(List.of(new EventQuery.Item(List.of(), List.of(tags))));
    }

    private static AppendCommand conditional(String stream, AppendCondition condition, ProposedEvent... events) {
        return new AppendCommand(List.of(new StreamPart(stream, ExpectedVersion.ANY, List.of(events))), condition);
    }

    /** Submits everything before committing, so it all lands in one group. */
    private List<AppendOutcome<String>> commitAsOneGroup(AppendCommand... commands) {
        AppendWriter<String> writer = new AppendWriter<>(storage, true, 100, 10_000, groups::add, () -> { });
        for (int i = 0; i < commands.length; i++) {
            assertThat(writer.submit(commands[i], "append-" + i)).isTrue();
        }
        groups.clear();
        assertThat(writer.commitQueued()).isEqualTo(commands.length);
        assertThat(groups).hasSize(1);
        return groups.get(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "rocksdb"})
    void aConditionFailsOnAStoredMatchAfterItsPositionAndStoresNothing(String engine) {
        open(engine);
        commitAsOneGroup(conditional("c1", null, event("CourseDefined", "course:c1")),
                conditional("s1", null, event("StudentSubscribed", "course:c1", "student:s1")));

        List<AppendOutcome<String>> outcomes = commitAsOneGroup(
                conditional("s2", new AppendCondition(tagged("course:c1"), -1), event("StudentSubscribed", "course:c1")),
                conditional("s2", new AppendCondition(tagged("course:c1"), 0), event("StudentSubscribed", "course:c1")),
                conditional("s2", new AppendCondition(tagged("course:c1"), 1), event("StudentSubscribed", "course:c1")));

        assertThat(outcomes.get(0).error().code()).isEqualTo(ErrorCode.CONDITION_FAILED);
        assertThat(outcomes.get(0).error().matchingPosition()).isZero();
        assertThat(outcomes.get(0).error().message()).contains("position 0", "course:c1", "nothing was stored");
        assertThat(outcomes.get(1).error().matchingPosition()).isEqualTo(1);
        assertThat(outcomes.get(2).succeeded()).as("nothing matches after position 1").isTrue();
        assertThat(storage.nextPosition()).isEqualTo(3);
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "rocksdb"})
    void twoAppendsWithTheSameConditionInOneGroupNeverBothSucceed(String engine) {
        open(engine);
        AppendCondition usernameFree = new AppendCondition(tagged("username:alice"), -1);

        List<AppendOutcome<String>> outcomes = commitAsOneGroup(
                conditional("user-1", usernameFree, event("UserRegistered", "username:alice")),
                conditional("user-2", usernameFree, event("UserRegistered", "username:alice")),
                conditional("user-3", new AppendCondition(tagged("username:bob"), -1),
                        event("UserRegistered", "username:bob")));

        assertThat(outcomes.get(0).succeeded()).isTrue();
        assertThat(outcomes.get(1).error().code()).isEqualTo(ErrorCode.CONDITION_FAILED);
        assertThat(outcomes.get(1).error().matchingPosition()).as("the first append's event, in the same group")
                .isZero();
        assertThat(outcomes.get(2).succeeded()).isTrue();
        assertThat(storage.readAll(0, ReadDirection.FORWARD, 10, 1 << 20)).extracting(StoredEvent::stream)
                .containsExactly("user-1", "user-3");
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "rocksdb"})
    void aRetriedConditionalAppendGetsItsOriginalResultThoughItsOwnEventsNowMatch(String engine) {
        open(engine);
        AppendCommand register = conditional("user-1", new AppendCondition(tagged("username:alice"), -1),
                event("UserRegistered", "username:alice"));
        AppendResult original = commitAsOneGroup(register).get(0).result();

        AppendOutcome<String> retry = commitAsOneGroup(register).get(0);

        assertThat(retry.succeeded()).isTrue();
        assertThat(retry.result().duplicate()).isTrue();
        assertThat(retry.result().firstPosition()).isEqualTo(original.firstPosition());
        assertThat(storage.nextPosition()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "rocksdb"})
    void aMultiStreamAppendStoresEveryStreamWithConsecutivePositionsOrNothing(String engine) {
        open(engine);
        commitAsOneGroup(new AppendCommand("b", ExpectedVersion.ANY, List.of(event("Seed"))));
        AppendCommand transfer = new AppendCommand(List.of(
                new StreamPart("a", ExpectedVersion.NO_STREAM, List.of(event("Debited"), event("Fee"))),
                new StreamPart("b", new ExpectedVersion.Exact(0), List.of(event("Credited")))), null);

        AppendResult result = commitAsOneGroup(transfer).get(0).result();

        assertThat(result.firstPosition()).isEqualTo(1);
        assertThat(result.lastPosition()).isEqualTo(3);
        assertThat(result.lastVersion()).isEqualTo(1);
        assertThat(result.streams()).containsExactly(new AppendResult.StreamResult("a", 1, 2, 1),
                new AppendResult.StreamResult("b", 3, 3, 1));
        assertThat(storage.streamVersion("a")).isEqualTo(1);
        assertThat(storage.streamVersion("b")).isEqualTo(1);

        // The same append again: its original result, all streams.
        AppendResult retried = commitAsOneGroup(transfer).get(0).result();
        assertThat(retried.duplicate()).isTrue();
        assertThat(retried.streams()).isEqualTo(result.streams());

        // One stream's expected version fails: nothing of any stream is stored.
        AppendOutcome<String> conflict = commitAsOneGroup(new AppendCommand(List.of(
                new StreamPart("a", new ExpectedVersion.Exact(1), List.of(event("Debited"))),
                new StreamPart("b", new ExpectedVersion.Exact(7), List.of(event("Credited")))), null)).get(0);
        assertThat(conflict.error().code()).isEqualTo(ErrorCode.WRONG_EXPECTED_VERSION);
        assertThat(conflict.error().conflict().stream()).isEqualTo("b");
        assertThat(storage.nextPosition()).isEqualTo(4);

        // A condition over a multi-stream append decides all of it.
        AppendOutcome<String> refused = commitAsOneGroup(new AppendCommand(List.of(
                new StreamPart("a", ExpectedVersion.ANY, List.of(event("Debited"))),
                new StreamPart("c", ExpectedVersion.ANY, List.of(event("Credited")))),
                new AppendCondition(new EventQuery(List.of(new EventQuery.Item(List.of("Fee"), List.of()))), -1)))
                .get(0);
        assertThat(refused.error().code()).isEqualTo(ErrorCode.CONDITION_FAILED);
        assertThat(refused.error().matchingPosition()).isEqualTo(2);
        assertThat(storage.nextPosition()).isEqualTo(4);
    }

    @Test
    void theValidatorNamesWhatIsWrongWithTagsStreamsAndQueries() {
        AppendValidator validator = new AppendValidator(new Limits(255, 1 << 20, 100, 1 << 20, 100, 1 << 20, 2, 8));
        assertThatThrownBy(() -> validator.validate(new AppendCommand(List.of(
                new StreamPart("a", ExpectedVersion.ANY, List.of(event("T"))),
                new StreamPart("a", ExpectedVersion.ANY, List.of(event("T")))), null)))
                .hasMessageContaining("stream 'a' appears twice");
        assertThatThrownBy(() -> validator.validate(conditional("a", null, event("T", "a", "b", "c"))))
                .hasMessageContaining("has 3 tags, the limit is 2")
                .matches(e -> ((RequestException) e).error().code() == ErrorCode.TOO_LARGE);
        assertThatThrownBy(() -> validator.validate(conditional("a", null, event("T", "a-long-tag"))))
                .hasMessageContaining("tag of 10 bytes, the limit is 8");
        assertThatThrownBy(() -> validator.validate(conditional("a", null, event("T", "x", "x"))))
                .hasMessageContaining("tag 'x' twice");
        assertThatThrownBy(() -> validator.validate(conditional("a", null, event("T", ""))))
                .hasMessageContaining("empty tag");
        assertThatThrownBy(() -> validator.validate(conditional("a", null, event("T", "a\0b"))))
                .hasMessageContaining("NUL");
        assertThatThrownBy(() -> validator.validate(conditional("a",
                new AppendCondition(tagged("x", "y", "z"), -1), event("T"))))
                .hasMessageContaining("the condition of the append to stream 'a', query item 0 has 3 tags");
        assertThatThrownBy(() -> validator.validate(new AppendCommand(List.of(
                new StreamPart("a", ExpectedVersion.ANY, List.of(event("T"))),
                new StreamPart("b", ExpectedVersion.ANY, List.of())), null)))
                .hasMessageContaining("append to stream 'b' has no events");
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "rocksdb"})
    void commitTimesNeverDecreaseAlongTheLogEvenWhenTheClockGoesBack(String engine) {
        open(engine);
        AppendDecider decider = new AppendDecider(storage);
        for (long micros : new long[] {1_000, 900, 2_000, 1_500}) {
            AppendDecider.Decision<String> decision = decider.decide(
                    List.of(new AppendCommand("s", ExpectedVersion.ANY, List.of(event("T")))), List.of("a"), micros,
                    false);
            storage.append(decision.toWrite(), false);
            decider.written(decision);
        }
        assertThat(storage.readAll(0, ReadDirection.FORWARD, 10, 1 << 20))
                .extracting(StoredEvent::commitTimestampMicros).containsExactly(1_000L, 1_000L, 2_000L, 2_000L);

        // A new decider (a restart, another member) starts from the newest stored time.
        AppendDecider restarted = new AppendDecider(storage);
        AppendDecider.Decision<String> decision = restarted.decide(
                List.of(new AppendCommand("s", ExpectedVersion.ANY, List.of(event("T")))), List.of("a"), 10, false);
        assertThat(decision.toWrite().get(0).commitTimestampMicros()).isEqualTo(2_000L);
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "rocksdb"})
    void theIdsOfHiddenEventsAreForgottenSoARetryAppendsAgain(String engine) {
        open(engine);
        AppendCommand placed = new AppendCommand("order-1", ExpectedVersion.ANY, List.of(event("Placed")));
        commitAsOneGroup(placed);
        AppendOutcome<String> deleted = commitAsOneGroup(AppendCommand.of(
                new StreamOperation.Delete("order-1", ExpectedVersion.ANY, false))).get(0);
        assertThat(deleted.operation().state().truncateBefore()).isEqualTo(1);

        // The event is still stored (no cleanup ran): its id is forgotten all the same.
        AppendResult again = commitAsOneGroup(placed).get(0).result();
        assertThat(again.duplicate()).isFalse();
        assertThat(again.lastVersion()).isEqualTo(1);
        AppendOutcome<String> erase = commitAsOneGroup(AppendCommand.of(
                new StreamOperation.Erase(placed.parts().get(0).events().get(0).eventId()))).get(0);
        assertThat(erase.succeeded()).as("the visible copy is erased").isTrue();
        assertThat(erase.operation().erasedVersion()).isEqualTo(1);
    }
}
