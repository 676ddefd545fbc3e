package io.rewind.server.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.Env;
import org.rocksdb.FlushOptions;
import org.rocksdb.HashSkipListMemTableConfig;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.SstFileManager;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores events in an embedded RocksDB, one append in one {@link WriteBatch} so that a crash never
 * leaves half an append.
 *
 * <p>Column families:
 * <ul>
 *   <li>{@code events}: global position → event (see {@link EventCodec});</li>
 *   <li>{@code streams}: stream name, NUL, version → global position;</li>
 *   <li>{@code heads}: stream name → version of its last event, so heads are known without scanning;</li>
 *   <li>{@code ids}: event id → global position, stream version and stream (idempotency, lookup by id);</li>
 *   <li>{@code tags}: tag, global position → nothing: the events that carry each tag (reads by query);</li>
 *   <li>{@code types}: event type, global position → nothing: the events of each type;</li>
 *   <li>{@code lifecycle}: stream name → its {@link StreamState}, for the streams that have one;</li>
 *   <li>{@code default}: metadata, e.g. the stream count.</li>
 * </ul>
 */
public final class RocksDbStorage implements EventStorage {
    private static final Logger log = LoggerFactory.getLogger(RocksDbStorage.class);
    /**
     * The two newest levels, which take every write and most reads of recent history, stay
     * uncompressed; the older levels, where most of a long log lies, are LZ4-compressed. A full
     * replay of recent events spent a sixth of its time decompressing.
     */
    private static final List<CompressionType> COMPRESSION_PER_LEVEL = List.of(CompressionType.NO_COMPRESSION,
            CompressionType.NO_COMPRESSION, CompressionType.LZ4_COMPRESSION, CompressionType.LZ4_COMPRESSION,
            CompressionType.LZ4_COMPRESSION, CompressionType.LZ4_COMPRESSION, CompressionType.LZ4_COMPRESSION);
    private static final byte[] STREAM_COUNT_KEY = "stream_count".getBytes(StandardCharsets.US_ASCII);
    /** The store's id, also in the {@link StoreDirectory#MARKER} file, so the two can be checked against each other. */
    private static final byte[] STORE_ID_KEY = "store_id".getBytes(StandardCharsets.US_ASCII);
    /** Written to test whether writes work again after a failure. */
    /** The Raft term and index of the newest replicated log entry applied to the store. */
    private static final byte[] REPLICATED_KEY = "replicated_term_index".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PROBE_KEY = "write_probe".getBytes(StandardCharsets.US_ASCII);
    /**
     * Present once the tag and type indexes cover every event: a store of an earlier Rewind lacks them and gets
     * them at its first start ({@link #buildIndexes}). While they are built, the global position up to which they
     * are is kept under {@link #INDEXED_UP_TO_KEY}, so that a build cut short goes on where it stopped.
     */
    private static final byte[] INDEXES_KEY = "indexes_complete".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] INDEXED_UP_TO_KEY = "indexes_built_below".getBytes(StandardCharsets.US_ASCII);
    /** The most write-ahead log kept; a restart needs about this much free space to replay it. */
    public static final long MAX_WAL_BYTES = 256L << 20;
    private static final long REOPEN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int OPEN_PROGRESS_SECONDS = 5;

    static {
        RocksDB.loadLibrary();
    }

    private final Path directory;
    private final DiskSpaceGuard disk;
    /** Native objects the database uses; closed after it, in reverse order of creation. */
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final DBOptions dbOptions;
    private final List<ColumnFamilyDescriptor> descriptors;
    private final WriteOptions syncWrites;
    private final WriteOptions bufferedWrites;
    /**
     * Readers hold the read lock; a reopen after a failed write swaps {@link #db} under the write
     * lock. Uncontended but for that rare reopen.
     */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    /** Held by each write and by a checkpoint, which must fall between two writes; uncontended otherwise. */
    private final Object writes = new Object();
    /** The open database, or null between a failed reopen and the next attempt. */
    private Db db;
    private Thread writer;
    private volatile long nextPosition;
    private volatile long streamCount;
    /** Every stream's lifecycle other than {@link StreamState#NONE}; updated after each write that changes one. */
    private final Map<String, StreamState> states = new java.util.concurrent.ConcurrentHashMap<>();
    /** The write failure the store has not recovered from yet, or null. */
    private volatile RocksDBException writeFailure;
    private long lastReopenNanos;
    /** Opened by {@link #openReadOnly}: no writes, no flush at close. */
    private boolean readOnly;
    private String lastReopenProblem;

    /**
     * One open RocksDB instance and its column families, found by name (a read-only open of an earlier store has
     * only some of them).
     */
    record Db(RocksDB rocks, List<ColumnFamilyHandle> handles, Map<String, ColumnFamilyHandle> byName) {
        static Db of(RocksDB rocks, List<ColumnFamilyDescriptor> descriptors, List<ColumnFamilyHandle> handles) {
            Map<String, ColumnFamilyHandle> byName = new java.util.HashMap<>();
            for (int i = 0; i < descriptors.size(); i++) {
                byName.put(new String(descriptors.get(i).getName(), java.nio.charset.StandardCharsets.UTF_8),
                        handles.get(i));
            }
            return new Db(rocks, handles, Map.copyOf(byName));
        }

        private ColumnFamilyHandle family(String name) {
            ColumnFamilyHandle handle = byName.get(name);
            if (handle == null) {
                throw new IllegalStateException("the store has no column family '" + name + "'");
            }
            return handle;
        }

        ColumnFamilyHandle meta() {
            return family("default");
        }

        ColumnFamilyHandle events() {
            return family("events");
        }

        ColumnFamilyHandle streams() {
            return family("streams");
        }

        ColumnFamilyHandle heads() {
            return family("heads");
        }

        ColumnFamilyHandle ids() {
            return family("ids");
        }

        ColumnFamilyHandle tags() {
            return family("tags");
        }

        ColumnFamilyHandle types() {
            return family("types");
        }

        /** Whether the tag and type index families exist (a store of an earlier Rewind opened read-only may lack them). */
        boolean hasIndexes() {
            return byName.containsKey("tags") && byName.containsKey("types");
        }

        /** Null on a store of an earlier Rewind opened read-only, which has no such family yet. */
        ColumnFamilyHandle lifecycle() {
            return byName.get("lifecycle");
        }

        void close() {
            handles.forEach(ColumnFamilyHandle::close);
            rocks.close();
        }
    }

    private RocksDbStorage(Path directory, long minFreeBytes) {
        this.directory = directory;
        this.disk = new DiskSpaceGuard(directory, minFreeBytes);
        LRUCache cache = own(new LRUCache(128L << 20));
        ColumnFamilyOptions eventOptions = own(new ColumnFamilyOptions()
                .setCompressionPerLevel(COMPRESSION_PER_LEVEL)
                .setWriteBufferSize(64L << 20)
                .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(cache).setBlockSize(32 << 10)));
        ColumnFamilyOptions lookupOptions = own(new ColumnFamilyOptions()
                .setCompressionPerLevel(COMPRESSION_PER_LEVEL)
                .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(cache)
                        .setFilterPolicy(own(new BloomFilter(10)))));
        // Event ids are random: in a skip list each insert starts its search from scratch, which cost
        // the writer more than the rest of the write. A key-sized prefix makes the memtable a hash
        // table. Every append looks up each of its ids and nearly every lookup misses, so bloom
        // filters on the memtable and the tables answer a miss without searching either.
        ColumnFamilyOptions idOptions = own(new ColumnFamilyOptions()
                .setCompressionPerLevel(COMPRESSION_PER_LEVEL)
                .useFixedLengthPrefixExtractor(EventCodec.UUID_KEY_BYTES)
                .setMemTableConfig(new HashSkipListMemTableConfig())
                .setMemtablePrefixBloomSizeRatio(0.1)
                .setMemtableWholeKeyFiltering(true)
                .setTableFormatConfig(new BlockBasedTableConfig().setBlockCache(cache)
                        .setFilterPolicy(own(new BloomFilter(10)))));
        SstFileManager files;
        try {
            files = own(new SstFileManager(Env.getDefault()));
        } catch (RocksDBException e) {
            closeResources();
            throw new StorageException("cannot set up RocksDB for " + directory + ": " + e.getMessage(), e);
        }
        dbOptions = own(new DBOptions()
                .setCreateMissingColumnFamilies(true)
                .setMaxBackgroundJobs(2)
                // One thread writes, and the hash memtable of the ids cannot take concurrent inserts.
                .setAllowConcurrentMemtableWrite(false)
                .setKeepLogFileNum(5)
                // Stop at the first sign of damage rather than serve or extend a corrupt store.
                .setParanoidChecks(true)
                // Lets RocksDB resume by itself after a write failed for want of disk space.
                .setSstFileManager(files)
                .setMaxBgErrorResumeCount(Integer.MAX_VALUE)
                .setBgerrorResumeRetryInterval(1_000_000)
                // Bounds the write-ahead log, which a restart must replay into new table files: without
                // this, column families that rarely fill a memtable keep gigabytes of log alive.
                .setMaxTotalWalSize(MAX_WAL_BYTES)
                // An open replays the write-ahead log into the memtables and, by default, flushes them into new
                // table files first: as much free space again as the log holds. On a disk that filled up, a reopen
                // after the failed write (and a restart) then failed for good once the log outgrew what was free.
                // The log stays until a flush makes it obsolete, as it does while the server runs.
                .setAvoidFlushDuringRecovery(true));
        descriptors = List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, lookupOptions),
                new ColumnFamilyDescriptor(bytes("events"), eventOptions),
                new ColumnFamilyDescriptor(bytes("streams"), lookupOptions),
                new ColumnFamilyDescriptor(bytes("heads"), lookupOptions),
                new ColumnFamilyDescriptor(bytes("ids"), idOptions),
                new ColumnFamilyDescriptor(bytes("tags"), lookupOptions),
                new ColumnFamilyDescriptor(bytes("types"), lookupOptions),
                new ColumnFamilyDescriptor(bytes("lifecycle"), lookupOptions));
        syncWrites = own(new WriteOptions().setSync(true));
        bufferedWrites = own(new WriteOptions().setSync(false));
    }

    /** Opens (creating if the directory holds no store) the store in {@code directory}, with no disk reserve. */
    public static RocksDbStorage open(Path directory) {
        return open(directory, 0);
    }

    /**
     * Opens the store in {@code directory}, creating it only when the directory holds no store files
     * (see {@link StoreDirectory}), and recovers its state.
     *
     * @param minFreeBytes appends are refused while the data directory's file system has less free space
     */
    public static RocksDbStorage open(Path directory, long minFreeBytes) {
        StoreDirectory store = StoreDirectory.inspect(directory);
        RocksDbStorage storage = new RocksDbStorage(directory, minFreeBytes);
        try {
            storage.start(store);
        } catch (RuntimeException e) {
            storage.close();
            throw e;
        }
        storage.disk.warnIfDiskSmallerThanReserve();
        return storage;
    }

    /**
     * Opens a stopped store read-only, to check it ({@link StoreVerifier}): nothing in the directory
     * is written, and a store in use by a server can still be opened (RocksDB takes no lock then).
     *
     * @throws StorageException when the directory holds no store, or it cannot be opened
     */
    public static RocksDbStorage openReadOnly(Path directory) {
        if (!Files.isDirectory(directory)) {
            throw new StorageException("there is no data directory " + directory);
        }
        StoreDirectory store = StoreDirectory.inspect(directory);
        if (store.state() == StoreDirectory.State.NEW) {
            throw new StorageException("data directory " + directory + " holds no Rewind store");
        }
        RocksDbStorage storage = new RocksDbStorage(directory, 0);
        storage.readOnly = true;
        try {
            List<ColumnFamilyHandle> handles = new ArrayList<>();
            // A store of an earlier Rewind has no index families yet, and a read-only open cannot create them.
            List<byte[]> existing;
            try (org.rocksdb.Options options = new org.rocksdb.Options()) {
                existing = RocksDB.listColumnFamilies(options, directory.toString());
            }
            List<ColumnFamilyDescriptor> present = storage.descriptors.stream()
                    .filter(d -> existing.stream().anyMatch(name -> Arrays.equals(name, d.getName()))).toList();
            storage.db = Db.of(RocksDB.openReadOnly(storage.dbOptions, directory.toString(), present, handles),
                    present, handles);
            // The checker names a damaged newest event itself, with everything else it finds.
            storage.recover(false);
        } catch (RocksDBException e) {
            storage.close();
            throw new StorageException("cannot open the store in " + directory + " read-only: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            storage.close();
            throw e;
        }
        return storage;
    }

    /**
     * Flushes the memtables and writes a checkpoint of the store into {@code target} (which must not
     * exist; hard links where it is on the same file system), between two writes, so that no append is
     * half in it: it holds exactly the events committed so far. Any thread: in a replicated group the
     * writer is the thread that applies the log, not the one that takes requests.
     *
     * @return the global position of the newest event in it, -1 for an empty store
     */
    public long checkpoint(Path target) {
        synchronized (writes) {
            return checkpointBetweenWrites(target);
        }
    }

    private long checkpointBetweenWrites(Path target) {
        lock.readLock().lock();
        try (Checkpoint checkpoint = Checkpoint.create(open().rocks())) {
            long position = nextPosition - 1;
            checkpoint.createCheckpoint(target.toString());
            return position;
        } catch (RocksDBException e) {
            throw new StorageException("cannot make a checkpoint of " + directory + " in " + target + ": "
                    + e.getMessage(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * A RocksDB integer property summed over the column families (e.g. rocksdb.live-sst-files-size),
     * for metrics; empty while the store is closed or when RocksDB does not know it. Any thread.
     */
    public OptionalLong longProperty(String property) {
        lock.readLock().lock();
        try {
            Db open = db;
            if (open == null) {
                return OptionalLong.empty();
            }
            return OptionalLong.of(open.rocks().getAggregatedLongProperty(property));
        } catch (RocksDBException e) {
            return OptionalLong.empty();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Whether the tag and type indexes cover every event (a store of an earlier Rewind gets them at start). */
    boolean queryIndexesComplete() {
        try {
            Db open = open();
            return open.hasIndexes() && open.rocks().get(open.meta(), INDEXES_KEY) != null;
        } catch (RocksDBException e) {
            throw new StorageException("cannot read the metadata of the store in " + directory + ": " + e.getMessage(),
                    e);
        }
    }

    /** For {@link StoreVerifier}: per stream, the version below which the cleanup removed every event. */
    Map<String, Long> cleanedBelowAll() {
        Map<String, Long> cleaned = new HashMap<>();
        Db open = open();
        if (open.lifecycle() == null) {
            return cleaned;
        }
        try (RocksIterator it = open.rocks().newIterator(open.lifecycle())) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] key = it.key();
                if (key.length > 0 && key[0] == 0) {
                    cleaned.put(new String(key, 1, key.length - 1, StandardCharsets.UTF_8),
                            EventCodec.readLong(it.value()));
                }
            }
        }
        return cleaned;
    }

    /** The open database, for {@link StoreVerifier}; the caller does not close it. */
    Db database() {
        return open();
    }

    Path directory() {
        return directory;
    }

    private void start(StoreDirectory store) {
        long started = System.nanoTime();
        boolean create = store.state() == StoreDirectory.State.NEW;
        log.info("Opening the store in {}{}", directory, create ? " (new)" : ": " + describeFiles());
        db = openDb(create);
        long opened = System.nanoTime();
        UUID id = checkIdentity(store);
        recover();
        buildIndexes(create);
        log.info("Recovered {} events in {} streams from store {} in {} in {} ms (RocksDB open {} ms)", nextPosition,
                streamCount, id, directory, (System.nanoTime() - started) / 1_000_000,
                (opened - started) / 1_000_000);
    }

    /** What an open has to read, so that a slow one is understood: WAL to replay, tables to check. */
    private String describeFiles() {
        long walBytes = 0;
        long tableBytes = 0;
        int tables = 0;
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (name.endsWith(".log")) {
                    walBytes += Files.size(file);
                } else if (name.endsWith(".sst")) {
                    tableBytes += Files.size(file);
                    tables++;
                }
            }
        } catch (IOException e) {
            return "(cannot list its files: " + e + ")";
        }
        return String.format("%,d table files (%,d MiB), %,d MiB of write-ahead log to replay", tables,
                tableBytes >> 20, walBytes >> 20);
    }

    private Db openDb(boolean create) {
        // Only a directory found empty of store files may be created in (see StoreDirectory).
        dbOptions.setCreateIfMissing(create).setErrorIfExists(create);
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        long started = System.nanoTime();
        ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "rewind-open-progress");
            thread.setDaemon(true);
            return thread;
        });
        progress.scheduleAtFixedRate(() -> log.info("Still opening the store in {}: {} s so far", directory,
                (System.nanoTime() - started) / 1_000_000_000), OPEN_PROGRESS_SECONDS, OPEN_PROGRESS_SECONDS,
                TimeUnit.SECONDS);
        try {
            return Db.of(RocksDB.open(dbOptions, directory.toString(), descriptors, handles), descriptors, handles);
        } catch (RocksDBException e) {
            String message = String.valueOf(e.getMessage());
            if (message.toLowerCase(Locale.ROOT).contains("lock")) {
                throw new StorageException("data directory " + directory
                        + " is in use by another process (is another Rewind server running on it?): " + message, e);
            }
            throw new StorageException("cannot open the store in " + directory + ": " + message, e);
        } finally {
            progress.shutdownNow();
        }
    }

    /**
     * Makes the store's id in RocksDB and in the marker agree: a new store gets both, an unmarked one
     * of an earlier Rewind gets its marker, and a marker beside another store's files is refused.
     */
    private UUID checkIdentity(StoreDirectory store) {
        try {
            byte[] stored = db.rocks().get(db.meta(), STORE_ID_KEY);
            UUID inDb = stored == null ? null : UUID.fromString(new String(stored, StandardCharsets.US_ASCII));
            if (store.state() == StoreDirectory.State.EXISTING && inDb != null && !inDb.equals(store.storeId())) {
                throw new StorageException("data directory " + directory + " mixes two stores: its "
                        + StoreDirectory.MARKER + " marker names store " + store.storeId()
                        + " but its RocksDB files belong to store " + inDb + "; nothing was changed");
            }
            UUID id = inDb != null ? inDb : store.storeId() != null ? store.storeId() : UUID.randomUUID();
            if (inDb == null) {
                db.rocks().put(db.meta(), syncWrites, STORE_ID_KEY, id.toString().getBytes(StandardCharsets.US_ASCII));
            }
            if (store.state() != StoreDirectory.State.EXISTING) {
                store.mark(id);
                if (store.state() == StoreDirectory.State.UNMARKED) {
                    log.info("Marked the existing store in {} as Rewind store {}", directory, id);
                }
            }
            return id;
        } catch (RocksDBException e) {
            throw new StorageException("cannot read the identity of the store in " + directory + ": "
                    + e.getMessage(), e);
        }
    }

    private <T extends AutoCloseable> T own(T resource) {
        resources.add(resource);
        return resource;
    }

    private static byte[] bytes(String name) {
        return name.getBytes(StandardCharsets.US_ASCII);
    }

    /** Restores the next position and stream count, and checks that the newest append is whole. */
    private void recover() {
        recover(true);
    }

    private void recover(boolean checkNewest) {
        try (RocksIterator it = db.rocks().newIterator(db.events())) {
            it.seekToLast();
            it.status();
            long next = 0;
            if (it.isValid()) {
                next = EventCodec.readLong(it.key()) + 1;
                StoredEvent last = EventCodec.decodeEvent(next - 1, it.value());
                byte[] headValue = db.rocks().get(db.heads(), last.stream().getBytes(StandardCharsets.UTF_8));
                long head = headValue == null ? -1 : EventCodec.readLong(headValue);
                byte[] indexed = db.rocks().get(db.ids(), EventCodec.uuidKey(last.eventId()));
                if (checkNewest && (head < last.streamVersion() || indexed == null
                        || EventCodec.decodeLocation(indexed).globalPosition() != last.globalPosition())) {
                    throw new StorageException("data directory " + directory + " is inconsistent: the newest event"
                            + " (position " + last.globalPosition() + ", stream '" + last.stream() + "' version "
                            + last.streamVersion() + ") is missing from the stream head or id index");
                }
            }
            byte[] count = db.rocks().get(db.meta(), STREAM_COUNT_KEY);
            streamCount = count == null ? 0 : EventCodec.readLong(count);
            nextPosition = next;
            Map<String, StreamState> loaded = new HashMap<>();
            if (db.lifecycle() != null) {
                try (RocksIterator states = db.rocks().newIterator(db.lifecycle())) {
                    for (states.seekToFirst(); states.isValid(); states.next()) {
                        byte[] key = states.key();
                        // Keys starting with NUL (which no stream name holds) say how far the cleanup got.
                        if (key.length > 0 && key[0] != 0) {
                            loaded.put(new String(key, StandardCharsets.UTF_8), EventCodec.decodeState(states.value()));
                        }
                    }
                    states.status();
                }
            }
            states.clear();
            states.putAll(loaded);
        } catch (RocksDBException e) {
            throw new StorageException("cannot recover state from " + directory + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String engine() {
        return "rocksdb";
    }

    @Override
    public long nextPosition() {
        return nextPosition;
    }

    @Override
    public long streamCount() {
        return streamCount;
    }

    @Override
    public long streamVersion(String stream) {
        lock.readLock().lock();
        try {
            Db open = open();
            byte[] head = open.rocks().get(open.heads(), stream.getBytes(StandardCharsets.UTF_8));
            return head == null ? -1 : EventCodec.readLong(head);
        } catch (RocksDBException e) {
            throw new StorageException("cannot read the head of stream '" + stream + "': " + e.getMessage(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public Optional<EventLocation> locate(UUID eventId) {
        lock.readLock().lock();
        try {
            Db open = open();
            byte[] value = open.rocks().get(open.ids(), EventCodec.uuidKey(eventId));
            return value == null ? Optional.empty() : Optional.of(EventCodec.decodeLocation(value));
        } catch (RocksDBException e) {
            throw new StorageException("cannot look up event id " + eventId + ": " + e.getMessage(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** One multi-get for a whole group: far cheaper per id than a get each. */
    @Override
    public Map<UUID, EventLocation> locateAll(Collection<UUID> eventIds) {
        if (eventIds.isEmpty()) {
            return Map.of();
        }
        List<UUID> order = new ArrayList<>(eventIds);
        List<byte[]> keys = new ArrayList<>(order.size());
        for (UUID id : order) {
            keys.add(EventCodec.uuidKey(id));
        }
        lock.readLock().lock();
        try {
            Db open = open();
            List<byte[]> values = open.rocks().multiGetAsList(Collections.nCopies(keys.size(), open.ids()), keys);
            Map<UUID, EventLocation> found = new HashMap<>();
            for (int i = 0; i < values.size(); i++) {
                if (values.get(i) != null) {
                    found.put(order.get(i), EventCodec.decodeLocation(values.get(i)));
                }
            }
            return found;
        } catch (RocksDBException e) {
            throw new StorageException("cannot look up " + keys.size() + " event ids: " + e.getMessage(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The open database; the caller holds the lock. */
    private Db open() {
        Db open = db;
        if (open == null) {
            RocksDBException failure = writeFailure;
            throw new StorageException("the store in " + directory + " is closed while it recovers from a failed write"
                    + (failure == null ? "" : " (" + failure.getMessage() + ")") + "; retry shortly");
        }
        return open;
    }

    @Override
    public String capacityProblem(long events, long payloadBytes) {
        return disk.problem();
    }

    @Override
    public void write(Changes changes, boolean sync) {
        write(changes, sync, null);
    }

    @Override
    public StreamState streamState(String stream) {
        return states.getOrDefault(stream, StreamState.NONE);
    }

    @Override
    public Map<String, StreamState> streamStates() {
        return Collections.unmodifiableMap(states);
    }

    /**
     * The Raft log position of the newest replicated entry this store holds the effect of, as
     * {@link #appendReplicated} stored it: {term, index}; null for a store that never applied one.
     */
    public long[] replicatedTermIndex() {
        return termIndex(REPLICATED_KEY, "the replicated log position");
    }

    /** A {term, index} the metadata keeps under this key, or null; {@code what} names it in an error. */
    private long[] termIndex(byte[] key, String what) {
        lock.readLock().lock();
        try {
            byte[] stored = open().rocks().get(open().meta(), key);
            if (stored == null) {
                return null;
            }
            ByteBuffer buffer = ByteBuffer.wrap(stored);
            return new long[] {buffer.getLong(), buffer.getLong()};
        } catch (RocksDBException e) {
            throw new StorageException("cannot read " + what + " of " + directory + ": " + e.getMessage(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Stores the events of one replicated log entry, and the entry's position with them in the same atomic
     * write, without a sync: the replicated log is the durable copy, and after a crash the entries after
     * {@link #replicatedTermIndex} are applied again.
     */
    public void appendReplicated(List<StoredEvent> batch, long term, long index) {
        appendReplicated(Changes.of(batch), term, index);
    }

    /** {@link #appendReplicated(List, long, long)} with stream lifecycles and erasures. */
    public void appendReplicated(Changes changes, long term, long index) {
        write(changes, false, ByteBuffer.allocate(2 * Long.BYTES).putLong(term).putLong(index).array());
    }

    /** Makes every write so far durable: syncs the write-ahead log. */
    public void syncWrites() {
        try {
            open().rocks().syncWal();
        } catch (RocksDBException e) {
            throw new StorageException("cannot sync the write-ahead log of " + directory + ": " + e.getMessage(), e);
        }
    }

    private void write(Changes changes, boolean sync, byte[] replicated) {
        synchronized (writes) {
            writeAlone(changes, sync, replicated);
        }
    }

    private void writeAlone(Changes changes, boolean sync, byte[] replicated) {
        List<StoredEvent> batch = changes.events();
        if (readOnly) {
            throw new StorageException("the store in " + directory + " is open read-only");
        }
        checkWriterThread();
        if (changes.events().isEmpty() && changes.onlyEvents() && replicated == null) {
            return;
        }
        long position = nextPosition;
        long newStreams = 0;
        Map<String, Long> lastVersions = new HashMap<>();
        lock.readLock().lock();
        try (WriteBatch write = new WriteBatch()) {
            Db open = open();
            for (StoredEvent event : batch) {
                if (event.globalPosition() != position++) {
                    throw new StorageException("append is not dense: event " + event.eventId() + " has position "
                            + event.globalPosition() + ", expected " + (position - 1));
                }
                byte[] positionKey = EventCodec.longKey(event.globalPosition());
                byte[] stream = event.stream().getBytes(StandardCharsets.UTF_8);
                write.put(open.events(), positionKey, EventCodec.encodeEvent(event, stream));
                write.put(open.streams(), EventCodec.streamKey(EventCodec.streamPrefix(stream), event.streamVersion()),
                        positionKey);
                write.put(open.ids(), EventCodec.uuidKey(event.eventId()), EventCodec.encodeLocation(event, stream));
                putIndexEntries(write, open, event, positionKey);
                lastVersions.put(event.stream(), event.streamVersion());
                if (event.streamVersion() == 0) {
                    newStreams++;
                }
            }
            for (Map.Entry<String, Long> head : lastVersions.entrySet()) {
                write.put(open.heads(), head.getKey().getBytes(StandardCharsets.UTF_8),
                        EventCodec.longKey(head.getValue()));
            }
            if (newStreams > 0) {
                write.put(open.meta(), STREAM_COUNT_KEY, EventCodec.longKey(streamCount + newStreams));
            }
            if (replicated != null) {
                write.put(open.meta(), REPLICATED_KEY, replicated);
            }
            for (Map.Entry<String, StreamState> state : changes.states().entrySet()) {
                write.put(open.lifecycle(), state.getKey().getBytes(StandardCharsets.UTF_8),
                        EventCodec.encodeState(state.getValue()));
            }
            if (!changes.erasures().isEmpty()) {
                for (long erased : changes.erasures()) {
                    byte[] key = EventCodec.longKey(erased);
                    byte[] value = open.rocks().get(open.events(), key);
                    if (value == null) {
                        throw new StorageException("cannot erase the event at position " + erased + ": there is none");
                    }
                    StoredEvent event = EventCodec.decodeEvent(erased, value);
                    write.put(open.events(), key, EventCodec.encodeEvent(event.erase(),
                            event.stream().getBytes(StandardCharsets.UTF_8)));
                }
                // The cleanup compacts them away (old table and log files still hold the bytes until then).
                List<Long> pending = pendingErasures();
                pending.addAll(changes.erasures());
                write.put(open.meta(), ERASED_PENDING_KEY, positionsValue(pending));
                if (replicated != null) {
                    // And the Raft log still holds the entries that appended them (see erasureInReplicatedLog).
                    write.put(open.meta(), ERASURE_IN_LOG_KEY, replicated);
                }
            }
            open.rocks().write(sync ? syncWrites : bufferedWrites, write);
        } catch (RocksDBException e) {
            writeFailure = e;
            throw new StorageException("cannot write " + batch.size() + " events to " + directory + ": "
                    + e.getMessage(), e);
        } finally {
            lock.readLock().unlock();
        }
        streamCount += newStreams;
        nextPosition = position;
        states.putAll(changes.states());
    }

    /**
     * After a failed write: RocksDB resumes by itself after some failures (a write-ahead log append
     * that ran out of space) but stays stopped after others (a flush that failed while it recovered),
     * and RocksJava cannot ask it to resume. So a sync write of one small key tests whether writes
     * work again, and when they do not, the database is closed and opened again (at most once a
     * second), which replays the write-ahead log: nothing acknowledged is lost, since an append is
     * acknowledged only after its write returned.
     */
    @Override
    public void recoverWrites() {
        checkWriterThread();
        RocksDBException failure = writeFailure;
        if (failure == null) {
            return;
        }
        if (db != null && probeWrite()) {
            log.info("Writes to {} work again after: {}", directory, failure.getMessage());
            writeFailure = null;
            return;
        }
        long now = System.nanoTime();
        if (now - lastReopenNanos < REOPEN_INTERVAL_NANOS) {
            throw new StorageException("the store in " + directory + " cannot write since: " + failure.getMessage());
        }
        lastReopenNanos = now;
        lock.writeLock().lock();
        try {
            if (db != null) {
                log.warn("Reopening the store in {} to recover from: {}", directory, failure.getMessage());
                db.close();
                db = null;
            }
            db = openDb(false);
            recover();
        } catch (StorageException e) {
            // Said once, not every second while it lasts.
            if (!e.getMessage().equals(lastReopenProblem)) {
                log.warn("Could not reopen the store yet, trying again every second: {}", e.getMessage());
                lastReopenProblem = e.getMessage();
            }
            throw e;
        } finally {
            lock.writeLock().unlock();
        }
        lastReopenProblem = null;
        if (!probeWrite()) {
            throw new StorageException("the store in " + directory + " was reopened but still cannot write: "
                    + writeFailure.getMessage());
        }
        writeFailure = null;
        log.info("Reopened the store in {}: {} events, writes work again", directory, nextPosition);
    }

    /**
     * Replaces the whole store with a checkpoint of another one (a member of a replicated group that
     * installs its leader's snapshot), keeping this store's identity. On the writer thread; readers wait
     * meanwhile. The checkpoint's files are hard-linked, so it stays as it is; this store's files move to
     * {@code .replaced-store} first and are deleted once the new store is open, so that a crash in between
     * leaves them there, whole, for a person to put back.
     */
    public void replaceWith(Path checkpoint) {
        checkWriterThread();
        StoreDirectory store = StoreDirectory.inspect(directory);
        Path replaced = directory.resolve(".replaced-store");
        lock.writeLock().lock();
        try {
            if (db != null) {
                db.close();
                db = null;
            }
            StoreBackup.deleteRecursively(replaced);
            Files.createDirectories(replaced);
            try (Stream<Path> files = Files.list(directory)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    if (Files.isRegularFile(file) && !file.getFileName().toString().equals(StoreDirectory.MARKER)) {
                        Files.move(file, replaced.resolve(file.getFileName()));
                    }
                }
            }
            try (Stream<Path> files = Files.list(checkpoint)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    if (Files.isRegularFile(file)) {
                        Files.createLink(directory.resolve(file.getFileName()), file);
                    }
                }
            }
            db = openDb(false);
            db.rocks().put(db.meta(), syncWrites, STORE_ID_KEY, store.storeId().toString()
                    .getBytes(StandardCharsets.US_ASCII));
            recover();
            buildIndexes(false);
            StoreBackup.deleteRecursively(replaced);
            writeFailure = null;
        } catch (IOException | RocksDBException e) {
            throw new StorageException("cannot replace the store in " + directory + " with the checkpoint in "
                    + checkpoint + " (the replaced files are in " + replaced + "): " + e.getMessage(), e);
        } finally {
            lock.writeLock().unlock();
        }
        log.info("Replaced the store in {} with the checkpoint in {}: {} events in {} streams", directory, checkpoint,
                nextPosition, streamCount);
    }

    private boolean probeWrite() {
        lock.readLock().lock();
        try {
            Db open = open();
            open.rocks().put(open.meta(), syncWrites, PROBE_KEY, EventCodec.longKey(System.currentTimeMillis()));
            return true;
        } catch (RocksDBException e) {
            writeFailure = e;
            return false;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** One thread writes; like Ratis' log worker, fail fast when another one tries. */
    private void checkWriterThread() {
        Thread current = Thread.currentThread();
        if (writer == null) {
            writer = current;
        } else if (writer != current) {
            throw new IllegalStateException("RocksDbStorage.append called from " + current.getName()
                    + " but the writer thread is " + writer.getName());
        }
    }

    private static final byte[] EMPTY = new byte[0];

    /** The event's tag and type index entries, into the batch that writes it. */
    private static void putIndexEntries(WriteBatch write, Db open, StoredEvent event, byte[] positionKey)
            throws RocksDBException {
        for (String tag : event.tags()) {
            write.put(open.tags(), indexKey(EventCodec.indexPrefix(tag), positionKey), EMPTY);
        }
        write.put(open.types(), indexKey(EventCodec.indexPrefix(event.type()), positionKey), EMPTY);
    }

    private static byte[] indexKey(byte[] prefix, byte[] positionKey) {
        byte[] key = Arrays.copyOf(prefix, prefix.length + positionKey.length);
        System.arraycopy(positionKey, 0, key, prefix.length, positionKey.length);
        return key;
    }

    /**
     * Gives a store of an earlier Rewind its tag and type indexes, reading every event once, in batches that also
     * record how far they got: a start cut short goes on from there. Logs its progress every few seconds. A new
     * store is marked complete at once.
     */
    private void buildIndexes(boolean created) {
        try {
            if (db.rocks().get(db.meta(), INDEXES_KEY) != null) {
                return;
            }
            if (created || nextPosition == 0) {
                db.rocks().put(db.meta(), syncWrites, INDEXES_KEY, EMPTY);
                return;
            }
            byte[] progress = db.rocks().get(db.meta(), INDEXED_UP_TO_KEY);
            long from = progress == null ? 0 : EventCodec.readLong(progress);
            long total = nextPosition;
            log.info("Building the tag and type indexes of the store in {} (written by an earlier Rewind): {} events"
                    + " to index{}", directory, total - from, from > 0 ? ", going on from position " + from : "");
            long started = System.nanoTime();
            long lastReport = started;
            long position = from;
            try (RocksIterator it = db.rocks().newIterator(db.events())) {
                it.seek(EventCodec.longKey(from));
                while (it.isValid()) {
                    try (WriteBatch batch = new WriteBatch()) {
                        int inBatch = 0;
                        while (it.isValid() && inBatch < 10_000) {
                            byte[] key = it.key();
                            position = EventCodec.readLong(key);
                            putIndexEntries(batch, db, EventCodec.decodeEvent(position, it.value()), key);
                            inBatch++;
                            it.next();
                        }
                        it.status();
                        batch.put(db.meta(), INDEXED_UP_TO_KEY, EventCodec.longKey(position + 1));
                        db.rocks().write(bufferedWrites, batch);
                    }
                    if (System.nanoTime() - lastReport > TimeUnit.SECONDS.toNanos(OPEN_PROGRESS_SECONDS)) {
                        lastReport = System.nanoTime();
                        log.info("Building the tag and type indexes of the store in {}: {} of {} events ({}%)",
                                directory, position + 1, total, (position + 1) * 100 / Math.max(total, 1));
                    }
                }
            }
            try (WriteBatch done = new WriteBatch()) {
                done.put(db.meta(), INDEXES_KEY, EMPTY);
                done.delete(db.meta(), INDEXED_UP_TO_KEY);
                db.rocks().write(syncWrites, done);
            }
            log.info("Built the tag and type indexes of {} events in {} ms", total - from,
                    (System.nanoTime() - started) / 1_000_000);
        } catch (RocksDBException e) {
            throw new StorageException("cannot build the tag and type indexes of the store in " + directory + ": "
                    + e.getMessage(), e);
        }
    }

    /** What one cleanup pass did. */
    public record CleanupReport(long removedEvents, int streams, long erasedEvents, long compactionMillis) {
        public boolean didWork() {
            return removedEvents > 0 || erasedEvents > 0;
        }
    }

    /** Where the cleanup of a stream got to: every version below it is removed. Kept in the lifecycle family. */
    private static byte[] cleanedKey(String stream) {
        byte[] name = stream.getBytes(StandardCharsets.UTF_8);
        byte[] key = new byte[name.length + 1];
        key[0] = 0;
        System.arraycopy(name, 0, key, 1, name.length);
        return key;
    }

    /** Erasures not yet compacted away, by global position; kept so that a restart still compacts them. */
    private static final byte[] ERASED_PENDING_KEY = "erasures_to_compact".getBytes(StandardCharsets.US_ASCII);
    /** The Raft log position {term, index} of the newest erasure whose events the member's Raft log may still hold. */
    private static final byte[] ERASURE_IN_LOG_KEY = "erasure_in_raft_log".getBytes(StandardCharsets.US_ASCII);

    /** Whether every erasure so far has been compacted away from this store's files. */
    public boolean erasuresCompacted() {
        return pendingErasures().isEmpty();
    }

    /**
     * Compacts the erasures not yet compacted away, now: before a checkpoint of a replicated member's store, which
     * must not keep erased bytes. Any thread; the cleanup may do the same meanwhile.
     */
    public void compactErasures() {
        List<Long> pending = pendingErasures();
        if (pending.isEmpty()) {
            return;
        }
        compact(pending.stream().map(position -> new long[] {position, position}).toList());
        clearPendingErasures(pending);
    }

    /**
     * In a replicated group: the log position {term, index} of the newest applied erasure whose erased events this
     * member's Raft log (the entries that appended them) and snapshot may still hold; null when there is none. Kept
     * in the store with the erasure itself, so that a restart goes on where it stopped.
     */
    public long[] erasureInReplicatedLog() {
        return termIndex(ERASURE_IN_LOG_KEY, "the erasure pending in the Raft log");
    }

    /** The Raft log and snapshot no longer hold what was erased up to this {term, index}; a later erasure stays. */
    public void erasedFromReplicatedLog(long[] termIndex) {
        synchronized (writes) {
            long[] now = erasureInReplicatedLog();
            if (now == null || now[0] != termIndex[0] || now[1] != termIndex[1]) {
                return;
            }
            lock.readLock().lock();
            try {
                open().rocks().delete(open().meta(), bufferedWrites, ERASURE_IN_LOG_KEY);
            } catch (RocksDBException e) {
                throw new StorageException("cannot record the Raft log of " + directory + " as erased: "
                        + e.getMessage(), e);
            } finally {
                lock.readLock().unlock();
            }
        }
    }

    /**
     * Removes from the disk what stream lifecycles hide, and makes erased bytes unrecoverable: for each stream, the
     * events below its first visible version (by truncation, count, and age at {@code logTimeMicros}: the newest
     * commit time stored, which every later decision's time is at least), with their stream, id, tag and type index
     * entries (deciders already forget the ids of hidden events); then compacts the ranges that
     * held erased or removed events, so that no table or log file keeps their bytes. Goes in batches of
     * {@code batchEvents}, each recording how far it got (a crash resumes there), telling {@code pause} after each
     * how many events it removed, so that appends keep their pace. Any thread but the writer's; safe beside appends
     * and reads.
     */
    public CleanupReport cleanup(long logTimeMicros, int batchEvents, java.util.function.LongConsumer pause) {
        long removed = 0;
        int streamsCleaned = 0;
        List<long[]> ranges = new ArrayList<>();
        for (Map.Entry<String, StreamState> entry : states.entrySet()) {
            String stream = entry.getKey();
            StreamState state = entry.getValue();
            if (state.hidesNothing()) {
                continue;
            }
            long head = streamVersion(stream);
            long firstVisible = Math.min(Visibility.firstVisibleVersion(this, stream, logTimeMicros), head + 1);
            long cleanedBelow = cleanedBelow(stream);
            if (cleanedBelow >= firstVisible) {
                continue;
            }
            if (streamsCleaned == 0) {
                log.info("Cleanup: removing what stream lifecycles hide from {}, starting with {} events of stream"
                        + " '{}'", directory, firstVisible - cleanedBelow, stream);
            }
            streamsCleaned++;
            while (cleanedBelow < firstVisible) {
                long upTo = Math.min(firstVisible, cleanedBelow + batchEvents);
                long[] range = removeVersions(stream, cleanedBelow, upTo);
                if (range != null) {
                    ranges.add(range);
                }
                removed += upTo - cleanedBelow;
                pause.accept(upTo - cleanedBelow);
                cleanedBelow = upTo;
            }
        }
        long erased = 0;
        List<Long> pending = pendingErasures();
        for (long position : pending) {
            ranges.add(new long[] {position, position});
        }
        erased = pending.size();
        long compaction = 0;
        if (!ranges.isEmpty()) {
            long started = System.nanoTime();
            compact(ranges);
            compaction = (System.nanoTime() - started) / 1_000_000;
            if (!pending.isEmpty()) {
                clearPendingErasures(pending);
            }
        }
        return new CleanupReport(removed, streamsCleaned, erased, compaction);
    }

    @Override
    public long removedBelow(String stream) {
        return cleanedBelow(stream);
    }

    private long cleanedBelow(String stream) {
        lock.readLock().lock();
        try {
            byte[] value = open().rocks().get(open().lifecycle(), cleanedKey(stream));
            return value == null ? 0 : EventCodec.readLong(value);
        } catch (RocksDBException e) {
            throw new StorageException("cannot read how far the cleanup of stream '" + stream + "' got: "
                    + e.getMessage(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Removes the stream's versions [from, upTo) in one batch; returns the range of positions they held. */
    private long[] removeVersions(String stream, long from, long upTo) {
        byte[] prefix = EventCodec.streamPrefix(stream);
        long lowest = Long.MAX_VALUE;
        long highest = -1;
        synchronized (writes) {
            lock.readLock().lock();
            try (WriteBatch batch = new WriteBatch();
                    RocksIterator it = open().rocks().newIterator(open().streams())) {
                Db open = open();
                it.seek(EventCodec.streamKey(prefix, from));
                while (it.isValid() && startsWith(it.key(), prefix) && EventCodec.versionOfStreamKey(it.key()) < upTo) {
                    byte[] positionKey = it.value();
                    byte[] value = open.rocks().get(open.events(), positionKey);
                    if (value != null) {
                        long position = EventCodec.readLong(positionKey);
                        StoredEvent event = EventCodec.decodeEvent(position, value);
                        batch.delete(open.events(), positionKey);
                        for (String tag : event.tags()) {
                            batch.delete(open.tags(), indexKey(EventCodec.indexPrefix(tag), positionKey));
                        }
                        batch.delete(open.types(), indexKey(EventCodec.indexPrefix(event.type()), positionKey));
                        // Deciders forget the id of a hidden event already (AppendDecider.Group.locate); a retry
                        // may have stored it again since, at another position, which keeps its entry.
                        byte[] idKey = EventCodec.uuidKey(event.eventId());
                        byte[] location = open.rocks().get(open.ids(), idKey);
                        if (location != null && EventCodec.decodeLocation(location).globalPosition() == position) {
                            batch.delete(open.ids(), idKey);
                        }
                        lowest = Math.min(lowest, position);
                        highest = Math.max(highest, position);
                    }
                    batch.delete(open.streams(), it.key());
                    it.next();
                }
                it.status();
                batch.put(open.lifecycle(), cleanedKey(stream), EventCodec.longKey(upTo));
                open.rocks().write(bufferedWrites, batch);
            } catch (RocksDBException e) {
                throw new StorageException("cannot remove versions " + from + " to " + (upTo - 1) + " of stream '"
                        + stream + "' from " + directory + ": " + e.getMessage(), e);
            } finally {
                lock.readLock().unlock();
            }
        }
        return highest < 0 ? null : new long[] {lowest, highest};
    }

    private List<Long> pendingErasures() {
        lock.readLock().lock();
        try {
            byte[] value = open().rocks().get(open().meta(), ERASED_PENDING_KEY);
            List<Long> positions = new ArrayList<>();
            if (value != null) {
                ByteBuffer buffer = ByteBuffer.wrap(value);
                while (buffer.remaining() >= Long.BYTES) {
                    positions.add(buffer.getLong());
                }
            }
            return positions;
        } catch (RocksDBException e) {
            throw new StorageException("cannot read the erasures to compact in " + directory + ": " + e.getMessage(),
                    e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Forgets the erasures compacted, keeping any made meanwhile. */
    private void clearPendingErasures(List<Long> done) {
        synchronized (writes) {
            List<Long> now = pendingErasures();
            now.removeAll(done);
            lock.readLock().lock();
            try {
                open().rocks().put(open().meta(), bufferedWrites, ERASED_PENDING_KEY, positionsValue(now));
            } catch (RocksDBException e) {
                throw new StorageException("cannot record the erasures compacted in " + directory + ": "
                        + e.getMessage(), e);
            } finally {
                lock.readLock().unlock();
            }
        }
    }

    private static byte[] positionsValue(List<Long> positions) {
        ByteBuffer buffer = ByteBuffer.allocate(positions.size() * Long.BYTES);
        positions.forEach(buffer::putLong);
        return buffer.array();
    }

    /**
     * Flushes the memtables (so that the write-ahead log files holding the old bytes become obsolete and are
     * deleted) and compacts every family over the ranges of positions given, to the bottom level, so that no table
     * file keeps an older version of what was removed or erased.
     */
    private void compact(List<long[]> ranges) {
        lock.readLock().lock();
        try (FlushOptions flush = new FlushOptions().setWaitForFlush(true);
                org.rocksdb.CompactRangeOptions options = new org.rocksdb.CompactRangeOptions()
                        .setBottommostLevelCompaction(
                                org.rocksdb.CompactRangeOptions.BottommostLevelCompaction.kForce)) {
            Db open = open();
            open.rocks().flush(flush, open.handles());
            long low = Long.MAX_VALUE;
            long high = -1;
            for (long[] range : ranges) {
                low = Math.min(low, range[0]);
                high = Math.max(high, range[1]);
            }
            open.rocks().compactRange(open.events(), EventCodec.longKey(low), EventCodec.longKey(high + 1), options);
            // The index families are keyed by stream, tag and type, not by position: compacted whole.
            for (ColumnFamilyHandle family : List.of(open.streams(), open.tags(), open.types(), open.ids())) {
                open.rocks().compactRange(family, null, null, options);
            }
            open.rocks().flushWal(true);
        } catch (RocksDBException e) {
            throw new StorageException("cannot compact " + directory + " after the cleanup: " + e.getMessage(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public QueryPage readQuery(EventQuery query, long fromPosition, ReadDirection direction, int maxCount,
            long maxBytes) {
        PageBudget page = new PageBudget(maxCount, maxBytes);
        lock.readLock().lock();
        try (QueryRead read = new QueryRead(open(), direction)) {
            ValueReader values = new ValueReader();
            return PositionCursor.readPage(read.cursor(query), fromPosition, direction, read.limit, page,
                    position -> read.event(position, values));
        } catch (RocksDBException e) {
            throw new StorageException("cannot read the events matching " + query + " from position " + fromPosition
                    + " (data directory " + directory + "): " + e.getMessage(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public long firstMatch(EventQuery query, long after) {
        lock.readLock().lock();
        try (QueryRead read = new QueryRead(open(), ReadDirection.FORWARD)) {
            return read.cursor(query).seek(after + 1);
        } catch (RocksDBException e) {
            throw new StorageException("cannot look for events matching " + query + " after position " + after
                    + " (data directory " + directory + "): " + e.getMessage(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * One read by query: a snapshot, so that the indexes and the events agree, and the iterators of its index
     * cursors, closed with it.
     */
    private final class QueryRead implements AutoCloseable {
        private final Db open;
        private final boolean forward;
        private final org.rocksdb.Snapshot snapshot;
        private final ReadOptions options;
        private final List<RocksIterator> iterators = new ArrayList<>();
        /** The events stored when the snapshot was taken. */
        final long limit;
        private RocksIterator events;

        QueryRead(Db open, ReadDirection direction) {
            if (!open.hasIndexes()) {
                throw new StorageException("the store in " + directory + " is open read-only without its indexes;"
                        + " start a server on it once to build them");
            }
            this.open = open;
            this.forward = direction == ReadDirection.FORWARD;
            // The position is read before the snapshot is taken: every event below it is in the snapshot.
            this.limit = nextPosition;
            this.snapshot = open.rocks().getSnapshot();
            this.options = new ReadOptions().setSnapshot(snapshot).setVerifyChecksums(true);
        }

        PositionCursor cursor(EventQuery query) {
            return PositionCursor.of(query, forward ? ReadDirection.FORWARD : ReadDirection.BACKWARD, limit,
                    tag -> postings(open.tags(), tag), type -> postings(open.types(), type));
        }

        private PositionCursor postings(ColumnFamilyHandle family, String name) {
            RocksIterator it = open.rocks().newIterator(family, options);
            iterators.add(it);
            byte[] prefix = EventCodec.indexPrefix(name);
            byte[] key = new byte[prefix.length + Long.BYTES];
            return target -> {
                byte[] seekKey = EventCodec.indexKey(prefix, target);
                if (forward) {
                    it.seek(seekKey);
                } else {
                    it.seekForPrev(seekKey);
                }
                if (!it.isValid()) {
                    checkStatus(it);
                    return PositionCursor.NONE;
                }
                int length = it.key(key);
                if (length != key.length || !Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length)) {
                    return PositionCursor.NONE;
                }
                return ByteBuffer.wrap(key, prefix.length, Long.BYTES).getLong();
            };
        }

        StoredEvent event(long position, ValueReader values) {
            if (events == null) {
                events = open.rocks().newIterator(open.events(), options);
                iterators.add(events);
            }
            byte[] key = EventCodec.longKey(position);
            events.seek(key);
            if (!events.isValid() || !Arrays.equals(events.key(), key)) {
                checkStatus(events);
                throw new StorageException("the index names position " + position + " but no event is stored there"
                        + " (data directory " + directory + ")");
            }
            return EventCodec.decodeEvent(position, values.read(events));
        }

        private void checkStatus(RocksIterator it) {
            try {
                it.status();
            } catch (RocksDBException e) {
                throw new StorageException("cannot read an index of the store in " + directory + ": "
                        + e.getMessage(), e);
            }
        }

        @Override
        public void close() throws RocksDBException {
            iterators.forEach(RocksIterator::close);
            options.close();
            open.rocks().releaseSnapshot(snapshot);
        }
    }

    @Override
    public List<StoredEvent> readAll(long fromPosition, ReadDirection direction, int maxCount, long maxBytes) {
        PageBudget page = new PageBudget(maxCount, maxBytes);
        if (fromPosition < 0) {
            return page.events();
        }
        lock.readLock().lock();
        try {
            Db open = open();
            try (ReadOptions options = new ReadOptions().setVerifyChecksums(true);
                    RocksIterator it = open.rocks().newIterator(open.events(), options)) {
                seek(it, EventCodec.longKey(fromPosition), direction);
                ValueReader values = new ValueReader();
                byte[] key = new byte[Long.BYTES];
                while (it.isValid() && page.hasRoom()) {
                    it.key(key);
                    long position = EventCodec.readLong(key);
                    if (!page.offer(EventCodec.decodeEvent(position, values.read(it)))) {
                        break;
                    }
                    step(it, direction);
                }
                // An iterator that meets a damaged block just stops being valid: without this check a
                // corrupt table read as the end of the log, and a paging reader asked again for ever.
                it.status();
            } catch (RocksDBException e) {
                List<StoredEvent> read = page.events();
                String where = read.isEmpty() ? "at position " + fromPosition
                        : "after position " + read.get(read.size() - 1).globalPosition();
                throw new StorageException("cannot read the global log " + where + " (reading "
                        + direction.name().toLowerCase(Locale.ROOT) + " from " + fromPosition + "; data directory "
                        + directory + "): " + e.getMessage(), e);
            }
        } finally {
            lock.readLock().unlock();
        }
        return page.events();
    }

    @Override
    public List<StoredEvent> readStream(String stream, long fromVersion, ReadDirection direction, int maxCount,
            long maxBytes) {
        PageBudget page = new PageBudget(maxCount, maxBytes);
        if (fromVersion < 0) {
            return page.events();
        }
        byte[] prefix = EventCodec.streamPrefix(stream);
        List<byte[]> positionKeys = new ArrayList<>();
        lock.readLock().lock();
        try {
            Db open = open();
            try (ReadOptions options = new ReadOptions().setVerifyChecksums(true);
                    RocksIterator it = open.rocks().newIterator(open.streams(), options)) {
                seek(it, EventCodec.streamKey(prefix, fromVersion), direction);
                while (it.isValid() && positionKeys.size() < maxCount && startsWith(it.key(), prefix)) {
                    positionKeys.add(it.value());
                    step(it, direction);
                }
                it.status();
            } catch (RocksDBException e) {
                throw new StorageException("cannot read the index of stream '" + stream + "' from version "
                        + fromVersion + " (data directory " + directory + "): " + e.getMessage(), e);
            }
            if (positionKeys.isEmpty()) {
                return page.events();
            }
            readPositions(open, stream, positionKeys, direction == ReadDirection.FORWARD, page);
        } finally {
            lock.readLock().unlock();
        }
        return page.events();
    }

    /**
     * Reads the events at these positions into the page. A stream's events mostly sit in runs of
     * consecutive positions (appends of several events, a stream written alone): one iterator steps
     * through a run and seeks only across gaps, which costs far less than a multi-get of every position.
     */
    private void readPositions(Db open, String stream, List<byte[]> positionKeys, boolean forward, PageBudget page) {
        long position = -1;
        try (ReadOptions options = new ReadOptions().setVerifyChecksums(true);
                RocksIterator it = open.rocks().newIterator(open.events(), options)) {
            ValueReader values = new ValueReader();
            byte[] key = new byte[Long.BYTES];
            long expected = -1;
            for (byte[] positionKey : positionKeys) {
                position = EventCodec.readLong(positionKey);
                if (position == expected && it.isValid()) {
                    step(it, forward ? ReadDirection.FORWARD : ReadDirection.BACKWARD);
                } else {
                    it.seek(positionKey);
                }
                if (!it.isValid() || it.key(key) != Long.BYTES || !Arrays.equals(key, positionKey)) {
                    it.status();
                    throw new StorageException("stream '" + stream + "' indexes position " + position
                            + " but no event is stored there (data directory " + directory + ")");
                }
                if (!page.offer(EventCodec.decodeEvent(position, values.read(it)))) {
                    break;
                }
                expected = forward ? position + 1 : position - 1;
            }
        } catch (RocksDBException e) {
            throw new StorageException("cannot read stream '" + stream + "' at position " + position
                    + " (data directory " + directory + "): " + e.getMessage(), e);
        }
    }

    /** Positions the iterator at the key, or at the nearest one in the direction of reading. */
    private static void seek(RocksIterator it, byte[] key, ReadDirection direction) {
        if (direction == ReadDirection.FORWARD) {
            it.seek(key);
        } else {
            it.seekForPrev(key);
        }
    }

    private static void step(RocksIterator it, ReadDirection direction) {
        if (direction == ReadDirection.FORWARD) {
            it.next();
        } else {
            it.prev();
        }
    }

    /**
     * Copies iterator values into one reused array: a new array per value (what
     * {@link RocksIterator#value()} returns) cost a JNI allocation per event on a replay.
     */
    private static final class ValueReader {
        private byte[] buffer = new byte[4096];

        /** The current value, in a buffer that the next call reuses; its encoding says where it ends. */
        byte[] read(RocksIterator it) {
            int size = it.value(buffer);
            if (size > buffer.length) {
                buffer = new byte[Math.max(size, buffer.length * 2)];
                it.value(buffer);
            }
            return buffer;
        }
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length == prefix.length + Long.BYTES
                && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    /**
     * Flushes the memtables, so that the next start has no write-ahead log to replay, and closes the
     * database. A flush that fails (a full disk) loses nothing: the synced log still holds it all.
     */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (db != null && readOnly) {
                db.close();
                db = null;
            }
            if (db != null) {
                String noRoom = roomToFlush();
                if (noRoom != null) {
                    // A flush that meets a full disk is retried by RocksDB without end: the stop would hang.
                    log.warn("Not flushing the store in {} at close: {}; the next start replays its write-ahead log"
                            + " (nothing is lost)", directory, noRoom);
                } else {
                    try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
                        db.rocks().flush(flush, db.handles());
                    } catch (RocksDBException e) {
                        log.warn("Could not flush the store in {} at close; the next start replays its log: {}",
                                directory, e.getMessage());
                    }
                }
                try {
                    db.rocks().syncWal();
                } catch (RocksDBException e) {
                    log.warn("Could not sync the write-ahead log of {} at close: {}", directory, e.getMessage());
                }
                db.close();
                db = null;
                log.info("Closed RocksDB in {}", directory);
            }
        } finally {
            lock.writeLock().unlock();
            closeResources();
        }
    }

    /**
     * Why the memtables cannot be flushed now (the disk has less room than they hold, with a margin), or null. A
     * store that met a full disk keeps its log instead: recovery replays it without flushing.
     */
    private String roomToFlush() {
        long memtables;
        try {
            memtables = db.rocks().getAggregatedLongProperty("rocksdb.cur-size-all-mem-tables");
        } catch (RocksDBException e) {
            return null;
        }
        long usable = directory.toFile().getUsableSpace();
        long needed = memtables + memtables / 2 + (4L << 20);
        return writeFailure == null && usable >= needed ? null : (usable >> 20) + " MiB free, and the memtables hold "
                + (memtables >> 20) + " MiB" + (writeFailure == null ? "" : " (the last write failed: "
                + writeFailure.getMessage() + ")");
    }

    private void closeResources() {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                log.warn("Could not close {}: {}", resources.get(i), e.toString());
            }
        }
        resources.clear();
    }
}
