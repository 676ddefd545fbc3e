package io.rewind.client;

/**
 * The result of a successful append.
 *
 * @param firstPosition       global position of the append's first event
 * @param lastPosition        global position of its last event
 * @param nextExpectedVersion the stream version of its last event: pass {@code ExpectedVersion.exact(it)}
 *                            to the next append to the stream
 */
public record AppendResult(long firstPosition, long lastPosition, long nextExpectedVersion) {}
