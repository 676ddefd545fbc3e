package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.testkit.ServerProcess;
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
    void theReadmeShowsTheExamplesVerbatim() throws Exception {
        String readme = Files.readString(ROOT.resolve("README.md"));

        assertThat(readme).contains("```java\n" + tagged("rewind-it/src/test/java/io/rewind/it/ReadmeExample.java",
                "example") + "```");
        // The test kit's example is a test the kit's own build runs.
        assertThat(readme).contains("```java\n" + tagged(
                "rewind-testkit/src/test/java/io/rewind/testkit/OrderProjectionTest.java", "testkit") + "```");
    }

    /** The lines of a source file between {@code // tag::NAME[]} and {@code // end::NAME[]}. */
    private static String tagged(String file, String tag) throws Exception {
        String source = Files.readString(ROOT.resolve(file));
        String start = "// tag::" + tag + "[]\n";
        return source.substring(source.indexOf(start) + start.length(), source.indexOf("// end::" + tag + "[]"));
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
