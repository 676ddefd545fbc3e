package io.rewind.client;

import io.rewind.client.internal.CatchUpSubscription;
import io.rewind.client.internal.ClientCodec;
import io.rewind.client.internal.Connection;
import io.rewind.protocol.v1.ReadResponse;
import io.rewind.protocol.v1.Response;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The typed client of a Rewind server. Thread-safe: share one instance. Every call has an async form
 * returning a {@link CompletableFuture} and a blocking form. Failures are {@link RewindException}s.
 * The clients of a JVM share one I/O thread, which completes the futures: keep callbacks short, or
 * hop with {@code thenApplyAsync}; a callback that blocks stalls every client's replies.
 *
 * <pre>{@code
 * try (RewindClient client = RewindClient.builder().commandEndpoint("tcp://127.0.0.1:9090").build()) {
 *     client.append("order-1", ExpectedVersion.noStream(), EventData.of("OrderPlaced", "{}"));
 * }
 * }</pre>
 */
public final class RewindClient implements AutoCloseable {
    private final Connection connection;
    private final String commandEndpoint;
    private final String streamEndpoint;
    private final int subscriptionHighWaterMark;
    private final Set<CatchUpSubscription> subscriptions = ConcurrentHashMap.newKeySet();

    private RewindClient(Builder builder) {
        this.commandEndpoint = builder.commandEndpoint;
        this.streamEndpoint = builder.streamEndpoint;
        this.subscriptionHighWaterMark = builder.subscriptionHighWaterMark;
        this.connection = new Connection(builder.commandEndpoint, builder.requestTimeout);
    }

    /** @return a builder with the server's default endpoints and a 10 s request timeout */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the command endpoint this client talks to */
    public String commandEndpoint() {
        return commandEndpoint;
    }

    /** @return the live-feed endpoint of the server */
    public String streamEndpoint() {
        return streamEndpoint;
    }

    /**
     * Appends events to a stream, atomically: all are stored or none.
     *
     * @param expected the condition the stream must meet, e.g. {@code ExpectedVersion.exact(4)}
     * @return the positions and the stream's new version; fails with {@link WrongExpectedVersionException}
     *     when the condition does not hold
     */
    public CompletableFuture<AppendResult> appendAsync(String stream, ExpectedVersion expected,
            List<EventData> events) {
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(events, "events");
        return connection.send(ClientCodec.append(stream, expected, events)).thenApply(ClientCodec::toAppendResult);
    }

    /** Blocking form of {@link #appendAsync}. */
    public AppendResult append(String stream, ExpectedVersion expected, List<EventData> events) {
        return await(appendAsync(stream, expected, events));
    }

    /** Blocking form of {@link #appendAsync} for a few events. */
    public AppendResult append(String stream, ExpectedVersion expected, EventData... events) {
        return append(stream, expected, List.of(events));
    }

    /**
     * Reads one page of a stream: at most {@code options.pageSize()} events (or the server's page
     * size) from {@code options.from()}. Fails with {@link StreamNotFoundException} for a missing
     * stream.
     */
    public CompletableFuture<ReadPage> readStreamPageAsync(String stream, ReadOptions options) {
        Objects.requireNonNull(stream, "stream");
        return readPageAsync(stream, options, options.from());
    }

    /** Reads one page of the global log (all streams in global-position order). */
    public CompletableFuture<ReadPage> readAllPageAsync(ReadOptions options) {
        return readPageAsync(null, options, options.from());
    }

    private CompletableFuture<ReadPage> readPageAsync(String stream, ReadOptions options, long from) {
        return connection.send(ClientCodec.read(stream, options, from, options.pageSize()))
                .thenApply(response -> ClientCodec.toReadPage(response, stream));
    }

    /**
     * Reads a stream lazily: the returned {@link Stream} fetches pages ahead of the caller, but never
     * more than a few, so any number of events can be read in bounded memory.
     *
     * @throws StreamNotFoundException (when the first page is fetched) if the stream does not exist
     */
    public Stream<RecordedEvent> readStream(String stream, ReadOptions options) {
        Objects.requireNonNull(stream, "stream");
        return paged(stream, options);
    }

    /** Reads a whole stream, oldest first; see {@link #readStream(String, ReadOptions)}. */
    public Stream<RecordedEvent> readStream(String stream) {
        return readStream(stream, ReadOptions.forwards());
    }

    /** Reads the global log lazily, page by page; see {@link #readStream(String, ReadOptions)}. */
    public Stream<RecordedEvent> readAll(ReadOptions options) {
        return paged(null, options);
    }

    /** Reads the whole global log, oldest first. */
    public Stream<RecordedEvent> readAll() {
        return readAll(ReadOptions.forwards());
    }

    private Stream<RecordedEvent> paged(String stream, ReadOptions options) {
        Iterator<RecordedEvent> iterator = new PagingIterator(stream, options);
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator,
                Spliterator.ORDERED | Spliterator.NONNULL), false);
    }

    /** @return the server's version, head position, stream count and storage engine */
    public CompletableFuture<ServerInfo> serverInfoAsync() {
        return connection.send(ClientCodec.serverInfo()).thenApply(ClientCodec::toServerInfo);
    }

    /** Blocking form of {@link #serverInfoAsync()}. */
    public ServerInfo serverInfo() {
        return await(serverInfoAsync());
    }

    /**
     * Subscribes to a stream, a family of streams or the global log: the listener receives every event
     * after {@code from}, in order, exactly once, first from history and then live, on the
     * subscription's own thread. Events missed on the live feed (a slow listener, a dropped message)
     * are read from history before later ones are delivered, and a lost server is retried with
     * backoff, resuming after the last delivered event.
     *
     * @param target   {@code SubscriptionTarget.stream(name)}, {@code .prefix(p)} or {@code .all()}
     * @param from     {@code StartFrom.start()}, {@code .end()} or {@code .after(lastProcessed)}
     * @param listener receives events and state changes
     * @return the running subscription; close it to stop it
     */
    public Subscription subscribe(SubscriptionTarget target, StartFrom from, SubscriptionListener listener) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(listener, "listener");
        String stream = target instanceof SubscriptionTarget.Stream s ? s.name() : null;
        CatchUpSubscription.History history = new CatchUpSubscription.History() {
            @Override
            public ReadPage read(long position, int maxCount) {
                try {
                    return await(readPageAsync(stream, ReadOptions.forwards().pageSize(maxCount), position));
                } catch (StreamNotFoundException e) {
                    return new ReadPage(List.of(), true, position);
                }
            }

            @Override
            public long head() {
                if (stream == null) {
                    return serverInfo().headPosition();
                }
                try {
                    List<RecordedEvent> last = await(readPageAsync(stream, ReadOptions.backwards().pageSize(1), -1))
                            .events();
                    return last.isEmpty() ? -1 : last.get(0).streamVersion();
                } catch (StreamNotFoundException e) {
                    return -1;
                }
            }
        };
        CatchUpSubscription subscription = new CatchUpSubscription(history, connection.context(), streamEndpoint,
                target, from, new SubscriptionListener() {
                    @Override
                    public void onEvent(Subscription s, RecordedEvent event) throws Exception {
                        listener.onEvent(s, event);
                    }

                    @Override
                    public void onStateChange(Subscription s, SubscriptionState state) {
                        if (state == SubscriptionState.CLOSED) {
                            subscriptions.remove(s);
                        }
                        listener.onStateChange(s, state);
                    }

                    @Override
                    public void onError(Subscription s, Throwable error) {
                        listener.onError(s, error);
                    }
                }, subscriptionHighWaterMark, 0);
        subscriptions.add(subscription);
        return subscription.start();
    }

    /**
     * Closes every subscription, fails every request still waiting with {@link ClientClosedException}
     * and releases the sockets.
     */
    @Override
    public void close() {
        for (CatchUpSubscription subscription : subscriptions) {
            subscription.close();
        }
        connection.close();
    }

    private static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (ExecutionException | CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RewindException rewind) {
                // Rethrow the typed error with this thread's stack as well.
                rewind.addSuppressed(new RewindException("waited for in " + Thread.currentThread().getName()));
                throw rewind;
            }
            throw new RewindException("request failed: " + cause, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RewindException("interrupted while waiting for the server", e);
        }
    }

    /**
     * Walks pages until the end is reached or {@code maxCount} events were returned. A page's reply
     * says where the next one starts, so the next page is requested the moment a reply arrives (on
     * the I/O thread, before the reply is decoded), as long as fewer than {@link #AHEAD} pages wait
     * for the caller: the server reads while the client decodes and the caller consumes, and at most
     * {@code AHEAD + 1} pages are held.
     */
    private final class PagingIterator implements Iterator<RecordedEvent> {
        private static final int AHEAD = 2;
        private final String stream;
        private final ReadOptions options;
        private long remaining;
        private List<RecordedEvent> page = List.of();
        private int index;
        // Guarded by this: the pages asked for and not yet taken by the caller, in order, and the chain.
        private final Deque<CompletableFuture<ReadPage>> ahead = new ArrayDeque<>();
        private long toRequest;
        private long nextFrom;
        private boolean morePages = true;
        private boolean awaitingReply;

        PagingIterator(String stream, ReadOptions options) {
            this.stream = stream;
            this.options = options;
            this.remaining = options.maxCount();
            this.toRequest = options.maxCount();
            this.nextFrom = options.from();
            synchronized (this) {
                requestMore();
            }
        }

        /** Asks for the next page when its start is known and there is room for it; holds the lock. */
        private void requestMore() {
            if (!morePages || awaitingReply || toRequest <= 0 || ahead.size() >= AHEAD) {
                return;
            }
            int size = options.pageSize();
            int pageSize = toRequest < Integer.MAX_VALUE && (size == 0 || toRequest < size) ? (int) toRequest : size;
            awaitingReply = true;
            // Queued before the request goes out: a reply that is already there when the callback is
            // attached runs it at once, on this thread, and requests the page after this one.
            CompletableFuture<ReadPage> next = new CompletableFuture<>();
            ahead.add(next);
            connection.send(ClientCodec.read(stream, options, nextFrom, pageSize)).whenComplete((response, error) -> {
                if (error != null) {
                    failed();
                    next.completeExceptionally(error);
                    return;
                }
                arrived(response);
                try {
                    next.complete(ClientCodec.toReadPage(response, stream));
                } catch (RuntimeException e) {
                    next.completeExceptionally(e);
                }
            });
        }

        private synchronized void arrived(Response response) {
            awaitingReply = false;
            if (response.getResultCase() != Response.ResultCase.READ) {
                // An error reply: the caller gets it when it reaches this page.
                morePages = false;
                return;
            }
            ReadResponse read = response.getRead();
            toRequest -= read.getEventsCount();
            morePages = !read.getEndReached() && read.getNextFrom() >= 0 && read.getEventsCount() > 0;
            nextFrom = read.getNextFrom();
            requestMore();
        }

        private synchronized void failed() {
            awaitingReply = false;
            morePages = false;
        }

        @Override
        public boolean hasNext() {
            while (remaining > 0 && index == page.size()) {
                CompletableFuture<ReadPage> next;
                synchronized (this) {
                    next = ahead.poll();
                }
                if (next == null) {
                    return false;
                }
                page = await(next).events();
                index = 0;
                synchronized (this) {
                    requestMore();
                }
            }
            return remaining > 0 && index < page.size();
        }

        @Override
        public RecordedEvent next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            remaining--;
            return page.get(index++);
        }
    }

    /** Configures a {@link RewindClient}. */
    public static final class Builder {
        private String commandEndpoint = "tcp://127.0.0.1:9090";
        private String streamEndpoint = "tcp://127.0.0.1:9091";
        private Duration requestTimeout = Duration.ofSeconds(10);
        private int subscriptionHighWaterMark = 10_000;

        private Builder() {}

        /**
         * @param messages live-feed messages a subscription buffers before ZeroMQ drops (default 10,000);
         *                 drops are repaired from history, so this trades memory for re-reads
         */
        public Builder subscriptionReceiveHighWaterMark(int messages) {
            if (messages <= 0) {
                throw new IllegalArgumentException("high-water mark must be positive, got " + messages);
            }
            this.subscriptionHighWaterMark = messages;
            return this;
        }

        /** @param endpoint the server's command endpoint (default tcp://127.0.0.1:9090) */
        public Builder commandEndpoint(String endpoint) {
            this.commandEndpoint = Objects.requireNonNull(endpoint, "endpoint");
            return this;
        }

        /** @param endpoint the server's live-feed endpoint (default tcp://127.0.0.1:9091) */
        public Builder streamEndpoint(String endpoint) {
            this.streamEndpoint = Objects.requireNonNull(endpoint, "endpoint");
            return this;
        }

        /** @param timeout how long a request waits for its reply before failing (default 10 s) */
        public Builder requestTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("request timeout must be positive, got " + timeout);
            }
            this.requestTimeout = timeout;
            return this;
        }

        /** @return a connected client; the connection is made in the background and retried as needed */
        public RewindClient build() {
            return new RewindClient(this);
        }
    }
}
