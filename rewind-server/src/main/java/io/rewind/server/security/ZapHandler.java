package io.rewind.server.security;

import io.rewind.server.FatalErrors;
import io.rewind.server.http.ServerMetrics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/**
 * The ZAP handler (ZeroMQ RFC 27) of the server's context: every CURVE handshake on an endpoint
 * asks it whether the client's public key may connect, and it answers from the authorized keys.
 * The command and legacy query endpoints (domain {@link #COMMANDS}) take every listed key, whose
 * requests are then checked one by one; the live feeds (domain {@link #FEED}) only keys that read
 * every stream, as a PUB socket cannot tell its subscribers apart. The key becomes the connection's
 * User-Id, which every message it sends carries.
 *
 * <p>JeroMQ lets every client in when no handler is bound, so the handler binds before any CURVE
 * socket and the server halts if it ever stops answering.
 */
public final class ZapHandler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ZapHandler.class);
    /** Where ZeroMQ sends ZAP requests, by RFC 27. */
    static final String ENDPOINT = "inproc://zeromq.zap.01";
    /** ZAP domain of the command and legacy query endpoints: any listed key. */
    public static final String COMMANDS = "rewind";
    /** ZAP domain of the live feed and the legacy feed: keys with read=* only. */
    public static final String FEED = "rewind-feed";
    private static final byte[] VERSION = "1.0".getBytes(StandardCharsets.US_ASCII);
    private static final long LOG_INTERVAL_NANOS = 1_000_000_000L;

    private final ZContext context;
    private final AccessControl access;
    private final ServerMetrics metrics;
    private final Thread thread;
    private final CompletableFuture<Void> bound = new CompletableFuture<>();
    private volatile boolean running = true;
    private long lastLogNanos = System.nanoTime() - LOG_INTERVAL_NANOS;
    private long unlogged;

    private ZapHandler(ZContext context, AccessControl access, ServerMetrics metrics) {
        this.context = context;
        this.access = access;
        this.metrics = metrics;
        this.thread = new Thread(this::run, "rewind-zap");
        this.thread.setDaemon(true);
    }

    /** Binds the handler in the context and starts answering; throws if it cannot bind. */
    public static ZapHandler start(ZContext context, AccessControl access) {
        return start(context, access, ServerMetrics.NONE);
    }

    /** Like {@link #start(ZContext, AccessControl)}, counting the refusals. */
    public static ZapHandler start(ZContext context, AccessControl access, ServerMetrics metrics) {
        ZapHandler handler = new ZapHandler(context, access, metrics);
        handler.thread.start();
        try {
            handler.bound.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot start the ZAP handler that CURVE needs (JeroMQ would let every"
                    + " key in without it), so the server does not start: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the ZAP handler", e);
        }
        return handler;
    }

    private void run() {
        ZMQ.Socket rep;
        try {
            rep = context.createSocket(SocketType.REP);
            rep.setLinger(0);
            rep.setReceiveTimeOut(200);
            rep.bind(ENDPOINT);
        } catch (RuntimeException e) {
            bound.completeExceptionally(e);
            return;
        }
        bound.complete(null);
        try {
            List<byte[]> request = new ArrayList<>(8);
            while (running) {
                byte[] first = rep.recv();
                if (first == null) {
                    continue;
                }
                request.clear();
                request.add(first);
                while (rep.hasReceiveMore()) {
                    request.add(rep.recv());
                }
                reply(rep, request);
            }
        } catch (ZMQException e) {
            if (running) {
                FatalErrors.halt("the ZAP handler failed; without it CURVE would let every key in", e);
            }
        } catch (RuntimeException | Error e) {
            FatalErrors.halt("the ZAP handler failed; without it CURVE would let every key in", e);
        } finally {
            rep.close();
        }
    }

    /**
     * Answers one request: [version][request id][domain][address][identity][mechanism][credentials...]
     * with [version][request id][status code][status text][user id][metadata].
     */
    private void reply(ZMQ.Socket rep, List<byte[]> request) {
        byte[] requestId = request.size() > 1 ? request.get(1) : new byte[0];
        if (request.size() < 6 || !new String(request.get(0), StandardCharsets.US_ASCII).equals("1.0")) {
            send(rep, requestId, "500", "malformed ZAP request", "");
            return;
        }
        String domain = new String(request.get(2), StandardCharsets.UTF_8);
        String address = new String(request.get(3), StandardCharsets.UTF_8);
        String mechanism = new String(request.get(5), StandardCharsets.US_ASCII);
        if (!mechanism.equals("CURVE") || request.size() != 7 || request.get(6).length != 32) {
            refuse(rep, requestId, domain, address, mechanism + " connection", "this server speaks CURVE only");
            return;
        }
        String key = ZMQ.Curve.z85Encode(request.get(6));
        AuthorizedKeys.Grant grant = access.grant(key);
        if (grant == null) {
            refuse(rep, requestId, domain, address, "key " + key, "not in the authorized keys");
        } else if (domain.equals(FEED) && !grant.readsEverything()) {
            refuse(rep, requestId, domain, address, "key '" + grant.name() + "'", "a live feed carries every stream,"
                    + " so only keys with read=* may subscribe; this key has " + grant.describe()
                    + " and follows its streams by reads");
        } else if (!domain.equals(FEED) && !domain.equals(COMMANDS)) {
            refuse(rep, requestId, domain, address, "key '" + grant.name() + "'", "unknown ZAP domain");
        } else {
            log.debug("ZAP: key '{}' connected from {} (domain {})", grant.name(), address, domain);
            send(rep, requestId, "200", "OK", key);
        }
    }

    private void refuse(ZMQ.Socket rep, byte[] requestId, String domain, String address, String who, String why) {
        metrics.refused(domain.equals(FEED) ? "feed" : "commands");
        long now = System.nanoTime();
        if (now - lastLogNanos >= LOG_INTERVAL_NANOS) {
            log.warn("Refused a connection from {} to {} endpoint: {}: {}{}", address,
                    domain.equals(FEED) ? "a feed" : "a command", who, why,
                    unlogged == 0 ? "" : " (" + unlogged + " more refusals since the last line)");
            lastLogNanos = now;
            unlogged = 0;
        } else {
            unlogged++;
        }
        send(rep, requestId, "400", why, "");
    }

    private static void send(ZMQ.Socket rep, byte[] requestId, String status, String text, String userId) {
        rep.sendMore(VERSION);
        rep.sendMore(requestId);
        rep.sendMore(status);
        rep.sendMore(text.length() > 200 ? text.substring(0, 200) : text);
        rep.sendMore(userId);
        rep.send(new byte[0]);
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
