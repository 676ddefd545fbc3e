package io.rewind.server.storage;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a reserve of free disk space under the data directory: appends are refused while less than
 * the reserve is free, so that RocksDB never runs out in the middle of a write, and a restart (which
 * replays the write-ahead log into new table files) and compactions always have room. Free space is
 * asked of the file system at most every {@value #CHECK_INTERVAL_MILLIS} ms, by the writer thread.
 */
final class DiskSpaceGuard {
    private static final Logger log = LoggerFactory.getLogger(DiskSpaceGuard.class);
    static final long CHECK_INTERVAL_MILLIS = 100;

    private final Path directory;
    private final long minFreeBytes;
    private FileStore store;
    private long checkedAt = System.nanoTime() - TimeUnit.DAYS.toNanos(1);
    private String problem;

    /** @param minFreeBytes the reserve; 0 turns the guard off */
    DiskSpaceGuard(Path directory, long minFreeBytes) {
        this.directory = directory;
        this.minFreeBytes = minFreeBytes;
    }

    /**
     * Says at start, in one line, when the disk is too small for the reserve ever to be free: every append would be
     * refused, and the refusals alone would not say that no deleting of files can help.
     */
    void warnIfDiskSmallerThanReserve() {
        if (minFreeBytes <= 0) {
            return;
        }
        try {
            long total = Files.getFileStore(directory).getTotalSpace();
            if (total < minFreeBytes) {
                log.warn("The disk of data directory {} holds {} in all, less than the reserve of {}"
                        + " (--min-free-space): every append will be refused. Lower --min-free-space (0 turns it"
                        + " off) or use a larger disk", directory, mib(total), mib(minFreeBytes));
            }
        } catch (IOException e) {
            log.warn("Cannot tell the size of the disk under {}: {}", directory, e.toString());
        }
    }

    /** Why appends must be refused now, or null when there is room. */
    String problem() {
        if (minFreeBytes <= 0) {
            return null;
        }
        long now = System.nanoTime();
        if (now - checkedAt < TimeUnit.MILLISECONDS.toNanos(CHECK_INTERVAL_MILLIS)) {
            return problem;
        }
        checkedAt = now;
        String was = problem;
        try {
            if (store == null) {
                store = Files.getFileStore(directory);
            }
            long free = store.getUsableSpace();
            problem = free >= minFreeBytes ? null : "the disk of data directory " + directory + " is almost full: "
                    + mib(free) + " free, below the reserve of " + mib(minFreeBytes)
                    + " (--min-free-space); appends are refused until space is freed";
        } catch (IOException e) {
            // Not knowing is no reason to refuse: RocksDB reports a write that really fails.
            problem = null;
            log.warn("Cannot tell the free space under {}: {}", directory, e.toString());
        }
        if (problem != null && was == null) {
            log.warn("Refusing appends: {}", problem);
        } else if (problem == null && was != null) {
            log.info("Taking appends again: the disk of data directory {} has more than {} free", directory,
                    mib(minFreeBytes));
        }
        return problem;
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }
}
