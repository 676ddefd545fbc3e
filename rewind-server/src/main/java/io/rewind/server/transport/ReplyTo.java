package io.rewind.server.transport;

/**
 * Where a reply goes: the ROUTER envelope (routing id frames up to and including the empty
 * delimiter) and the request id to echo.
 */
record ReplyTo(byte[][] envelope, long requestId) {}
