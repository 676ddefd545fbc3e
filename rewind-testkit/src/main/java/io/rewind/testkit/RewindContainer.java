package io.rewind.testkit;

import io.rewind.client.RewindClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * The Rewind server's container image, for Testcontainers: commands on port 9090 and the live feed
 * on 9091, both exposed, with the store in the container's {@code /data}. Started once the server
 * logs that it is ready.
 *
 * <pre>{@code
 * @Container
 * static final RewindContainer rewind = new RewindContainer("rewind:latest");
 *
 * try (RewindClient client = rewind.newClient()) { ... }
 * }</pre>
 *
 * <p>A client of the container must be given both endpoints, as {@link #newClient()} does: the feed
 * endpoint the server announces is the one inside the container.
 */
public class RewindContainer extends GenericContainer<RewindContainer> implements ServerUnderTest {
    /** The command port inside the container. */
    public static final int COMMAND_PORT = 9090;
    /** The live-feed port inside the container. */
    public static final int FEED_PORT = 9091;
    private static final List<String> BASE = List.of("--data-dir", "/data", "--command-endpoint",
            "tcp://0.0.0.0:" + COMMAND_PORT, "--stream-endpoint", "tcp://0.0.0.0:" + FEED_PORT);

    /** @param image e.g. {@code "rewind:latest"}, built from the repository's Dockerfile */
    public RewindContainer(String image) {
        this(DockerImageName.parse(image));
    }

    public RewindContainer(DockerImageName image) {
        super(image);
        exposeRewind();
    }

    /** @param image an image being built, e.g. Testcontainers' {@code ImageFromDockerfile} */
    public RewindContainer(Future<String> image) {
        super(image);
        exposeRewind();
    }

    private void exposeRewind() {
        withExposedPorts(COMMAND_PORT, FEED_PORT);
        withCommand(BASE.toArray(new String[0]));
        waitingFor(Wait.forLogMessage(".* ready: .*", 1));
    }

    /** Adds server options, as on the command line, to the container's command. */
    public RewindContainer withServerOptions(String... options) {
        List<String> command = new ArrayList<>(BASE);
        command.addAll(List.of(options));
        return withCommand(command.toArray(new String[0]));
    }

    @Override
    public String commandEndpoint() {
        return "tcp://" + getHost() + ":" + getMappedPort(COMMAND_PORT);
    }

    @Override
    public String streamEndpoint() {
        return "tcp://" + getHost() + ":" + getMappedPort(FEED_PORT);
    }

    /** A client of the container's server, with both endpoints mapped to the host. */
    public RewindClient newClient() {
        return RewindClient.builder().commandEndpoint(commandEndpoint()).streamEndpoint(streamEndpoint()).build();
    }

    @Override
    public void close() {
        stop();
    }
}
