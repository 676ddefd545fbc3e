package io.rewind.client.internal;

import io.rewind.client.RequestTimeoutException;
import io.rewind.protocol.v1.ErrorCode;
import io.rewind.protocol.v1.NotLeader;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.Response;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.ZContext;

/**
 * Sends requests to one server, or to the members of a replicated group. With one endpoint, a request
 * goes to it and its reply is the answer. With several, requests go to the member believed to lead;
 * a NOT_LEADER reply is followed to the leader it names, and a member that does not answer within the
 * attempt timeout is left for the next one, until the request's own timeout has passed. The request
 * is resent as it was: an append carries its event ids, so one that reached the log before the
 * failure is stored once and answered with its original result.
 */
public final class CommandRouter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CommandRouter.class);
    /** Before asking again where there is no leader yet (an election takes a second or two). */
    private static final long NO_LEADER_PAUSE_MILLIS = 100;
    /** A member that did not answer is passed over for this long, while another may answer. */
    private static final long SUSPECT_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final List<String> endpoints;
    private final Duration timeout;
    private final Duration attemptTimeout;
    private final CurveClient curve;
    private final Map<String, Connection> connections = new ConcurrentHashMap<>();
    /** Members that recently did not answer, with when they stop being passed over. */
    private final Map<String, Long> suspects = new ConcurrentHashMap<>();
    private final Connection first;
    /** The member requests go to first: the leader as last heard of. */
    private volatile String preferred;
    private volatile boolean closed;

    /**
     * @param endpoints      the command endpoints: one server, or the members of a group
     * @param timeout        how long a request may take in all, failovers included
     * @param attemptTimeout how long one member may take to answer before the next is tried (several only)
     * @param curve          CURVE keys, or null for plain text
     */
    public CommandRouter(List<String> endpoints, Duration timeout, Duration attemptTimeout, CurveClient curve) {
        this.curve = curve;
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("no command endpoint");
        }
        this.endpoints = List.copyOf(endpoints);
        this.timeout = timeout;
        this.attemptTimeout = attemptTimeout.compareTo(timeout) < 0 ? attemptTimeout : timeout;
        this.preferred = this.endpoints.get(0);
        this.first = connection(preferred);
    }

    /** Whether requests may fail over between members. */
    public boolean replicated() {
        return endpoints.size() > 1;
    }

    /** The endpoint requests go to first now. */
    public String preferred() {
        return preferred;
    }

    private Connection connection(String endpoint) {
        return connections.computeIfAbsent(endpoint, e -> new Connection(e, timeout, curve));
    }

    /** Sends the request and returns its reply, failing over as the class describes. */
    public CompletableFuture<Response> send(Request.Builder request) {
        return send(request, timeout);
    }

    /** Like {@link #send(Request.Builder)}, waiting at most {@code replyTimeout} in all. */
    public CompletableFuture<Response> send(Request.Builder request, Duration replyTimeout) {
        if (!replicated()) {
            return first.send(request, replyTimeout);
        }
        Call call = new Call(request, System.nanoTime() + replyTimeout.toNanos(), replyTimeout,
                new CompletableFuture<>());
        attempt(call, preferred, null);
        return call.answer();
    }

    /** One request on its way through the members, until its deadline. */
    private record Call(Request.Builder request, long deadline, Duration timeout, CompletableFuture<Response> answer) {}

    private void attempt(Call call, String endpoint, String unreachable) {
        long remaining = call.deadline() - System.nanoTime();
        if (closed || remaining <= 0) {
            call.answer().completeExceptionally(new RequestTimeoutException("no member of " + endpoints
                    + " answered within " + call.timeout().toMillis() + " ms" + (unreachable == null ? ""
                    : " (the last to fail was " + unreachable + ")") + "; the request may or may not have taken effect"));
            return;
        }
        Request.Builder request = call.request();
        CompletableFuture<Response> answer = call.answer();
        Duration wait = Duration.ofNanos(Math.min(remaining, attemptTimeout.toNanos()));
        connection(endpoint).send(request, wait).whenComplete((response, error) -> {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause()
                    : error;
            if (cause instanceof RequestTimeoutException) {
                suspects.put(endpoint, System.nanoTime() + SUSPECT_NANOS);
                String next = next(endpoint);
                log.debug("{} did not answer within {} ms; trying {}", endpoint, wait.toMillis(), next);
                if (preferred.equals(endpoint)) {
                    preferred = next;
                }
                attempt(call, next, endpoint);
            } else if (cause != null) {
                answer.completeExceptionally(cause);
            } else if (response.hasError() && response.getError().getCode() == ErrorCode.NOT_LEADER) {
                NotLeader hint = response.getError().getNotLeader();
                String leader = hint.getLeaderCommandEndpoint();
                if (!leader.isEmpty() && !leader.equals(endpoint) && !suspected(leader)) {
                    preferred = leader;
                    attempt(call, leader, unreachable);
                } else {
                    // No leader known yet, or only the one that just failed: ask the next member shortly.
                    String next = next(endpoint);
                    Executor later = CompletableFuture.delayedExecutor(NO_LEADER_PAUSE_MILLIS, TimeUnit.MILLISECONDS);
                    later.execute(() -> attempt(call, next, unreachable));
                }
            } else {
                suspects.remove(endpoint);
                answer.complete(response);
            }
        });
    }

    /** The member after this one that is not suspected, or simply the one after it when all are. */
    private String next(String endpoint) {
        int index = Math.max(0, endpoints.indexOf(endpoint));
        for (int step = 1; step <= endpoints.size(); step++) {
            String candidate = endpoints.get((index + step) % endpoints.size());
            if (!suspected(candidate)) {
                return candidate;
            }
        }
        return endpoints.get((index + 1) % endpoints.size());
    }

    private boolean suspected(String endpoint) {
        Long until = suspects.get(endpoint);
        if (until == null) {
            return false;
        }
        if (System.nanoTime() - until > 0) {
            suspects.remove(endpoint, until);
            return false;
        }
        return true;
    }

    /** Sends the request to this endpoint only, without failing over. */
    public CompletableFuture<Response> sendTo(String endpoint, Request.Builder request, Duration replyTimeout) {
        return connection(endpoint).send(request, replyTimeout);
    }

    /** The command endpoints, the member believed to lead first. */
    public List<String> endpointsByPreference() {
        List<String> ordered = new java.util.ArrayList<>(endpoints);
        ordered.remove(preferred);
        ordered.add(0, preferred);
        return ordered;
    }

    /** The ZeroMQ context of the shared I/O loop, for the client's other sockets. */
    public ZContext context() {
        return first.context();
    }

    @Override
    public void close() {
        closed = true;
        connections.values().forEach(Connection::close);
    }
}
