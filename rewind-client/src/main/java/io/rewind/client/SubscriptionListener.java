package io.rewind.client;

/**
 * Receives a subscription's events, in order, exactly once each, on the subscription's own thread.
 * A listener that throws stops its subscription (and only it): {@link #onError} is called with the
 * exception.
 */
@FunctionalInterface
public interface SubscriptionListener {

    /**
     * The next event: the one right after the previous, with no gap and no duplicate.
     *
     * @param subscription the subscription delivering it
     * @param event        the event
     */
    void onEvent(Subscription subscription, RecordedEvent event) throws Exception;

    /**
     * The subscription changed state, e.g. caught up ({@link SubscriptionState#LIVE}) or lost the server
     * ({@link SubscriptionState#RECONNECTING}).
     *
     * @param subscription the subscription
     * @param state        its new state
     */
    default void onStateChange(Subscription subscription, SubscriptionState state) {}

    /**
     * The subscription stopped for good because of {@code error}; called at most once, and never after
     * {@link Subscription#close()} was called.
     *
     * @param subscription the subscription
     * @param error        why it stopped, e.g. the exception the listener threw
     */
    default void onError(Subscription subscription, Throwable error) {}
}
