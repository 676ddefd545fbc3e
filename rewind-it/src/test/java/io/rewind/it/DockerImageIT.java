package io.rewind.it;

import io.rewind.testkit.RewindContainer;
import io.rewind.testkit.ServerUnderTest;
import java.nio.file.Path;
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
        RewindContainer container = new RewindContainer(image).withServerOptions(OPTIONS);
        container.start();
        return container;
    }
}
