package io.rewind.server.storage;

import java.io.IOException;
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
import java.util.Optional;
import java.util.UUID;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.HashSkipListMemTableConfig;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
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

    static {
        RocksDB.loadLibrary();
    }

    private final Path directory;
    /** Native objects the database uses; closed after it, in reverse order of creation. */
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final List<ColumnFamilyHandle> handles = new ArrayList<>();
    private final RocksDB db;
    private final ColumnFamilyHandle meta;
    private final ColumnFamilyHandle events;
    private final ColumnFamilyHandle streams;
    private final ColumnFamilyHandle heads;
    private final ColumnFamilyHandle ids;
    private final WriteOptions syncWrites;
    private final WriteOptions bufferedWrites;
    private Thread writer;
    private volatile long nextPosition;
    private volatile long streamCount;

    private RocksDbStorage(Path directory) {
        this.directory = directory;
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new StorageException("cannot create data directory " + directory + ": " + e, e);
        }
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
        DBOptions dbOptions = own(new DBOptions()
                .setCreateIfMissing(true)
                .setCreateMissingColumnFamilies(true)
                .setMaxBackgroundJobs(2)
                // One thread writes, and the hash memtable of the ids cannot take concurrent inserts.
                .setAllowConcurrentMemtableWrite(false)
                .setKeepLogFileNum(5));
        List<ColumnFamilyDescriptor> descriptors = List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, lookupOptions),
                new ColumnFamilyDescriptor(bytes("events"), eventOptions),
                new ColumnFamilyDescriptor(bytes("streams"), lookupOptions),
                new ColumnFamilyDescriptor(bytes("heads"), lookupOptions),
                new ColumnFamilyDescriptor(bytes("ids"), idOptions));
        try {
            db = RocksDB.open(dbOptions, directory.toString(), descriptors, handles);
        } catch (RocksDBException e) {
            closeResources();
            String message = String.valueOf(e.getMessage());
            if (message.toLowerCase().contains("lock")) {
                throw new StorageException("data directory " + directory
                        + " is in use by another process (is another Rewind server running on it?): " + message, e);
            }
            throw new StorageException("cannot open RocksDB in " + directory + ": " + message, e);
        }
        meta = handles.get(0);
        events = handles.get(1);
        streams = handles.get(2);
        heads = handles.get(3);
        ids = handles.get(4);
        syncWrites = own(new WriteOptions().setSync(true));
        bufferedWrites = own(new WriteOptions().setSync(false));
    }

    /** Opens (creating if needed) the store in {@code directory} and recovers its state. */
    public static RocksDbStorage open(Path directory) {
        RocksDbStorage storage = new RocksDbStorage(directory);
        try {
            storage.recover();
        } catch (RuntimeException e) {
            storage.close();
            throw e;
        }
        return storage;
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
        long started = System.nanoTime();
        try (RocksIterator it = db.newIterator(events)) {
            it.seekToLast();
            if (it.isValid()) {
                nextPosition = EventCodec.readLong(it.key()) + 1;
                StoredEvent last = EventCodec.decodeEvent(nextPosition - 1, it.value());
                long head = streamVersion(last.stream());
                Optional<EventLocation> indexed = locate(last.eventId());
                if (head < last.streamVersion() || indexed.isEmpty()
                        || indexed.get().globalPosition() != last.globalPosition()) {
                    throw new StorageException("data directory " + directory + " is inconsistent: the newest event"
                            + " (position " + last.globalPosition() + ", stream '" + last.stream() + "' version "
                            + last.streamVersion() + ") is missing from the stream head or id index");
                }
            }
            byte[] count = db.get(meta, STREAM_COUNT_KEY);
            streamCount = count == null ? 0 : EventCodec.readLong(count);
        } catch (RocksDBException e) {
            throw new StorageException("cannot recover state from " + directory + ": " + e.getMessage(), e);
        }
        log.info("Recovered {} events in {} streams from {} in {} ms", nextPosition, streamCount, directory,
                (System.nanoTime() - started) / 1_000_000);
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
        try {
            byte[] head = db.get(heads, stream.getBytes(StandardCharsets.UTF_8));
            return head == null ? -1 : EventCodec.readLong(head);
        } catch (RocksDBException e) {
            throw new StorageException("cannot read the head of stream '" + stream + "': " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<EventLocation> locate(UUID eventId) {
        try {
            byte[] value = db.get(ids, EventCodec.uuidKey(eventId));
            return value == null ? Optional.empty() : Optional.of(EventCodec.decodeLocation(value));
        } catch (RocksDBException e) {
            throw new StorageException("cannot look up event id " + eventId + ": " + e.getMessage(), e);
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
        try {
            List<byte[]> values = db.multiGetAsList(Collections.nCopies(keys.size(), ids), keys);
            Map<UUID, EventLocation> found = new HashMap<>();
            for (int i = 0; i < values.size(); i++) {
                if (values.get(i) != null) {
                    found.put(order.get(i), EventCodec.decodeLocation(values.get(i)));
                }
            }
            return found;
        } catch (RocksDBException e) {
            throw new StorageException("cannot look up " + keys.size() + " event ids: " + e.getMessage(), e);
        }
    }

    @Override
    public void append(List<StoredEvent> batch, boolean sync) {
        checkWriterThread();
        if (batch.isEmpty()) {
            return;
        }
        long position = nextPosition;
        long newStreams = 0;
        Map<String, Long> lastVersions = new HashMap<>();
        try (WriteBatch write = new WriteBatch()) {
            for (StoredEvent event : batch) {
                if (event.globalPosition() != position++) {
                    throw new StorageException("append is not dense: event " + event.eventId() + " has position "
                            + event.globalPosition() + ", expected " + (position - 1));
                }
                byte[] positionKey = EventCodec.longKey(event.globalPosition());
                byte[] stream = event.stream().getBytes(StandardCharsets.UTF_8);
                write.put(events, positionKey, EventCodec.encodeEvent(event, stream));
                write.put(streams, EventCodec.streamKey(EventCodec.streamPrefix(stream), event.streamVersion()),
                        positionKey);
                write.put(ids, EventCodec.uuidKey(event.eventId()), EventCodec.encodeLocation(event, stream));
                lastVersions.put(event.stream(), event.streamVersion());
                if (event.streamVersion() == 0) {
                    newStreams++;
                }
            }
            for (Map.Entry<String, Long> head : lastVersions.entrySet()) {
                write.put(heads, head.getKey().getBytes(StandardCharsets.UTF_8), EventCodec.longKey(head.getValue()));
            }
            if (newStreams > 0) {
                write.put(meta, STREAM_COUNT_KEY, EventCodec.longKey(streamCount + newStreams));
            }
            db.write(sync ? syncWrites : bufferedWrites, write);
        } catch (RocksDBException e) {
            throw new StorageException("cannot write " + batch.size() + " events to " + directory + ": "
                    + e.getMessage(), e);
        }
        streamCount += newStreams;
        nextPosition = position;
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

    @Override
    public List<StoredEvent> readAll(long fromPosition, ReadDirection direction, int maxCount, long maxBytes) {
        PageBudget page = new PageBudget(maxCount, maxBytes);
        if (fromPosition < 0) {
            return page.events();
        }
        try (ReadOptions options = new ReadOptions(); RocksIterator it = db.newIterator(events, options)) {
            byte[] start = EventCodec.longKey(fromPosition);
            if (direction == ReadDirection.FORWARD) {
                it.seek(start);
            } else {
                it.seekForPrev(start);
            }
            ValueReader values = new ValueReader();
            byte[] key = new byte[Long.BYTES];
            while (it.isValid() && page.hasRoom()) {
                it.key(key);
                long position = EventCodec.readLong(key);
                if (!page.offer(EventCodec.decodeEvent(position, values.read(it)))) {
                    break;
                }
                if (direction == ReadDirection.FORWARD) {
                    it.next();
                } else {
                    it.prev();
                }
            }
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
        try (ReadOptions options = new ReadOptions(); RocksIterator it = db.newIterator(streams, options)) {
            byte[] start = EventCodec.streamKey(prefix, fromVersion);
            if (direction == ReadDirection.FORWARD) {
                it.seek(start);
            } else {
                it.seekForPrev(start);
            }
            while (it.isValid() && positionKeys.size() < maxCount && startsWith(it.key(), prefix)) {
                positionKeys.add(it.value());
                if (direction == ReadDirection.FORWARD) {
                    it.next();
                } else {
                    it.prev();
                }
            }
        }
        if (positionKeys.isEmpty()) {
            return page.events();
        }
        // A stream's events mostly sit in runs of consecutive positions (appends of several events, a
        // stream written alone): one iterator steps through a run and seeks only across gaps, which
        // costs far less than a multi-get of every position.
        try (ReadOptions options = new ReadOptions(); RocksIterator it = db.newIterator(events, options)) {
            ValueReader values = new ValueReader();
            byte[] key = new byte[Long.BYTES];
            boolean forward = direction == ReadDirection.FORWARD;
            long expected = -1;
            for (byte[] positionKey : positionKeys) {
                long position = EventCodec.readLong(positionKey);
                if (position == expected && it.isValid()) {
                    if (forward) {
                        it.next();
                    } else {
                        it.prev();
                    }
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
            throw new StorageException("cannot read stream '" + stream + "': " + e.getMessage(), e);
        }
        return page.events();
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

    @Override
    public void close() {
        try {
            db.syncWal();
        } catch (RocksDBException e) {
            log.warn("Could not sync the write-ahead log of {} at close: {}", directory, e.getMessage());
        }
        handles.forEach(ColumnFamilyHandle::close);
        db.close();
        closeResources();
        log.info("Closed RocksDB in {}", directory);
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
