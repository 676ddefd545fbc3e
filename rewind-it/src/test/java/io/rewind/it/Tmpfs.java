package io.rewind.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A small tmpfs mounted for one test, to run a store out of disk space without filling the
 * machine's disk. Mounting needs root (CI runs as root); where it is refused the test is skipped
 * with the reason.
 */
final class Tmpfs implements AutoCloseable {
    private final Path mountPoint;

    private Tmpfs(Path mountPoint) {
        this.mountPoint = mountPoint;
    }

    /** Mounts a tmpfs of this many MiB at the directory, or skips the calling test saying why it cannot. */
    static Tmpfs mountOrSkip(Path mountPoint, int mebibytes) throws IOException, InterruptedException {
        Files.createDirectories(mountPoint);
        String failure = run("mount", "-t", "tmpfs", "-o", "size=" + mebibytes + "m", "tmpfs", mountPoint.toString());
        Assumptions.assumeTrue(failure == null, () -> "skipped: this test needs a small tmpfs and cannot mount one"
                + " (it must run as root on Linux): " + failure);
        return new Tmpfs(mountPoint);
    }

    Path path() {
        return mountPoint;
    }

    /** Bytes free for an unprivileged writer. */
    long free() throws IOException {
        return Files.getFileStore(mountPoint).getUsableSpace();
    }

    /** Fills the file system until only about {@code leaveBytes} are free, with one file that {@link #free} returns. */
    Path fill(long leaveBytes) throws IOException {
        Path filler = mountPoint.resolve("filler-" + System.nanoTime());
        long size = Math.max(0, free() - leaveBytes);
        byte[] chunk = new byte[1 << 20];
        try (var out = Files.newOutputStream(filler)) {
            for (long written = 0; written < size; written += chunk.length) {
                out.write(chunk, 0, (int) Math.min(chunk.length, size - written));
            }
        }
        return filler;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        String failure = run("umount", "-l", mountPoint.toString());
        if (failure != null) {
            throw new IOException("cannot unmount the test tmpfs at " + mountPoint + ": " + failure);
        }
    }

    /** Runs a command; null when it succeeded, else what it printed. */
    private static String run(String... command) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        } catch (IOException e) {
            return e.getMessage();
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return String.join(" ", command) + " did not finish within 30 s";
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return process.exitValue() == 0 ? null : "exit status " + process.exitValue() + ": " + output;
    }
}
