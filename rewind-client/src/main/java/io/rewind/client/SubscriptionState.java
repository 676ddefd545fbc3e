package io.rewind.client;

/** Where a subscription is in its life. */
public enum SubscriptionState {
    /** Reading history, before the first live event. */
    CATCHING_UP,
    /** Caught up: delivering events from the live feed. */
    LIVE,
    /** Missed live events (a slow listener, a dropped message): reading them from history. */
    FELL_BEHIND,
    /** The server cannot be reached: retrying with backoff, to resume after the last delivered event. */
    RECONNECTING,
    /** Closed, by {@link Subscription#close()} or after a fatal error. */
    CLOSED
}
