package io.rewind.client;

import java.time.Duration;

/**
 * A stream's lifecycle, as the server keeps it: what reads no longer return of it.
 *
 * @param lastVersion         the stream's last version, -1 when it never had an event
 * @param truncateBefore      events below this version are no longer returned (deleted or truncated); 0 for none
 * @param tombstoned          deleted for good: appends to it fail with {@link StreamDeletedException}
 * @param maxAge              events committed longer ago are no longer returned; {@link Duration#ZERO}: no limit
 * @param maxCount            only the newest this many events are returned; 0: no limit
 * @param firstVisibleVersion the first version a read returns now; {@code lastVersion + 1} when none is
 */
public record StreamMetadata(String stream, long lastVersion, long truncateBefore, boolean tombstoned,
        Duration maxAge, long maxCount, long firstVisibleVersion) {}
