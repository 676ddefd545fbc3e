package io.rewind.server;

import io.rewind.server.config.ServerConfig;
import io.rewind.server.config.ServerOptions;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ParameterException;

/** {@code java -jar rewind-server.jar [options]}: runs the server until SIGTERM or SIGINT. */
public final class Main {
    private static final Logger log = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) {
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
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "rewind-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
