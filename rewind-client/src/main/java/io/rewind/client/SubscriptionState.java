package io.rewind.client;

/** Where a subscription is in its life. */
public enum SubscriptionState {
    /** Reading history, before the first live event. */
    CATCHING_UP,
    /** Caught up: delivering events from the live feed. */
    LIVE,
    /** Missed live events (a slow listener, a dropped message): reading them from history. */
    FELL_BEHIND,
    /**
     * The live feed's connection dropped or the server cannot be reached: reconnecting, to resume after
     * the last delivered event.
     */
    RECONNECTING,
    /** Closed, by {@link Subscription#close()} or after a fatal error. */
    CLOSED
}
