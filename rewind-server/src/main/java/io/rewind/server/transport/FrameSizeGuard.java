package io.rewind.server.transport;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import zmq.Msg;
import zmq.msg.MsgAllocator;

/**
 * The message allocator of every socket the server binds. JeroMQ 0.6.0 lets a ZMTP frame whose
 * 64-bit size field is negative past its size checks and asks the allocator for a negative size; the
 * default allocator then throws on ZeroMQ's I/O thread, which leaves every socket of the server
 * answering nobody. Frames decoded while a connection is still handshaking skip the max-message-size
 * check, so a garbage size there asks for gigabytes and kills the same thread with an
 * OutOfMemoryError. This allocator turns both into an empty frame: the peer's message becomes
 * malformed and gets an error reply (or its connection is dropped), and every other connection goes on.
 */
final class FrameSizeGuard implements MsgAllocator {
    private static final Logger log = LoggerFactory.getLogger(FrameSizeGuard.class);

    private final String endpoint;
    private final long maxSize;
    private final AtomicLong rejected = new AtomicLong();

    /**
     * @param endpoint the option and endpoint, for the log
     * @param maxSize  the largest frame the socket accepts
     */
    FrameSizeGuard(String endpoint, long maxSize) {
        this.endpoint = endpoint;
        this.maxSize = maxSize;
    }

    @Override
    public Msg allocate(int size) {
        if (size < 0 || size > maxSize) {
            long count = rejected.incrementAndGet();
            // An attacker decides how often this happens: log the first ten, then at powers of two.
            if (count > 10 && Long.bitCount(count) != 1) {
                return new Msg(0);
            }
            log.warn("Frame with {} size ({}) received on {}, replaced by an empty frame ({} so far)",
                    size < 0 ? "a negative" : "an oversized", size, endpoint, count);
            return new Msg(0);
        }
        return new Msg(size);
    }

}
