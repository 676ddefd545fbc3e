package io.rewind.server.core;

/**
 * The result of a successful append.
 *
 * @param lastVersion stream version of the append's last event: the exact expected version of the next append
 * @param duplicate   true when the events were already committed by an earlier identical append
 */
public record AppendResult(long firstPosition, long lastPosition, long lastVersion, boolean duplicate) {}
