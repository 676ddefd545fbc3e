package io.rewind.server.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoint for operators ({@code --http-endpoint}): {@code /metrics} in the Prometheus text
 * format ({@link PrometheusMetrics}); {@code /health/live} answers 200 while
 * the process runs; {@code /health/ready} answers 200 once the store is open and every endpoint is
 * bound, and 503 before that and from the start of shutdown, so that a load balancer or an
 * orchestrator sends requests only to a server that can take them. It is bound first, before the
 * store opens, so that a slow open reads as "not ready" rather than as "not there".
 */
public final class HealthEndpoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthEndpoint.class);

    /** Where the server is in its life, as ready answers it. */
    public enum State {
        STARTING(503, "starting"),
        READY(200, "ready"),
        STOPPING(503, "stopping");

        final int status;
        final String word;

        State(int status, String word) {
            this.status = status;
            this.word = word;
        }
    }

    private final HttpServer server;
    private volatile State state = State.STARTING;
    private volatile PrometheusMetrics metrics;
    /** Why a server that is otherwise ready is not, or null when nothing holds it back; asked on each probe. */
    private volatile Supplier<String> holdBack = () -> null;
    /** What a ready server's operator must see (it serves, but not as configured), or null; asked on each probe. */
    private volatile Supplier<String> warning = () -> null;

    private HealthEndpoint(HttpServer server) {
        this.server = server;
    }

    /**
     * Binds and starts serving, in state {@link State#STARTING}.
     *
     * @throws IllegalStateException naming the option and address when it cannot bind
     */
    public static HealthEndpoint start(String host, int port) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 16);
        } catch (IOException e) {
            throw new IllegalStateException("cannot bind --http-endpoint " + host + ":" + port + ": " + e, e);
        }
        HealthEndpoint endpoint = new HealthEndpoint(server);
        server.createContext("/health/live", exchange -> endpoint.answer(exchange, 200, "live"));
        server.createContext("/health/ready", exchange -> {
            State now = endpoint.state;
            String notYet = now == State.READY ? endpoint.holdBack.get() : null;
            String warning = now == State.READY && notYet == null ? endpoint.warning.get() : null;
            endpoint.answer(exchange, notYet == null ? now.status : 503, notYet != null ? "not ready: " + notYet
                    : warning != null ? now.word + "; warning: " + warning : now.word);
        });
        server.createContext("/metrics", exchange -> endpoint.metrics(exchange));
        server.createContext("/", exchange -> endpoint.answer(exchange, 404,
                "not found: this endpoint serves /metrics, /health/live and /health/ready"));
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "rewind-http");
            thread.setDaemon(true);
            return thread;
        }));
        server.start();
        return endpoint;
    }

    private void answer(HttpExchange exchange, int status, String body) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                status = 405;
                body = "only GET and HEAD";
            }
            byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        } catch (IOException e) {
            log.debug("A health check's connection failed: {}", e.toString());
        }
    }

    /** Serves these metrics on /metrics from now on (before, it answers 503). */
    public void serveMetrics(PrometheusMetrics serverMetrics) {
        this.metrics = serverMetrics;
    }

    private void metrics(HttpExchange exchange) throws IOException {
        PrometheusMetrics current = metrics;
        if (current == null) {
            answer(exchange, 503, "starting: no metrics yet");
            return;
        }
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET")) {
                answer(exchange, 405, "only GET");
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", PrometheusMetrics.contentType());
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                current.write(out);
            }
        } catch (IOException e) {
            log.debug("A metrics scrape's connection failed: {}", e.toString());
        }
    }

    /** host:port as bound (the port chosen when 0 was asked for). */
    public String boundAddress() {
        InetSocketAddress address = server.getAddress();
        return address.getHostString() + ":" + address.getPort();
    }

    public State state() {
        return state;
    }

    public void ready() {
        ready(() -> null);
    }

    /**
     * Ready from now on, as long as the condition says nothing (a member of a replicated group also
     * needs a known leader).
     *
     * @param holdBack asked on each probe: why the server is not ready, or null when it is
     */
    public void ready(Supplier<String> holdBack) {
        this.holdBack = holdBack;
        state = State.READY;
    }

    /** Adds a warning to ready's 200 answer whenever this says one, e.g. an authorized keys file in error. */
    public void warnWhen(Supplier<String> warning) {
        this.warning = warning;
    }

    /** From the start of shutdown: ready answers 503, live still 200. */
    public void stopping() {
        state = State.STOPPING;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
