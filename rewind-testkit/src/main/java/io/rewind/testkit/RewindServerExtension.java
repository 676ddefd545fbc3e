package io.rewind.testkit;

import io.rewind.client.RewindClient;
import io.rewind.server.RewindServer;
import io.rewind.server.config.ServerOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A real Rewind server in the test's JVM, for an application's own tests: the same server code as
 * {@code java -jar rewind-server.jar}, on free loopback ports, in memory or on RocksDB in a temporary
 * directory. Test methods may take a {@link RewindClient} parameter: a client connected to it, closed
 * after the test.
 *
 * <pre>{@code
 * class OrderProjectionTest {
 *     @RegisterExtension
 *     static final RewindServerExtension rewind = RewindServerExtension.inMemory();
 *
 *     @Test
 *     void countsPlacedOrders(RewindClient client) {
 *         client.append("order-1", ExpectedVersion.noStream(), EventData.of("OrderPlaced", "{}"));
 *         ...
 *     }
 * }
 * }</pre>
 *
 * <p>Registered on a static field, one server serves the whole class; on an instance field, each
 * test gets a new one. The server logs through the application's SLF4J binding.
 */
public final class RewindServerExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback,
        AfterAllCallback, ParameterResolver, ServerUnderTest {
    private final boolean rocksDb;
    private final List<String> options = new ArrayList<>();
    private final List<RewindClient> clients = new ArrayList<>();
    private RewindServer server;
    private Path dataDir;
    private boolean perClass;

    private RewindServerExtension(boolean rocksDb) {
        this.rocksDb = rocksDb;
    }

    /** A server that keeps its events on the heap. */
    public static RewindServerExtension inMemory() {
        return new RewindServerExtension(false);
    }

    /** A server on RocksDB in a temporary directory, deleted when the server stops; survives {@link #restart()}. */
    public static RewindServerExtension onRocksDb() {
        return new RewindServerExtension(true);
    }

    /**
     * Adds server options, as on the command line: {@code withOptions("--max-event-size", "64KiB")}.
     * The storage, data directory and endpoints are the extension's.
     */
    public RewindServerExtension withOptions(String... serverOptions) {
        options.addAll(List.of(serverOptions));
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        perClass = true;
        start();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (server == null) {
            start();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        closeClients();
        if (!perClass) {
            stop();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
    }

    /** Starts the server; the extension calls this itself. */
    public void start() {
        start("tcp://127.0.0.1:*", "tcp://127.0.0.1:*");
    }

    private void start(String commandEndpoint, String streamEndpoint) {
        if (server != null) {
            throw new IllegalStateException("the Rewind server is already running");
        }
        List<String> args = new ArrayList<>(List.of("--command-endpoint", commandEndpoint,
                "--stream-endpoint", streamEndpoint));
        if (rocksDb) {
            try {
                if (dataDir == null) {
                    dataDir = Files.createTempDirectory("rewind-testkit-");
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot make a data directory for the Rewind server", e);
            }
            args.addAll(List.of("--storage", "rocksdb", "--data-dir", dataDir.toString()));
            if (!options.contains("--min-free-space")) {
                args.addAll(List.of("--min-free-space", "16MiB"));
            }
        } else {
            args.addAll(List.of("--storage", "memory"));
        }
        args.addAll(options);
        server = RewindServer.start(ServerOptions.parse(args.toArray(new String[0])));
    }

    /**
     * Stops the server cleanly and starts it again on the same data and ports: on RocksDB every
     * event is still there, in memory none is. Clients reconnect by themselves.
     */
    public void restart() {
        String command = server.commandEndpoint();
        String feed = server.streamEndpoint();
        server.close();
        server = null;
        start(command, feed);
    }

    /** Closes every client the extension made and stops the server; the data directory is deleted. */
    public void stop() {
        closeClients();
        if (server != null) {
            server.close();
            server = null;
        }
        if (dataDir != null) {
            deleteRecursively(dataDir);
            dataDir = null;
        }
    }

    @Override
    public String commandEndpoint() {
        return running().commandEndpoint();
    }

    @Override
    public String streamEndpoint() {
        return running().streamEndpoint();
    }

    /** A new client of the server, closed by the extension after the test. */
    public RewindClient newClient() {
        RunningCheck.require(server);
        RewindClient client = RewindClient.builder().commandEndpoint(commandEndpoint())
                .streamEndpoint(streamEndpoint()).build();
        synchronized (clients) {
            clients.add(client);
        }
        return client;
    }

    @Override
    public void close() {
        stop();
    }

    private RewindServer running() {
        RunningCheck.require(server);
        return server;
    }

    private void closeClients() {
        synchronized (clients) {
            clients.forEach(RewindClient::close);
            clients.clear();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == RewindClient.class || type == RewindServerExtension.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == RewindClient.class ? newClient() : this;
    }

    private static void deleteRecursively(Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the Rewind server's data directory " + directory, e);
        }
    }

    /** Says clearly that the server is not running, rather than failing on a null. */
    private static final class RunningCheck {
        static void require(RewindServer server) {
            if (server == null) {
                throw new IllegalStateException("the Rewind server is not running: register the extension with"
                        + " @RegisterExtension, or call start()");
            }
        }
    }
}
