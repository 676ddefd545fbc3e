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
 */
public record Limits(
        int maxStreamNameBytes,
        int maxEventBytes,
        int maxEventsPerAppend,
        long maxAppendBytes,
        int maxReadCount,
        long maxReadBytes) {

    public static final int STREAM_NAME_BYTES_CAP = 255;

    public static Limits defaults() {
        return new Limits(STREAM_NAME_BYTES_CAP, 1 << 20, 10_000, 16L << 20, 4096, 4L << 20);
    }
}
