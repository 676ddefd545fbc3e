package io.rewind.it;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * The client contract against the server image built from the repository's Dockerfile. Skipped,
 * with a reason, when no Docker engine is reachable.
 */
@Testcontainers(disabledWithoutDocker = true)
class DockerImageIT extends ClientContractIT {
    private static final Path ROOT = Path.of(System.getProperty("rewind.repository.root", ".."));

    @Override
    String storage() {
        return "rocksdb";
    }

    @Override
    ServerUnderTest start() {
        ImageFromDockerfile image = new ImageFromDockerfile("rewind-server-it", true)
                .withFileFromPath("Dockerfile", ROOT.resolve("Dockerfile"))
                .withFileFromPath("rewind-server/target/rewind-server.jar",
                        ROOT.resolve("rewind-server/target/rewind-server.jar"));
        List<String> command = new ArrayList<>(List.of("--data-dir", "/data", "--command-endpoint",
                "tcp://0.0.0.0:9090", "--stream-endpoint", "tcp://0.0.0.0:9091"));
        command.addAll(List.of(OPTIONS));
        GenericContainer<?> container = new GenericContainer<>(image)
                .withExposedPorts(9090, 9091)
                .withCommand(command.toArray(new String[0]))
                .waitingFor(Wait.forLogMessage(".* ready: .*", 1));
        container.start();
        return new ServerUnderTest() {
            @Override
            public String commandEndpoint() {
                return "tcp://" + container.getHost() + ":" + container.getMappedPort(9090);
            }

            @Override
            public String streamEndpoint() {
                return "tcp://" + container.getHost() + ":" + container.getMappedPort(9091);
            }

            @Override
            public void close() {
                container.stop();
            }
        };
    }
}
