package io.rewind.server.transport;

/**
 * Where an append's reply goes once it is committed: the ROUTER envelope (routing id frames up to
 * and including the empty delimiter), the request id to echo, and which protocol asked.
 *
 * @param legacy true for a PUBLISH of the original Rewind protocol
 * @param key    the client's CURVE public key (Z85), or null without CURVE: what its reply may tell
 */
record ReplyTo(byte[][] envelope, long requestId, boolean legacy, long receivedNanos, String key) {}
