package io.rewind.server.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --backup-root: what counts as under it. */
class BackupsTest {
    @TempDir
    Path tmp;

    @Test
    void aBackupStaysUnderTheRootWhateverLinksAndDotsSay() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("backups")).toRealPath();
        Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere")).toRealPath();
        Files.createSymbolicLink(root.resolve("escape"), elsewhere);

        assertThat(Backups.under(root, root.resolve("nightly"))).isTrue();
        assertThat(Backups.under(root, root.resolve("a/b/c"))).as("not made yet").isTrue();
        assertThat(Backups.under(root, elsewhere.resolve("nightly"))).isFalse();
        assertThat(Backups.under(root, root.resolve("../elsewhere/nightly"))).as("dots").isFalse();
        assertThat(Backups.under(root, root.resolve("escape/nightly"))).as("a link out of the root").isFalse();
    }
}
