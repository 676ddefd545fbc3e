package io.rewind.server.transport;

import io.rewind.protocol.v1.BackupResponse;
import io.rewind.protocol.v1.Response;
import io.rewind.server.core.ErrorCode;
import io.rewind.server.core.RequestException;
import io.rewind.server.storage.EventStorage;
import io.rewind.server.storage.RocksDbStorage;
import io.rewind.server.storage.StoreBackup;
import io.rewind.server.transport.RouterEndpoint.DeferredReply;
import java.nio.file.InvalidPathException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Online backups. The command thread takes a checkpoint (a flush and hard links) between two writes
 * of the store, so the backup holds exactly the events committed until then and no append is torn
 * across column families (in a replicated group: every entry applied until then, and the log index
 * with them); the {@code rewind-backup} thread then copies the checkpoint into the
 * backup directory while appends go on, and the reply is sent when it is done. One at a time.
 */
final class Backups implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Backups.class);
    /** Inside the data directory, so that the checkpoint's hard links stay on its file system. */
    private static final String CHECKPOINT = ".backup-checkpoint";

    private final EventStorage storage;
    private final Path dataDir;
    /** The directory that every backup must be under ({@code --backup-root}, a real path), or null for any. */
    private final Path root;
    private final Consumer<DeferredReply> replies;
    private final AtomicBoolean running = new AtomicBoolean();
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread backup = new Thread(r, "rewind-backup");
        backup.setDaemon(true);
        return backup;
    });

    /** @param replies sends a reply on the command endpoint, from any thread */
    Backups(EventStorage storage, Path dataDir, Path root, Consumer<DeferredReply> replies) {
        this.storage = storage;
        this.dataDir = dataDir;
        this.root = root;
        this.replies = replies;
    }

    /** On the command thread: starts a backup; its reply comes later. */
    void start(long requestId, byte[][] envelope, String directory) {
        if (!(storage instanceof RocksDbStorage rocks)) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST, "the " + storage.engine()
                    + " storage engine keeps nothing to back up");
        }
        Path target;
        try {
            target = Path.of(directory);
        } catch (InvalidPathException e) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST, "backup directory '" + directory + "' is not a path: "
                    + e.getMessage());
        }
        if (directory.isEmpty() || !target.isAbsolute()) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST, "backup directory '" + directory
                    + "' must be an absolute path on the server's machine");
        }
        if (target.normalize().startsWith(dataDir)) {
            throw RequestException.of(ErrorCode.INVALID_REQUEST, "backup directory " + target
                    + " is inside the data directory " + dataDir);
        }
        if (root != null && !under(root, target)) {
            throw RequestException.of(ErrorCode.PERMISSION_DENIED, "backup directory " + target + " is not under"
                    + " --backup-root " + root + "; nothing was written");
        }
        if (!running.compareAndSet(false, true)) {
            throw RequestException.of(ErrorCode.UNAVAILABLE, "a backup is already running; retry when it is done");
        }
        Path checkpoint = dataDir.resolve(CHECKPOINT);
        long position;
        long started = System.nanoTime();
        try {
            // Left by a backup the server did not finish.
            StoreBackup.deleteCheckpoint(checkpoint);
            position = rocks.checkpoint(checkpoint);
        } catch (RuntimeException e) {
            running.set(false);
            throw RequestException.of(ErrorCode.INTERNAL, "backup into " + target + " failed: " + e.getMessage());
        }
        log.info("Backing up {} events into {}: checkpoint taken in {} ms", position + 1, target,
                (System.nanoTime() - started) / 1_000_000);
        thread.execute(() -> {
            Response response;
            try {
                StoreBackup.Result result = StoreBackup.backup(checkpoint, position, target);
                log.info("Backup {} in {} holds position {}: {} bytes new of {} in {} ms", result.backupId(), target,
                        position, result.newBytes(), result.totalBytes(), (System.nanoTime() - started) / 1_000_000);
                response = Response.newBuilder().setRequestId(requestId).setBackup(BackupResponse.newBuilder()
                        .setPosition(position).setBackupId(result.backupId()).setDirectory(target.toString())
                        .setNewBytes(result.newBytes()).setTotalBytes(result.totalBytes())).build();
            } catch (RuntimeException e) {
                log.error("Backup into {} failed: {}", target, e.getMessage());
                response = ProtoCodec.error(requestId, ErrorCode.INTERNAL, "backup into " + target + " failed: "
                        + e.getMessage());
            } finally {
                running.set(false);
            }
            replies.accept(new DeferredReply(envelope, response.toByteArray()));
        });
    }

    /**
     * Whether the target is inside the root once every symbolic link of the part of it that exists is resolved:
     * a link under the root that points elsewhere does not lead a backup out of it.
     */
    static boolean under(Path root, Path target) {
        Path normalized = target.normalize();
        if (!normalized.startsWith(root)) {
            return false;
        }
        Path existing = normalized;
        while (existing != null && !Files.exists(existing, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        try {
            return existing != null && existing.toRealPath().startsWith(root);
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** Stops taking backups; one under way is abandoned (its directory keeps the earlier backups whole). */
    @Override
    public void close() {
        thread.shutdownNow();
    }
}
