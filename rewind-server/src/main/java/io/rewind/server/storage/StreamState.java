package io.rewind.server.storage;

/**
 * A stream's lifecycle: what of it reads no longer return. Set by the stream operations (delete, tombstone,
 * truncate, retention), replicated and decided like appends; events it hides are reclaimed later by the cleanup.
 *
 * @param truncateBefore events below this version are hidden (a delete hides every version up to the last)
 * @param tombstoned     deleted for good: appends fail forever
 * @param maxAgeMicros   events committed longer ago than this are hidden; 0 for no limit
 * @param maxCount       only the newest this many events are visible; 0 for no limit
 */
public record StreamState(long truncateBefore, boolean tombstoned, long maxAgeMicros, long maxCount) {
    /** A stream as it is born: everything visible. */
    public static final StreamState NONE = new StreamState(0, false, 0, 0);

    /** Whether the event at this version, committed then, is hidden when the stream's head is {@code head}. */
    public boolean hides(long version, long commitMicros, long head, long nowMicros) {
        return version < truncateBefore || maxCount > 0 && version <= head - maxCount
                || maxAgeMicros > 0 && commitMicros < nowMicros - maxAgeMicros;
    }

    /** Whether this stream hides nothing, whatever its head and the time. */
    public boolean hidesNothing() {
        return truncateBefore == 0 && maxAgeMicros == 0 && maxCount == 0;
    }

    /** The first version not hidden by truncation or count, for a stream whose last version is {@code head}. */
    public long firstVersionByPosition(long head) {
        long first = truncateBefore;
        if (maxCount > 0) {
            first = Math.max(first, head - maxCount + 1);
        }
        return first;
    }

    public StreamState withTruncateBefore(long version) {
        return new StreamState(Math.max(truncateBefore, version), tombstoned, maxAgeMicros, maxCount);
    }

    public StreamState tombstone() {
        return new StreamState(truncateBefore, true, maxAgeMicros, maxCount);
    }

    public StreamState withRetention(long newMaxAgeMicros, long newMaxCount) {
        return new StreamState(truncateBefore, tombstoned, newMaxAgeMicros, newMaxCount);
    }
}
