package io.rewind.server.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.server.storage.EventQuery;
import io.rewind.server.storage.InMemoryStorage;
import io.rewind.server.storage.RocksDbStorage;
import io.rewind.server.storage.StoredEvent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The property replication rests on: two deciders over two stores that hold the same events, given the
 * same appends (ids included) and the same commit time, decide the same and store byte-identical events,
 * whatever engine each store is.
 */
class AppendDeciderTest {
    @TempDir
    Path tmp;

    @Test
    void theSameEntriesDecideTheSameOnEveryMember() {
        try (InMemoryStorage memory = new InMemoryStorage(); RocksDbStorage rocks = RocksDbStorage.open(tmp)) {
            AppendDecider first = new AppendDecider(memory);
            AppendDecider second = new AppendDecider(rocks);
            SplittableRandom random = new SplittableRandom(7);
            List<UUID> used = new ArrayList<>();
            for (int entry = 0; entry < 200; entry++) {
                List<AppendCommand> commands = new ArrayList<>();
                List<Integer> indexes = new ArrayList<>();
                for (int i = 0; i < 1 + random.nextInt(8); i++) {
                    commands.add(randomCommand(random, used));
                    indexes.add(i);
                }
                long micros = 1_700_000_000_000_000L + entry;
                AppendDecider.Decision<Integer> a = first.decide(commands, indexes, micros, false);
                AppendDecider.Decision<Integer> b = second.decide(commands, indexes, micros, false);
                assertThat(b.outcomes()).as("entry %d", entry).usingRecursiveComparison().isEqualTo(a.outcomes());
                assertThat(b.toWrite()).usingRecursiveComparison().isEqualTo(a.toWrite());
                memory.append(a.toWrite(), false);
                first.written(a);
                rocks.append(b.toWrite(), false);
                second.written(b);
            }
            List<StoredEvent> all = memory.readAll(0, io.rewind.server.storage.ReadDirection.FORWARD, 1_000_000,
                    Long.MAX_VALUE);
            // Byte for byte: the arrays are compared by content.
            assertThat(rocks.readAll(0, io.rewind.server.storage.ReadDirection.FORWARD, 1_000_000, Long.MAX_VALUE))
                    .usingRecursiveComparison().isEqualTo(all);
            assertThat(all).isNotEmpty();
            // Retries, conflicts and new appends all happened.
            assertThat(all.size()).isLessThan(used.size());
        }
    }

    /**
     * An append to one of a few streams: new events, a retry of an earlier one's ids, or an exact version; with
     * tags, sometimes a second stream, sometimes a condition on a tag.
     */
    private static AppendCommand randomCommand(SplittableRandom random, List<UUID> used) {
        int first = random.nextInt(5);
        List<StreamPart> parts = new ArrayList<>();
        parts.add(new StreamPart("s" + first, randomExpected(random), List.of(randomEvent(random, used, true))));
        if (random.nextInt(5) == 0) {
            parts.add(new StreamPart("s" + (first + 1 + random.nextInt(4)) % 5, randomExpected(random),
                    List.of(randomEvent(random, used, false))));
        }
        AppendCondition condition = random.nextInt(4) != 0 ? null : new AppendCondition(new EventQuery(List.of(
                new EventQuery.Item(List.of(), List.of("k" + random.nextInt(4))))), random.nextInt(200) - 1);
        return new AppendCommand(parts, condition);
    }

    private static ExpectedVersion randomExpected(SplittableRandom random) {
        return switch (random.nextInt(4)) {
            case 0 -> ExpectedVersion.NO_STREAM;
            case 1 -> new ExpectedVersion.Exact(random.nextInt(20));
            default -> ExpectedVersion.ANY;
        };
    }

    private static ProposedEvent randomEvent(SplittableRandom random, List<UUID> used, boolean mayRetry) {
        boolean retry = mayRetry && !used.isEmpty() && random.nextInt(5) == 0;
        UUID id = retry ? used.get(random.nextInt(used.size())) : new UUID(random.nextLong(), random.nextLong());
        if (!retry) {
            used.add(id);
        }
        List<String> tags = random.nextBoolean() ? List.of() : List.of("k" + random.nextInt(4));
        return new ProposedEvent(id, "T", ("data " + id).getBytes(StandardCharsets.UTF_8), new byte[0], tags);
    }
}
