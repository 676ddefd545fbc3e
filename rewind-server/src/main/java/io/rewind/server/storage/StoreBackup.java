package io.rewind.server.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.rocksdb.BackupEngine;
import org.rocksdb.BackupEngineOptions;
import org.rocksdb.BackupInfo;
import org.rocksdb.Env;
import org.rocksdb.RestoreOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;

/**
 * Backups of a RocksDB store with RocksDB's BackupEngine, and restores from them. A backup is made
 * from a checkpoint ({@link RocksDbStorage#checkpoint}), which holds exactly the events committed
 * when it was taken; table files are shared between the backups of one directory, so each backup
 * after the first copies only what is new. Each backup records the position it holds.
 */
public final class StoreBackup {
    private static final String POSITION = "position=";

    static {
        RocksDB.loadLibrary();
    }

    /**
     * One backup.
     *
     * @param position   the newest event's global position in it, -1 for an empty store
     * @param newBytes   bytes this backup added to its directory
     * @param totalBytes bytes of all its files, shared or not
     */
    public record Result(long position, int backupId, Path directory, long newBytes, long totalBytes) {}

    private StoreBackup() {}

    /** Adds the checkpoint to the backup directory as a new backup, then deletes the checkpoint. */
    public static Result backup(Path checkpoint, long position, Path backupDir) {
        try {
            Files.createDirectories(backupDir);
            long before = size(backupDir);
            try (RocksDbStorage copy = RocksDbStorage.open(checkpoint);
                    BackupEngineOptions options = new BackupEngineOptions(backupDir.toString())
                            .setShareTableFiles(true).setShareFilesWithChecksum(true).setSync(true);
                    BackupEngine engine = BackupEngine.open(Env.getDefault(), options)) {
                engine.createNewBackupWithMetadata(copy.database().rocks(), POSITION + position, false);
                BackupInfo info = newest(engine.getBackupInfo(), backupDir);
                return new Result(position, info.backupId(), backupDir, size(backupDir) - before, info.size());
            }
        } catch (IOException e) {
            throw new StorageException("cannot back up into " + backupDir + ": " + e, e);
        } catch (RocksDBException e) {
            throw new StorageException("cannot back up into " + backupDir + ": " + e.getMessage(), e);
        } finally {
            deleteRecursively(checkpoint);
        }
    }

    /**
     * Builds a data directory from the newest backup in {@code backupDir}, offline.
     *
     * @return the newest event's global position in the restored store
     * @throws StorageException when the backup directory holds no backup or the data directory holds a store
     */
    public static long restore(Path backupDir, Path dataDir) {
        if (!Files.isDirectory(backupDir)) {
            throw new StorageException("there is no backup directory " + backupDir);
        }
        StoreDirectory target = StoreDirectory.inspect(dataDir);
        if (target.state() != StoreDirectory.State.NEW) {
            throw new StorageException("data directory " + dataDir + " already holds a store; restore into an empty"
                    + " directory");
        }
        try (BackupEngineOptions options = new BackupEngineOptions(backupDir.toString());
                BackupEngine engine = BackupEngine.open(Env.getDefault(), options);
                RestoreOptions restore = new RestoreOptions(false)) {
            BackupInfo info = newest(engine.getBackupInfo(), backupDir);
            engine.restoreDbFromBackup(info.backupId(), dataDir.toString(), dataDir.toString(), restore);
            String metadata = String.valueOf(info.appMetadata());
            return metadata.startsWith(POSITION) ? Long.parseLong(metadata.substring(POSITION.length())) : -1;
        } catch (RocksDBException e) {
            throw new StorageException("cannot restore " + backupDir + " into " + dataDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The bytes of the newest backup in a directory, shared files included: what a restore of it copies.
     *
     * @throws StorageException when the directory holds no backup
     */
    public static long newestBackupBytes(Path backupDir) {
        if (!Files.isDirectory(backupDir)) {
            throw new StorageException("there is no backup directory " + backupDir);
        }
        try (BackupEngineOptions options = new BackupEngineOptions(backupDir.toString());
                BackupEngine engine = BackupEngine.open(Env.getDefault(), options)) {
            return newest(engine.getBackupInfo(), backupDir).size();
        } catch (RocksDBException e) {
            throw new StorageException("cannot read the backups in " + backupDir + ": " + e.getMessage(), e);
        }
    }

    private static BackupInfo newest(List<BackupInfo> backups, Path backupDir) {
        return backups.stream().max(Comparator.comparingInt(BackupInfo::backupId))
                .orElseThrow(() -> new StorageException("backup directory " + backupDir + " holds no backup"));
    }

    private static long size(Path directory) throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            long total = 0;
            for (Path file : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(file)) {
                    total += Files.size(file);
                }
            }
            return total;
        }
    }

    /** Deletes a checkpoint that a backup left behind. */
    public static void deleteCheckpoint(Path checkpoint) {
        deleteRecursively(checkpoint);
    }

    static void deleteRecursively(Path directory) {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + directory, e);
        }
    }
}
