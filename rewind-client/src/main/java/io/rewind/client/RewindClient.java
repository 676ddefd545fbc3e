package io.rewind.client;

import io.rewind.client.internal.ClientCodec;
import io.rewind.client.internal.Connection;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The typed client of a Rewind server. Thread-safe: share one instance. Every call has an async form
 * returning a {@link CompletableFuture} (completed on the client's I/O thread: keep callbacks short,
 * or hop with {@code thenApplyAsync}) and a blocking form. Failures are {@link RewindException}s.
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

    private RewindClient(Builder builder) {
        this.commandEndpoint = builder.commandEndpoint;
        this.streamEndpoint = builder.streamEndpoint;
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
     * Reads a stream lazily: the returned {@link Stream} fetches the next page only when the previous
     * one is consumed, so any number of events can be read in bounded memory.
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

    /** Fails every request still waiting with {@link ClientClosedException} and releases the socket. */
    @Override
    public void close() {
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

    /** Walks pages until the end is reached or {@code maxCount} events were returned. */
    private final class PagingIterator implements Iterator<RecordedEvent> {
        private final String stream;
        private final ReadOptions options;
        private long remaining;
        private long from;
        private List<RecordedEvent> page = List.of();
        private int index;
        private boolean endReached;

        PagingIterator(String stream, ReadOptions options) {
            this.stream = stream;
            this.options = options;
            this.remaining = options.maxCount();
            this.from = options.from();
        }

        @Override
        public boolean hasNext() {
            while (remaining > 0 && index == page.size() && !endReached) {
                ReadOptions pageOptions = options.pageSize(pageSize());
                ReadPage next = await(readPageAsync(stream, pageOptions, from));
                page = next.events();
                index = 0;
                endReached = next.endReached() || next.nextFrom() < 0;
                from = next.nextFrom();
            }
            return remaining > 0 && index < page.size();
        }

        private int pageSize() {
            int size = options.pageSize();
            return remaining < Integer.MAX_VALUE && (size == 0 || remaining < size) ? (int) remaining : size;
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

        private Builder() {}

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
