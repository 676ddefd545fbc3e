package io.rewind.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/** What this machine allows at most, measured without Rewind: the numbers Rewind's are bounded by. */
final class Ceilings {
    private Ceilings() {}

    /** fsync calls per second on a file in {@code dir}, each after a 100-byte write. */
    static double fsyncsPerSecond(Path dir, Duration duration) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve("fsync-probe");
        ByteBuffer buffer = ByteBuffer.allocate(100);
        long count = 0;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            long end = System.nanoTime() + duration.toNanos();
            long start = System.nanoTime();
            while (System.nanoTime() < end) {
                buffer.clear();
                channel.write(buffer, (count % 1000) * 100);
                channel.force(false);
                count++;
            }
            return count / seconds(start);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Synced RocksDB write batches per second, each of {@code puts} 100-byte values. */
    static double rocksDbSyncedBatchesPerSecond(Path dir, int puts, Duration duration) throws RocksDBException {
        RocksDB.loadLibrary();
        byte[] value = new byte[100];
        long count = 0;
        try (Options options = new Options().setCreateIfMissing(true);
                RocksDB db = RocksDB.open(options, dir.toString());
                WriteOptions sync = new WriteOptions().setSync(true)) {
            long end = System.nanoTime() + duration.toNanos();
            long start = System.nanoTime();
            long key = 0;
            while (System.nanoTime() < end) {
                if (puts == 1) {
                    db.put(sync, ByteBuffer.allocate(8).putLong(key++).array(), value);
                } else {
                    try (WriteBatch batch = new WriteBatch()) {
                        for (int i = 0; i < puts; i++) {
                            batch.put(ByteBuffer.allocate(8).putLong(key++).array(), value);
                        }
                        db.write(sync, batch);
                    }
                }
                count++;
            }
            return count / seconds(start);
        }
    }

    /**
     * ZeroMQ round trips per second over loopback TCP between a DEALER and a ROUTER echoing
     * 100-byte messages, with {@code window} requests in flight (1: no pipelining).
     */
    static double zeroMqRoundTripsPerSecond(int window, Duration duration) throws InterruptedException {
        try (ZContext context = new ZContext(1)) {
            ZMQ.Socket router = context.createSocket(SocketType.ROUTER);
            router.bind("tcp://127.0.0.1:*");
            String endpoint = router.getLastEndpoint();
            java.util.concurrent.atomic.AtomicBoolean echoing = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread echo = new Thread(() -> {
                try {
                    while (echoing.get()) {
                        byte[] id = router.recv();
                        if (id == null) {
                            continue;
                        }
                        byte[] body = router.recv();
                        router.sendMore(id);
                        router.send(body);
                    }
                } catch (RuntimeException e) {
                    // The context closed under us: the measurement is over.
                }
            }, "zmq-echo");
            router.setReceiveTimeOut(200);
            echo.start();
            ZMQ.Socket dealer = context.createSocket(SocketType.DEALER);
            dealer.setHandshakeIvl(1_000);
            dealer.connect(endpoint);
            byte[] message = new byte[100];
            // Warm up the connection before timing it.
            dealer.send(message);
            dealer.recv();
            long count = 0;
            long start = System.nanoTime();
            long end = start + duration.toNanos();
            int inFlight = 0;
            while (System.nanoTime() < end) {
                while (inFlight < window) {
                    dealer.send(message);
                    inFlight++;
                }
                dealer.recv();
                inFlight--;
                count++;
            }
            while (inFlight-- > 0) {
                dealer.recv();
            }
            double rate = count / seconds(start);
            dealer.close();
            echoing.set(false);
            echo.join(2_000);
            return rate;
        }
    }

    /**
     * Entries per second of a plain RocksDB iterator over one column family of a store, opened read-only (a server
     * may have it open): the most any replay of those entries can be. The better of two passes.
     */
    static double rocksDbScanPerSecond(Path store, String columnFamily) throws RocksDBException {
        RocksDB.loadLibrary();
        java.util.List<org.rocksdb.ColumnFamilyDescriptor> descriptors = new java.util.ArrayList<>();
        try (Options options = new Options()) {
            for (byte[] name : RocksDB.listColumnFamilies(options, store.toString())) {
                descriptors.add(new org.rocksdb.ColumnFamilyDescriptor(name));
            }
        }
        java.util.List<org.rocksdb.ColumnFamilyHandle> handles = new java.util.ArrayList<>();
        try (org.rocksdb.DBOptions options = new org.rocksdb.DBOptions();
                RocksDB db = RocksDB.openReadOnly(options, store.toString(), descriptors, handles)) {
            org.rocksdb.ColumnFamilyHandle family = null;
            for (int i = 0; i < descriptors.size(); i++) {
                if (new String(descriptors.get(i).getName(), java.nio.charset.StandardCharsets.UTF_8)
                        .equals(columnFamily)) {
                    family = handles.get(i);
                }
            }
            if (family == null) {
                throw new IllegalStateException("no column family '" + columnFamily + "' in " + store);
            }
            double best = 0;
            for (int pass = 0; pass < 2; pass++) {
                long count = 0;
                long bytes = 0;
                long start = System.nanoTime();
                try (org.rocksdb.ReadOptions read = new org.rocksdb.ReadOptions();
                        org.rocksdb.RocksIterator iterator = db.newIterator(family, read)) {
                    for (iterator.seekToFirst(); iterator.isValid(); iterator.next()) {
                        bytes += iterator.value().length;
                        count++;
                    }
                }
                best = Math.max(best, count / seconds(start));
                if (bytes < 0) {
                    throw new IllegalStateException("unreachable");
                }
            }
            handles.forEach(org.rocksdb.ColumnFamilyHandle::close);
            return best;
        }
    }

    static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
