package io.rewind.client.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.ZContext;

/**
 * The one I/O thread, with one ZeroMQ context, that every {@link Connection} of the JVM shares
 * while at least one is open. Sixteen clients with a thread and a ZeroMQ I/O thread each spent more
 * on waking threads than on their requests; one loop serves them all with a wake-up per batch.
 *
 * <p>A connection with work (new requests, or closing) is {@linkplain #schedule scheduled}; one
 * with replies waiting is found by the selector. Reply callbacks run on this thread.
 */
final class IoLoop {
    private static final Logger log = LoggerFactory.getLogger(IoLoop.class);
    /** How often the loop looks for requests past their deadline. */
    static final long SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /**
     * How long the loop outlives its last connection. A script that builds a client, appends once and
     * closes it, again and again, paid 60-80 ms a round to start and stop the thread and its ZeroMQ
     * context; within this time the next client finds them running.
     */
    static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(1);

    private static IoLoop shared;
    private static int users;
    /** When the last user left, while none has come since; guarded by the class. */
    private static long idleSince;

    /**
     * Sockets the shared context may hold: each client has a DEALER and its monitor's PAIR, and JeroMQ's default of
     * 1,023 sockets a context made the 512th client of a JVM fail ("Errno 156384819", too many sockets).
     */
    static final int MAX_SOCKETS = 65_536;

    private final ZContext context = new ZContext(1);
    private final Selector selector;
    private final Queue<Connection> scheduled = new ConcurrentLinkedQueue<>();
    private final List<Connection> connections = new ArrayList<>();
    private final Thread thread;
    private volatile boolean sleeping;
    private volatile boolean running = true;

    private IoLoop() {
        context.getContext().setMaxSockets(MAX_SOCKETS);
        // JeroMQ prints its I/O threads' exceptions (a channel closed under them at shutdown) to standard
        // error by default.
        context.setNotificationExceptionHandler((thread, error) -> log.debug("ZeroMQ I/O thread {}: {}",
                thread.getName(), error.toString()));
        context.setUncaughtExceptionHandler((thread, error) -> log.warn("ZeroMQ thread {} failed", thread.getName(),
                error));
        try {
            selector = Selector.open();
        } catch (IOException e) {
            context.close();
            throw new UncheckedIOException("cannot open the client's selector", e);
        }
        thread = new Thread(this::run, "rewind-client-io");
        thread.setDaemon(true);
        thread.start();
    }

    /** The shared loop, started by its first user. */
    static synchronized IoLoop acquire() {
        if (shared == null) {
            shared = new IoLoop();
        }
        users++;
        return shared;
    }

    /**
     * Gives the loop back. When the last user leaves, the loop stops {@link #LINGER_NANOS} later
     * unless a new user came meanwhile, after the connections scheduled before have closed.
     */
    static synchronized void release(IoLoop loop) {
        if (--users == 0) {
            idleSince = System.nanoTime();
            loop.selector.wakeup();
        }
    }

    /** On the loop's thread: whether it has been without users long enough to stop; if so, it is no longer shared. */
    private boolean idleTooLong(long now) {
        synchronized (IoLoop.class) {
            if (users > 0 || shared != this || now - idleSince < LINGER_NANOS) {
                return false;
            }
            shared = null;
            return true;
        }
    }

    /** Has the loop serve the connection soon: it has requests to send or is closing. Any thread. */
    void schedule(Connection connection) {
        scheduled.add(connection);
        if (sleeping) {
            selector.wakeup();
        }
    }

    boolean isLoopThread() {
        return Thread.currentThread() == thread;
    }

    ZContext context() {
        return context;
    }

    Selector selector() {
        return selector;
    }

    private void run() {
        long nextSweep = System.nanoTime() + SWEEP_NANOS;
        try {
            List<Connection> due = new ArrayList<>();
            while (running) {
                // Only those scheduled so far: a busy connection that schedules itself again waits a turn.
                Connection connection;
                while ((connection = scheduled.poll()) != null) {
                    due.add(connection);
                }
                due.forEach(this::serve);
                due.clear();
                for (SelectionKey key : selector.selectedKeys()) {
                    serve((Connection) key.attachment());
                }
                selector.selectedKeys().clear();
                long now = System.nanoTime();
                if (idleTooLong(now)) {
                    running = false;
                    // Connections closed just before are served in the finally block.
                    break;
                }
                if (now - nextSweep > 0) {
                    connections.forEach(c -> c.expireOverdue(now));
                    nextSweep = now + SWEEP_NANOS;
                }
                if (!scheduled.isEmpty()) {
                    selector.selectNow();
                    continue;
                }
                sleeping = true;
                // Checked again after announcing the sleep: work scheduled before it did not wake us.
                if (scheduled.isEmpty() && running) {
                    selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextSweep - now)));
                }
                sleeping = false;
            }
        } catch (IOException | RuntimeException e) {
            log.error("The client's I/O thread failed; its connections are closed", e);
        } finally {
            Connection connection;
            while ((connection = scheduled.poll()) != null) {
                if (!connections.contains(connection)) {
                    connections.add(connection);
                }
            }
            connections.forEach(Connection::closeSocket);
            connections.clear();
            try {
                selector.close();
            } catch (IOException e) {
                log.debug("Could not close the client's selector: {}", e.toString());
            }
            context.close();
        }
    }

    private void serve(Connection connection) {
        try {
            if (!connection.isSocketOpen() && !connection.isClosing()) {
                connections.add(connection);
                connection.openSocket();
            }
            if (connection.isClosing()) {
                if (connections.remove(connection)) {
                    connection.closeSocket();
                }
                return;
            }
            connection.exchange();
        } catch (RuntimeException e) {
            // One broken connection fails its own requests, not those of the others.
            log.error("A client connection failed and is closed", e);
            connection.close();
        }
    }
}
