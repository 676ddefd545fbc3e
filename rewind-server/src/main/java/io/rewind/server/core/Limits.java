package io.rewind.server.core;

/**
 * Size limits the server enforces on requests.
 *
 * @param maxStreamNameBytes  longest stream name, in UTF-8 bytes
 * @param maxEventBytes       largest event (type, data and metadata together)
 * @param maxEventsPerAppend  most events in one append
 * @param maxAppendBytes      largest append (all its events together)
 * @param maxReadCount        most events in one read page
 * @param maxReadBytes        largest read page, in event bytes (a page always holds at least one event)
 * @param maxTagsPerEvent     most tags on one event
 * @param maxTagBytes         longest tag, in UTF-8 bytes
 */
public record Limits(
        int maxStreamNameBytes,
        int maxEventBytes,
        int maxEventsPerAppend,
        long maxAppendBytes,
        int maxReadCount,
        long maxReadBytes,
        int maxTagsPerEvent,
        int maxTagBytes) {

    public static final int STREAM_NAME_BYTES_CAP = 255;
    /** The longest tag the store can hold (its length is stored in two bytes). */
    public static final int TAG_BYTES_CAP = 65_535;
    /** Most items in a query, and most types in one item: a query is not a place for long lists. */
    public static final int MAX_QUERY_ITEMS = 100;
    public static final int MAX_QUERY_ITEM_TYPES = 100;

    public static Limits defaults() {
        return new Limits(STREAM_NAME_BYTES_CAP, 1 << 20, 10_000, 16L << 20, 4096, 4L << 20, 32, 255);
    }
}
