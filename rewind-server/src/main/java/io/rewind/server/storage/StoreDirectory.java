package io.rewind.server.storage;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Reader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A Rewind data directory and its identity, checked before RocksDB is allowed to touch it.
 *
 * <p>RocksDB opened with {@code create_if_missing} writes a new, empty database into a directory
 * whose {@code CURRENT} file is missing, and its next open deletes the old table files as
 * obsolete: one lost file wiped every event. So a Rewind store is created only in a directory that
 * holds no store files, and it gets a marker file, {@value #MARKER}, with its id and format version.
 * A directory with a marker is opened as an existing store, never created; a directory with RocksDB
 * files but neither a marker nor a {@code CURRENT} file is refused. Every refusal happens before any
 * file is written, so a refused start changes nothing, however often it is tried.
 */
public final class StoreDirectory {
    /** The marker file's name. */
    public static final String MARKER = "REWIND-STORE";
    /** The store format this server reads and writes. */
    public static final int FORMAT_VERSION = 1;

    /** Files RocksDB writes into its directory; anything else (lost+found, a README) is left alone. */
    private static final Pattern STORE_FILE = Pattern.compile(
            "CURRENT|IDENTITY|LOCK|LOG(\\.old\\.\\d+)?|MANIFEST-\\d+|OPTIONS-\\d+(\\.dbtmp)?|\\d+\\.(sst|log|blob|dbtmp)"
                    + "|" + MARKER);

    /** What a start found in the directory. */
    public enum State {
        /** No store files: a new store is created, then marked. */
        NEW,
        /** A marked store: opened, never created. */
        EXISTING,
        /** A store of an earlier Rewind, without a marker but whole: opened, never created, then marked. */
        UNMARKED
    }

    private final Path directory;
    private final State state;
    private final UUID storeId;

    private StoreDirectory(Path directory, State state, UUID storeId) {
        this.directory = directory;
        this.state = state;
        this.storeId = storeId;
    }

    /**
     * Looks at the directory, creating it when it does not exist, and decides how the store in it may
     * be opened.
     *
     * @throws StorageException naming the directory and what is wrong, having written nothing into it
     */
    public static StoreDirectory inspect(Path directory) {
        if (Files.exists(directory) && !Files.isDirectory(directory)) {
            throw new StorageException("data directory " + directory + " is not a directory");
        }
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new StorageException("cannot create data directory " + directory + ": " + e, e);
        }
        List<String> storeFiles;
        try (Stream<Path> entries = Files.list(directory)) {
            storeFiles = entries.map(p -> p.getFileName().toString()).filter(n -> STORE_FILE.matcher(n).matches())
                    .sorted().toList();
        } catch (IOException e) {
            throw new StorageException("cannot list data directory " + directory + ": " + e, e);
        }
        boolean hasCurrent = storeFiles.contains("CURRENT");
        if (storeFiles.contains(MARKER)) {
            UUID id = readMarker(directory);
            if (!hasCurrent) {
                throw new StorageException("data directory " + directory + " holds Rewind store " + id
                        + " but its RocksDB file CURRENT is missing, so the store cannot be opened. Nothing was"
                        + " changed. Restore the directory from a backup, or recreate CURRENT as one line naming the"
                        + " newest manifest" + manifests(storeFiles) + " and start again");
            }
            return new StoreDirectory(directory, State.EXISTING, id);
        }
        if (hasCurrent) {
            return new StoreDirectory(directory, State.UNMARKED, null);
        }
        if (!storeFiles.isEmpty()) {
            throw new StorageException("data directory " + directory + " holds RocksDB files (" + sample(storeFiles)
                    + ") but no CURRENT file and no " + MARKER + " marker: it is a damaged store or not a Rewind"
                    + " store. Refusing to create a new store over it; nothing was changed. Restore it from a"
                    + " backup, or point --data-dir at an empty directory");
        }
        return new StoreDirectory(directory, State.NEW, UUID.randomUUID());
    }

    private static String manifests(List<String> files) {
        List<String> manifests = files.stream().filter(f -> f.startsWith("MANIFEST-")).toList();
        return manifests.isEmpty() ? " (there is no MANIFEST file either)" : " (found: " + sample(manifests) + ")";
    }

    private static String sample(List<String> files) {
        return files.size() <= 6 ? String.join(", ", files)
                : String.join(", ", files.subList(0, 6)) + " and " + (files.size() - 6) + " more";
    }

    private static UUID readMarker(Path directory) {
        Path marker = directory.resolve(MARKER);
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(marker, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (IOException | IllegalArgumentException e) {
            throw new StorageException("cannot read the store marker " + marker + ": " + e, e);
        }
        String id = properties.getProperty("store-id");
        String format = properties.getProperty("format-version");
        if (id == null || format == null) {
            throw new StorageException("the store marker " + marker + " is damaged: it must name store-id and"
                    + " format-version");
        }
        int version;
        UUID storeId;
        try {
            storeId = UUID.fromString(id.trim());
            version = Integer.parseInt(format.trim());
        } catch (IllegalArgumentException e) {
            throw new StorageException("the store marker " + marker + " is damaged: " + e.getMessage(), e);
        }
        if (version != FORMAT_VERSION) {
            throw new StorageException("data directory " + directory + " holds a store of format version " + version
                    + "; this server reads format version " + FORMAT_VERSION
                    + (version > FORMAT_VERSION ? ": run a newer Rewind on it" : ""));
        }
        return storeId;
    }

    public Path directory() {
        return directory;
    }

    public State state() {
        return state;
    }

    /** The store's id: from the marker, or a new one for a new store; null for an unmarked store until marked. */
    public UUID storeId() {
        return storeId;
    }

    /**
     * Writes the marker of a store that now exists and has this id: to a temporary file, synced, then
     * renamed over, so that a crash leaves either no marker or a whole one.
     */
    public StoreDirectory mark(UUID id) {
        Path marker = directory.resolve(MARKER);
        Path temporary = directory.resolve(MARKER + ".tmp");
        Properties properties = new Properties();
        properties.setProperty("store-id", id.toString());
        properties.setProperty("format-version", Integer.toString(FORMAT_VERSION));
        properties.setProperty("created", Instant.now().toString());
        try {
            try (OutputStream out = Files.newOutputStream(temporary)) {
                properties.store(out, "A Rewind store: this file identifies the directory; do not edit or delete it");
            }
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            try {
                Files.move(temporary, marker, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, marker, StandardCopyOption.REPLACE_EXISTING);
            }
            syncDirectory(directory);
        } catch (IOException e) {
            throw new StorageException("cannot write the store marker " + marker + ": " + e, e);
        }
        return new StoreDirectory(directory, State.EXISTING, id);
    }

    private static void syncDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some file systems cannot sync a directory; the rename is atomic there all the same.
        }
    }
}
