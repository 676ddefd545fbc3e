package io.rewind.server;

import io.rewind.server.config.ServerConfig;
import io.rewind.server.config.ServerOptions;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ParameterException;

/**
 * {@code java -jar rewind-server.jar [options]}: runs the server until SIGTERM or SIGINT.
 *
 * <p>Exit status: 0 after a clean stop (SIGTERM, SIGINT), 1 when start-up fails or a stop does not
 * finish in time, 2 for a bad option, and {@value FatalErrors#EXIT_STATUS} after a fatal error such
 * as running out of memory.
 */
public final class Main {
    static {
        // Before the first logger: the jar's own configuration, unless one is given.
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "rewind-server-logback.xml");
        }
    }

    private static final Logger log = LoggerFactory.getLogger(Main.class);
    /** A stop that takes longer than this (a stuck thread) ends the process with status 1. */
    private static final long STOP_TIMEOUT_SECONDS = 30;

    private Main() {}

    public static void main(String[] args) {
        FatalErrors.install();
        ServerConfig config;
        try {
            config = ServerOptions.parse(args);
        } catch (ParameterException e) {
            System.err.println("rewind-server: " + e.getMessage());
            System.err.println(ServerOptions.usageHint());
            System.exit(2);
            return;
        }
        if (config == null) {
            return;
        }
        log.info("Configuration: {}", config);
        RewindServer server;
        try {
            server = RewindServer.start(config);
        } catch (RuntimeException e) {
            log.error("Cannot start: {}", e.getMessage());
            log.debug("Start-up failure", e);
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(server), "rewind-shutdown"));
        try {
            new CountDownLatch(1).await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops the server on SIGTERM or SIGINT and ends the process with status 0 once every queued append
     * is answered and the store closed. The JVM would report 143 (killed by SIGTERM), which service
     * managers count as a failure.
     */
    private static void stop(RewindServer server) {
        Thread watchdog = new Thread(() -> {
            try {
                TimeUnit.SECONDS.sleep(STOP_TIMEOUT_SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            log.error("The server did not stop within {} s; exiting with status 1", STOP_TIMEOUT_SECONDS);
            Runtime.getRuntime().halt(1);
        }, "rewind-stop-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        int status = 0;
        try {
            server.close();
        } catch (RuntimeException e) {
            log.error("The server did not stop cleanly", e);
            status = 1;
        }
        Runtime.getRuntime().halt(status);
    }
}
