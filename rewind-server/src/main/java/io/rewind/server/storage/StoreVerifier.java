package io.rewind.server.storage;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * Checks a stopped RocksDB store offline, read-only, and names the first problem it finds: global
 * positions ascending (dense but for the events the cleanup removed); every event decodable; each stream's
 * versions dense, from 0 or from where the cleanup removed them up to, in commit order; every event indexed by its stream and version and by its id, and every index entry pointing
 * at an event that points back; every stream's head its last version; the stream count right; and, once
 * they are built, every event in the type index and in the index of each of its tags, and no other entry there.
 */
public final class StoreVerifier {
    /** Entries checked between two progress calls. */
    public static final long PROGRESS_EVERY = 100_000;

    /** Told how far a check is, in entries: each event, then each entry of the two indexes. */
    @FunctionalInterface
    public interface Progress {
        /**
         * @param done  entries checked so far
         * @param total entries to check in all: three per event the store says it holds, four with the query
         *              indexes (tag entries are checked but not counted)
         */
        void checked(long done, long total);
    }

    /**
     * What a check found.
     *
     * @param problem the first problem, naming the position, stream or id; null when there is none
     */
    public record Report(long events, long streams, String problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    private final RocksDbStorage storage;
    private final RocksDbStorage.Db db;
    private final Progress progress;
    private final long every;
    private final long total;
    private long done;
    /** Per stream: the number of events seen so far in the log, i.e. the next version expected. */
    private final Map<String, Long> versions = new HashMap<>();
    private long events;
    /** The position the next event should have: one past the last one seen. */
    private long nextExpected;
    /** Per stream: the versions the cleanup removed lie below this. */
    private final Map<String, Long> cleaned;
    /** Whether the tag and type indexes are complete, and so checked; the tag entries the events call for. */
    private final boolean queryIndexes;
    private long tagEntries;

    private StoreVerifier(RocksDbStorage storage, long every, Progress progress) {
        this.storage = storage;
        this.every = every;
        this.db = storage.database();
        this.progress = progress;
        this.queryIndexes = storage.queryIndexesComplete();
        this.cleaned = storage.cleanedBelowAll();
        this.total = (queryIndexes ? 4 : 3) * storage.nextPosition();
    }

    private void counted() {
        if (++done % every == 0) {
            progress.checked(done, total);
        }
    }

    /**
     * Checks the store in the directory.
     *
     * @param progress told how far the check is: at the start, every {@value #PROGRESS_EVERY} entries, and at
     *                 the end of a check that found nothing
     * @throws StorageException when the store cannot be opened at all (the message says why)
     */
    public static Report verify(Path directory, Progress progress) {
        return verify(directory, PROGRESS_EVERY, progress);
    }

    static Report verify(Path directory, long every, Progress progress) {
        try (RocksDbStorage storage = RocksDbStorage.openReadOnly(directory)) {
            StoreVerifier verifier = new StoreVerifier(storage, every, progress);
            String problem;
            progress.checked(0, verifier.total);
            try {
                problem = verifier.run();
                if (problem == null && verifier.done % every != 0) {
                    progress.checked(verifier.done, verifier.total);
                }
            } catch (RocksDBException e) {
                problem = "RocksDB failed while reading: " + e.getMessage();
            }
            return new Report(verifier.events, verifier.versions.size(), problem);
        }
    }

    private String run() throws RocksDBException {
        String problem = checkLog();
        if (problem == null) {
            problem = checkStreamIndex();
        }
        if (problem == null) {
            problem = checkIdIndex();
        }
        if (problem == null && queryIndexes) {
            problem = checkQueryIndexes();
        }
        if (problem == null) {
            problem = checkHeads();
        }
        if (problem == null) {
            byte[] count = db.rocks().get(db.meta(), "stream_count".getBytes(StandardCharsets.US_ASCII));
            long stored = count == null ? 0 : EventCodec.readLong(count);
            if (stored != versions.size()) {
                problem = "the stored stream count is " + stored + ", but the log holds " + versions.size()
                        + " streams";
            }
        }
        return problem;
    }

    /** The log itself, and each event's entries in the stream and id indexes. */
    private String checkLog() throws RocksDBException {
        try (RocksIterator it = db.rocks().newIterator(db.events())) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] key = it.key();
                if (key.length != Long.BYTES) {
                    return "the log holds a key of " + key.length + " bytes, not a position";
                }
                long position = EventCodec.readLong(key);
                if (position < nextExpected) {
                    return "position " + position + " comes after position " + (nextExpected - 1) + " in the log";
                }
                nextExpected = position + 1;
                StoredEvent event;
                try {
                    event = EventCodec.decodeEvent(position, it.value());
                } catch (RuntimeException e) {
                    return "the event at position " + position + " cannot be decoded: " + e;
                }
                String problem = checkEvent(event, key);
                if (problem != null) {
                    return problem;
                }
                events++;
                counted();
            }
            it.status();
        }
        if (nextExpected > storage.nextPosition()) {
            return "the log reaches position " + (nextExpected - 1) + ", but the store recovers "
                    + storage.nextPosition() + " events";
        }
        return null;
    }

    private String checkEvent(StoredEvent event, byte[] positionKey) throws RocksDBException {
        String at = "the event at position " + event.globalPosition() + " (stream '" + event.stream() + "' version "
                + event.streamVersion() + ")";
        long expected = versions.getOrDefault(event.stream(), cleaned.getOrDefault(event.stream(), 0L));
        if (event.streamVersion() != expected) {
            return "stream '" + event.stream() + "' is not dense: " + at + " follows version " + (expected - 1);
        }
        versions.put(event.stream(), expected + 1);
        byte[] indexed = db.rocks().get(db.streams(), EventCodec.streamKey(EventCodec.streamPrefix(event.stream()),
                event.streamVersion()));
        if (indexed == null) {
            return at + " is missing from the stream index";
        }
        if (!Arrays.equals(indexed, positionKey)) {
            return "the stream index of '" + event.stream() + "' version " + event.streamVersion() + " points at position "
                    + EventCodec.readLong(indexed) + ", not at " + event.globalPosition();
        }
        byte[] location = db.rocks().get(db.ids(), EventCodec.uuidKey(event.eventId()));
        if (location == null) {
            return at + " is missing from the id index (event id " + event.eventId() + ")";
        }
        EventLocation found = EventCodec.decodeLocation(location);
        if (!found.equals(event.location())) {
            return "the id index of event " + event.eventId() + " says " + found + ", but " + at + " holds it";
        }
        if (queryIndexes) {
            if (db.rocks().get(db.types(), EventCodec.indexKey(EventCodec.indexPrefix(event.type()),
                    event.globalPosition())) == null) {
                return at + " is missing from the index of type '" + event.type() + "'";
            }
            for (String tag : event.tags()) {
                if (db.rocks().get(db.tags(), EventCodec.indexKey(EventCodec.indexPrefix(tag),
                        event.globalPosition())) == null) {
                    return at + " is missing from the index of tag '" + tag + "'";
                }
            }
            tagEntries += event.tags().size();
        }
        return null;
    }

    /**
     * No tag or type index entry without its event: every event's entries were found, and keys are unique, so
     * the counts tell.
     */
    private String checkQueryIndexes() {
        long types = 0;
        try (RocksIterator it = db.rocks().newIterator(db.types())) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                types++;
                counted();
            }
        }
        if (types != events) {
            return "the type index holds " + types + " entries for " + events + " events";
        }
        long tags = 0;
        try (RocksIterator it = db.rocks().newIterator(db.tags())) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                tags++;
            }
        }
        return tags == tagEntries ? null : "the tag index holds " + tags + " entries, but the events carry "
                + tagEntries + " tags";
    }

    /** No stream index entry without its event: the log check found one entry per event, so the counts tell. */
    private String checkStreamIndex() {
        long entries = 0;
        try (RocksIterator it = db.rocks().newIterator(db.streams())) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] key = it.key();
                int nul = key.length - Long.BYTES - 1;
                String stream = nul < 0 ? "?" : new String(key, 0, nul, StandardCharsets.UTF_8);
                long version = nul < 0 ? -1 : EventCodec.versionOfStreamKey(key);
                if (nul < 0 || version >= versions.getOrDefault(stream, 0L)) {
                    return "the stream index holds '" + stream + "' version " + version + ", which no event has";
                }
                entries++;
                counted();
            }
        }
        return entries == events ? null : "the stream index holds " + entries + " entries for " + events + " events";
    }

    /** No id index entry without its event (the cleanup removes an event's id with it). */
    private String checkIdIndex() throws RocksDBException {
        long entries = 0;
        try (RocksIterator it = db.rocks().newIterator(db.ids())) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                EventLocation location = EventCodec.decodeLocation(it.value());
                byte[] stored = db.rocks().get(db.events(), EventCodec.longKey(location.globalPosition()));
                if (stored == null) {
                    return "the id index points at position " + location.globalPosition() + ", where no event is";
                }
                entries++;
                counted();
            }
        }
        return entries == events ? null : "the id index holds " + entries + " entries for " + events + " events";
    }

    private String checkHeads() {
        Map<String, Long> heads = new HashMap<>();
        try (RocksIterator it = db.rocks().newIterator(db.heads())) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                heads.put(new String(it.key(), StandardCharsets.UTF_8), EventCodec.readLong(it.value()));
            }
        }
        // A stream the cleanup emptied has a head and no events left: its head is below where it cleaned.
        for (Map.Entry<String, Long> emptied : cleaned.entrySet()) {
            versions.putIfAbsent(emptied.getKey(), emptied.getValue());
        }
        for (Map.Entry<String, Long> stream : versions.entrySet()) {
            Long head = heads.remove(stream.getKey());
            if (head == null || head != stream.getValue() - 1) {
                return "the head of stream '" + stream.getKey() + "' is " + (head == null ? "missing" : "version "
                        + head) + ", but its last event has version " + (stream.getValue() - 1);
            }
        }
        return heads.isEmpty() ? null : "stream '" + heads.keySet().iterator().next()
                + "' has a head but no events";
    }
}
