package io.rewind.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the server does with an error it cannot survive. An OutOfMemoryError (or another
 * {@link VirtualMachineError}) leaves the JVM in no state to serve: a thread may have died holding
 * work others wait for, and a server that answers nothing while it still holds its ports and its
 * data directory is worse than one that is gone. So wherever such an error is seen, the process logs
 * one line and halts at once with {@link #EXIT_STATUS}, for a supervisor to restart it; the store is
 * safe, since nothing is acknowledged before it is durable.
 */
public final class FatalErrors {
    private static final Logger log = LoggerFactory.getLogger(FatalErrors.class);

    /** The exit status after a fatal error. */
    public static final int EXIT_STATUS = 3;

    /** Heap set aside and released at the end, so that the last log line has room to be written. */
    @SuppressWarnings("unused")
    private static volatile byte[] reserve = new byte[1 << 20];

    private FatalErrors() {}

    /** Makes every thread's uncaught fatal error stop the process, and logs the other uncaught exceptions. */
    public static void install() {
        Thread.setDefaultUncaughtExceptionHandler(FatalErrors::uncaught);
    }

    /** For threads' uncaught-exception handlers: halts on a fatal error, logs anything else. */
    public static void uncaught(Thread thread, Throwable error) {
        if (error instanceof VirtualMachineError fatal) {
            halt(thread, fatal);
        }
        log.error("Uncaught exception in thread {}", thread.getName(), error);
    }

    /**
     * For JeroMQ's I/O threads, which hand over what their handlers throw (a channel closed under
     * them at shutdown, say) and by default print its stack trace to standard error.
     */
    public static void ioThreadError(Thread thread, Throwable error) {
        if (error instanceof VirtualMachineError fatal) {
            halt(thread, fatal);
        }
        log.warn("ZeroMQ I/O thread {}: {}", thread.getName(), error.toString());
        log.debug("ZeroMQ I/O thread error", error);
    }

    /**
     * Halts the process after logging why: for a state the server must not go on from (a member of a
     * replicated group that cannot apply an entry would diverge from the others). Never returns.
     */
    public static void halt(String why, Throwable cause) {
        try {
            log.error("Fatal: {}: exiting with status {}", why, EXIT_STATUS, cause);
        } catch (Throwable ignored) {
            // Halting matters more than the line.
        } finally {
            Runtime.getRuntime().halt(EXIT_STATUS);
        }
    }

    /** Halts the process after logging the error: never returns. */
    public static void halt(Thread thread, VirtualMachineError error) {
        reserve = null;
        try {
            log.error("Fatal {} in thread {}: exiting with status {} (nothing acknowledged is lost; restart the"
                    + " server{})", error, thread.getName(), EXIT_STATUS, error instanceof OutOfMemoryError
                    ? ", with a larger heap (-Xmx) or a lower --memory-limit" : "");
        } catch (Throwable ignored) {
            // Halting matters more than the line.
        } finally {
            Runtime.getRuntime().halt(EXIT_STATUS);
        }
    }
}
