package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's client example is {@link ReadmeExample}, word for word, and it runs. */
class ReadmeExampleIT {
    private static final Path ROOT = Path.of(System.getProperty("rewind.repository.root", ".."));

    @TempDir
    Path tmp;

    @Test
    void theReadmeShowsTheExampleVerbatim() throws Exception {
        String source = Files.readString(ROOT.resolve("rewind-it/src/test/java/io/rewind/it/ReadmeExample.java"));
        String example = source.substring(source.indexOf("// tag::example[]\n") + "// tag::example[]\n".length(),
                source.indexOf("// end::example[]"));
        String readme = Files.readString(ROOT.resolve("README.md"));

        assertThat(readme).contains("```java\n" + example + "```");
    }

    @Test
    void theExampleRunsAgainstARealServer() {
        try (ServerProcess server = ServerProcess.start("readme", tmp.resolve("data"), "rocksdb")) {
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            PrintStream original = System.out;
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            try {
                ReadmeExample.main(new String[] {server.commandEndpoint()});
            } finally {
                System.setOut(original);
            }
            assertThat(captured.toString(StandardCharsets.UTF_8)).isEqualTo("""
                    conflict: order-42 is at version 1
                    0 OrderPlaced {"total": 99}
                    1 OrderPaid {"amount": 99}
                    events stored: 2
                    """);
        }
    }
}
