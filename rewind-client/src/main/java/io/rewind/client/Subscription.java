package io.rewind.client;

/** A running catch-up subscription; close it to stop it. */
public interface Subscription extends AutoCloseable {

    /** @return what it follows */
    SubscriptionTarget target();

    /**
     * @return the position (stream version for a stream target, global position otherwise) of the last
     *     event delivered, or the position it started after when none was yet; pass it to
     *     {@link StartFrom#after(long)} to resume
     */
    long lastPosition();

    /** @return its current state */
    SubscriptionState state();

    /** Stops it and waits for its thread; the listener is not called after this returns. */
    @Override
    void close();
}
