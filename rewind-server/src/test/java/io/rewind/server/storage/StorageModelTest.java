package io.rewind.server.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.server.core.AppendCommand;
import io.rewind.server.core.AppendOutcome;
import io.rewind.server.core.AppendWriter;
import io.rewind.server.core.ExpectedVersion;
import io.rewind.server.core.ProposedEvent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same random operations against the in-memory engine (the model) and RocksDB, through the
 * writer that validates and groups appends: every result must be the same. Appends to a few
 * streams with every kind of expected version, retries and half-retries of earlier ids, reads of the
 * log and of streams in both directions from random places with random page limits, lookups, and
 * reopens of the RocksDB store.
 */
class StorageModelTest {
    private static final String[] STREAMS = {"a", "b", "c", "order-1", "order-2", "é-ü"};

    @TempDir
    Path directory;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 2026})
    void rocksDbBehavesLikeTheModel(long seed) {
        Random random = new Random(seed);
        InMemoryStorage model = new InMemoryStorage();
        Path data = directory.resolve("db-" + seed);
        RocksDbStorage rocks = RocksDbStorage.open(data);
        try {
            List<List<AppendOutcome<Integer>>> modelGroups = new ArrayList<>();
            List<List<AppendOutcome<Integer>>> rocksGroups = new ArrayList<>();
            AppendWriter<Integer> modelWriter = new AppendWriter<>(model, false, 1_000, 10_000, modelGroups::add,
                    () -> { });
            AppendWriter<Integer> rocksWriter = new AppendWriter<>(rocks, false, 1_000, 10_000, rocksGroups::add,
                    () -> { });
            List<UUID> usedIds = new ArrayList<>();
            for (int step = 0; step < 300; step++) {
                int operation = random.nextInt(10);
                if (operation < 5) {
                    // A group of 1 to 5 appends, committed together.
                    int appends = 1 + random.nextInt(5);
                    for (int i = 0; i < appends; i++) {
                        AppendCommand command = randomAppend(random, usedIds);
                        modelWriter.submit(command, step * 10 + i);
                        rocksWriter.submit(command, step * 10 + i);
                    }
                    modelWriter.commitQueued();
                    rocksWriter.commitQueued();
                    assertThat(describeGroup(rocksGroups.get(rocksGroups.size() - 1)))
                            .as("seed %d step %d", seed, step)
                            .isEqualTo(describeGroup(modelGroups.get(modelGroups.size() - 1)));
                } else if (operation < 8) {
                    compareReads(random, model, rocks, seed, step);
                } else if (operation == 8) {
                    compareState(model, rocks, usedIds, random, seed, step);
                } else {
                    rocks.close();
                    rocks = RocksDbStorage.open(data);
                    // The writer keeps its place; a new one asks the reopened store.
                    rocksWriter = new AppendWriter<>(rocks, false, 1_000, 10_000, rocksGroups::add, () -> { });
                    modelWriter = new AppendWriter<>(model, false, 1_000, 10_000, modelGroups::add, () -> { });
                    compareState(model, rocks, usedIds, random, seed, step);
                }
            }
            compareState(model, rocks, usedIds, random, seed, -1);
            assertThat(model.nextPosition()).as("the sequence did some work").isGreaterThan(100);
            String all = modelGroups.stream().map(StorageModelTest::describeGroup).collect(Collectors.joining("\n"));
            assertThat(all).as("the sequence met conflicts, half retries and whole retries")
                    .contains("WRONG_EXPECTED_VERSION").contains("does not match what is stored")
                    .contains("duplicate=true");
        } finally {
            rocks.close();
        }
    }

    private static AppendCommand randomAppend(Random random, List<UUID> usedIds) {
        String stream = STREAMS[random.nextInt(STREAMS.length)];
        ExpectedVersion expected = switch (random.nextInt(5)) {
            case 0 -> ExpectedVersion.NO_STREAM;
            case 1 -> ExpectedVersion.STREAM_EXISTS;
            case 2 -> new ExpectedVersion.Exact(random.nextInt(12));
            default -> ExpectedVersion.ANY;
        };
        int count = 1 + random.nextInt(4);
        List<ProposedEvent> events = new ArrayList<>();
        boolean retry = !usedIds.isEmpty() && random.nextInt(6) == 0;
        int retryStart = retry ? random.nextInt(usedIds.size()) : 0;
        for (int i = 0; i < count; i++) {
            UUID id;
            if (retry && retryStart + i < usedIds.size() && random.nextInt(4) != 0) {
                // Mostly a whole retry of stored ids in order; now and then a half retry, which must fail.
                id = usedIds.get(retryStart + i);
            } else {
                id = new UUID(random.nextLong(), random.nextLong());
                usedIds.add(id);
            }
            byte[] data = new byte[random.nextInt(300)];
            random.nextBytes(data);
            byte[] metadata = random.nextBoolean() ? new byte[0] : ("m" + i).getBytes(StandardCharsets.UTF_8);
            events.add(new ProposedEvent(id, "Type" + random.nextInt(3), data, metadata));
        }
        return new AppendCommand(stream, expected, events);
    }

    private static void compareReads(Random random, EventStorage model, EventStorage rocks, long seed, int step) {
        ReadDirection direction = random.nextBoolean() ? ReadDirection.FORWARD : ReadDirection.BACKWARD;
        long head = model.nextPosition();
        long from = random.nextInt(5) == 0 ? Long.MAX_VALUE : random.nextInt((int) Math.max(1, head + 3));
        int count = 1 + random.nextInt(50);
        long bytes = random.nextBoolean() ? 1 << 20 : 1 + random.nextInt(2_000);
        if (random.nextBoolean()) {
            assertThat(describe(rocks.readAll(from, direction, count, bytes)))
                    .as("seed %d step %d: log from %d %s count %d bytes %d", seed, step, from, direction, count, bytes)
                    .isEqualTo(describe(model.readAll(from, direction, count, bytes)));
        } else {
            String stream = STREAMS[random.nextInt(STREAMS.length)];
            long version = random.nextInt(5) == 0 ? Long.MAX_VALUE : random.nextInt(15);
            assertThat(describe(rocks.readStream(stream, version, direction, count, bytes)))
                    .as("seed %d step %d: stream %s from %d %s count %d bytes %d", seed, step, stream, version,
                            direction, count, bytes)
                    .isEqualTo(describe(model.readStream(stream, version, direction, count, bytes)));
        }
    }

    private static void compareState(EventStorage model, EventStorage rocks, List<UUID> usedIds, Random random,
            long seed, int step) {
        assertThat(rocks.nextPosition()).as("seed %d step %d", seed, step).isEqualTo(model.nextPosition());
        assertThat(rocks.streamCount()).isEqualTo(model.streamCount());
        for (String stream : STREAMS) {
            assertThat(rocks.streamVersion(stream)).as("head of %s", stream).isEqualTo(model.streamVersion(stream));
        }
        List<UUID> sample = new ArrayList<>();
        for (int i = 0; i < 20 && !usedIds.isEmpty(); i++) {
            sample.add(usedIds.get(random.nextInt(usedIds.size())));
        }
        sample.add(UUID.randomUUID());
        for (UUID id : sample) {
            assertThat(rocks.locate(id)).as("location of %s", id).isEqualTo(model.locate(id));
        }
        assertThat(rocks.locateAll(sample)).isEqualTo(model.locateAll(sample));
        assertThat(describe(rocks.readAll(0, ReadDirection.FORWARD, 100_000, Long.MAX_VALUE)))
                .isEqualTo(describe(model.readAll(0, ReadDirection.FORWARD, 100_000, Long.MAX_VALUE)));
    }

    /** Outcomes compared without the commit timestamps, which differ between the two writers. */
    private static String describeGroup(List<AppendOutcome<Integer>> group) {
        return group.stream().map(o -> o.attachment() + ":" + (o.succeeded() ? o.result() + " " + describe(o.committed())
                : o.error().code() + " " + o.error().message())).collect(Collectors.joining("\n"));
    }

    private static String describe(List<StoredEvent> events) {
        return events.stream().map(e -> e.globalPosition() + " " + e.stream() + "@" + e.streamVersion() + " "
                + e.eventId() + " " + e.type() + " " + java.util.Arrays.hashCode(e.data()) + "/" + e.data().length
                + " " + new String(e.metadata(), StandardCharsets.UTF_8)).collect(Collectors.joining("\n"));
    }
}
