package io.rewind.client;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** A running catch-up subscription; close it to stop it. */
public interface Subscription extends AutoCloseable {

    /** @return what it follows */
    SubscriptionTarget target();

    /**
     * @return the position (stream version for a stream target, global position otherwise) of the last
     *     event delivered, or the position it started after when none was yet
     */
    long lastPosition();

    /**
     * @return the last position the subscription has dealt with: delivered, or, for a prefix
     *     subscription, passed over because its stream does not match. Pass it to
     *     {@link StartFrom#after(long)} to resume. Unlike {@link #lastPosition()} it reaches the head of
     *     the log while other streams are written, so a projection's checkpoint does not lag.
     */
    long checkpoint();

    /** @return its current state */
    SubscriptionState state();

    /**
     * @return completes with this subscription once it has first caught up with the head and follows
     *     the live feed ({@link SubscriptionState#LIVE}); fails if it stops before, with why
     */
    CompletableFuture<Subscription> whenLive();

    /**
     * Waits until the subscription has caught up with the head and follows the live feed.
     *
     * @return true once live, false when the timeout passed first
     * @throws RewindException when the subscription stopped before it was live
     */
    boolean awaitLive(Duration timeout);

    /**
     * Stops it and waits for its thread (at most for a history read in progress to time out); the
     * listener gets {@link SubscriptionState#CLOSED} and nothing after it.
     */
    @Override
    void close();
}
