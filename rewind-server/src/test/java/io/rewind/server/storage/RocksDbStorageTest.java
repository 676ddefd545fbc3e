package io.rewind.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
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
}
