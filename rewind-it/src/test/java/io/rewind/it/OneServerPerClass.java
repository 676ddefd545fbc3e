package io.rewind.it;

import io.rewind.client.RewindClient;
import io.rewind.testkit.ServerProcess;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** One RocksDB server process for all the tests of a class, and a client connected to it. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class OneServerPerClass {
    @TempDir
    static Path tmp;

    ServerProcess server;
    RewindClient client;

    /** The server's options beyond the storage engine. */
    abstract String[] serverOptions();

    @BeforeAll
    void start() {
        server = ServerProcess.start(getClass().getSimpleName(), tmp.resolve("data"), "rocksdb", serverOptions());
        client = RewindClient.builder().commandEndpoint(server.commandEndpoint())
                .streamEndpoint(server.streamEndpoint()).requestTimeout(Duration.ofSeconds(30)).build();
    }

    @AfterAll
    void stop() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }
}
