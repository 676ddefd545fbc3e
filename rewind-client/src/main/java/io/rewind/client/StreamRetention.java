package io.rewind.client;

import java.time.Duration;
import java.util.Objects;

/**
 * How much of a stream reads return: events older than {@code maxAge} and beyond the newest {@code maxCount} are
 * no longer returned, at once, and are removed from the disk later. {@link Duration#ZERO} and 0 mean no limit.
 *
 * <pre>{@code
 * client.setStreamRetention("telemetry-7", StreamRetention.maxAge(Duration.ofDays(30)));
 * }</pre>
 */
public record StreamRetention(Duration maxAge, long maxCount) {

    public StreamRetention {
        Objects.requireNonNull(maxAge, "maxAge");
        if (maxAge.isNegative() || maxCount < 0) {
            throw new IllegalArgumentException("a retention is >= 0 (0: no limit), got " + maxAge + " and " + maxCount);
        }
        if (maxAge.toNanos() % 1_000_000_000 != 0) {
            throw new IllegalArgumentException("a max age is whole seconds, got " + maxAge);
        }
    }

    /** No limit: every event is returned. */
    public static StreamRetention none() {
        return new StreamRetention(Duration.ZERO, 0);
    }

    public static StreamRetention maxAge(Duration age) {
        return new StreamRetention(age, 0);
    }

    public static StreamRetention maxCount(long count) {
        return new StreamRetention(Duration.ZERO, count);
    }

    /** This retention, also keeping at most {@code count} events. */
    public StreamRetention andMaxCount(long count) {
        return new StreamRetention(maxAge, count);
    }
}
