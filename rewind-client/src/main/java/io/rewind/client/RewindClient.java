package io.rewind.client;

import io.rewind.client.internal.CatchUpSubscription;
import io.rewind.client.internal.ClientCodec;
import io.rewind.client.internal.CommandRouter;
import io.rewind.client.internal.CurveClient;
import io.rewind.client.internal.Endpoints;
import io.rewind.protocol.v1.ReadResponse;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.Response;
import java.nio.file.Path;
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
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
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
    private final CommandRouter connection;
    private final String commandEndpoint;
    private final String streamEndpoint;
    private final int subscriptionHighWaterMark;
    private final long subscriptionBufferBytes;
    private volatile String discoveredStreamEndpoint;
    private final Set<CatchUpSubscription> subscriptions = ConcurrentHashMap.newKeySet();
    /** CURVE keys, or null for plain text. */
    private final CurveClient curve;

    private RewindClient(Builder builder) {
        this.curve = builder.curve();
        this.commandEndpoint = builder.commandEndpoints.get(0);
        this.streamEndpoint = builder.streamEndpoint;
        this.subscriptionHighWaterMark = builder.subscriptionHighWaterMark;
        this.subscriptionBufferBytes = builder.subscriptionBufferBytes;
        this.connection = new CommandRouter(builder.commandEndpoints, builder.requestTimeout,
                builder.failoverAttemptTimeout, curve);
    }

    /** @return a builder with the server's default endpoints and a 10 s request timeout */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the command endpoint this client talks to */
    public String commandEndpoint() {
        return commandEndpoint;
    }

    /**
     * @return the live-feed endpoint: as given to the builder, or else as the server announces it in
     *     {@link ServerInfo#streamEndpoint()}, asked once (blocking) and remembered
     * @throws RewindException when it was not given and the server cannot be asked
     */
    public String streamEndpoint() {
        String known = streamEndpoint != null ? streamEndpoint : discoveredStreamEndpoint;
        if (known != null) {
            return known;
        }
        try {
            discoveredStreamEndpoint = Endpoints.feedEndpoint(commandEndpoint, serverInfo().streamEndpoint());
        } catch (RewindException e) {
            throw new RewindException("cannot learn the live feed's endpoint from " + commandEndpoint + " ("
                    + e.getMessage() + "); give it to the builder with streamEndpoint(...) to subscribe without"
                    + " asking", e);
        }
        return discoveredStreamEndpoint;
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
        return appendAsync(List.of(new StreamAppend(stream, expected, events)), null);
    }

    /**
     * Appends events to a stream on a Dynamic Consistency Boundary condition: fails with
     * {@link ConditionFailedException}, storing nothing, when an event matching the condition's query is stored
     * after its position. Decided by the server at commit time, so two appends racing on the same condition never
     * both succeed. Needs a key that reads every stream, when the server checks keys.
     */
    public CompletableFuture<AppendResult> appendAsync(String stream, ExpectedVersion expected,
            AppendCondition condition, List<EventData> events) {
        Objects.requireNonNull(condition, "condition");
        return appendAsync(List.of(new StreamAppend(stream, expected, events)), condition);
    }

    /** Blocking form of {@link #appendAsync(String, ExpectedVersion, AppendCondition, List)}. */
    public AppendResult append(String stream, ExpectedVersion expected, AppendCondition condition,
            EventData... events) {
        return await(appendAsync(stream, expected, condition, List.of(events)));
    }

    /**
     * Appends to several streams at once, atomically: every stream's events are stored, with consecutive global
     * positions in the order given, or none are (when any stream's expected version or the condition fails).
     * {@link AppendResult#streams()} gives each stream's new version.
     *
     * @param condition a Dynamic Consistency Boundary condition over the whole append, or null for none
     */
    public CompletableFuture<AppendResult> appendAsync(List<StreamAppend> streams, AppendCondition condition) {
        Objects.requireNonNull(streams, "streams");
        if (streams.isEmpty()) {
            throw new IllegalArgumentException("an append names at least one stream");
        }
        if (connection.replicated()) {
            // A retry on another member must carry the same ids, so that an append that reached the log
            // before a failover is stored once: ids are chosen here, not by the server.
            streams = streams.stream().map(part -> new StreamAppend(part.stream(), part.expected(), part.events()
                    .stream().map(e -> e.eventId() != null ? e : e.withId(UUID.randomUUID())).toList())).toList();
        }
        return connection.send(ClientCodec.append(streams, condition)).thenApply(ClientCodec::toAppendResult);
    }

    /** Blocking form of {@link #appendAsync(List, AppendCondition)}. */
    public AppendResult append(List<StreamAppend> streams, AppendCondition condition) {
        return await(appendAsync(streams, condition));
    }

    /** {@link #appendAsync(String, ExpectedVersion, List)} for a few events. */
    public CompletableFuture<AppendResult> appendAsync(String stream, ExpectedVersion expected, EventData... events) {
        return appendAsync(stream, expected, List.of(events));
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

    /**
     * Reads one page of the events of the global log that match the query, in position order (positions are
     * global positions). The server reads its tag and type indexes: the work is in proportion to what matches.
     * Needs a key that reads every stream, when the server checks keys.
     */
    public CompletableFuture<ReadPage> readQueryPageAsync(Query query, ReadOptions options) {
        Objects.requireNonNull(query, "query");
        return connection.send(ClientCodec.readQuery(query, options, options.from(), options.pageSize()))
                .thenApply(response -> ClientCodec.toReadPage(response, null));
    }

    /** Blocking form of {@link #readQueryPageAsync}. */
    public ReadPage readQueryPage(Query query, ReadOptions options) {
        return await(readQueryPageAsync(query, options));
    }

    /** Reads the events that match the query lazily, page by page; see {@link #readStream(String, ReadOptions)}. */
    public Stream<RecordedEvent> readQuery(Query query, ReadOptions options) {
        Objects.requireNonNull(query, "query");
        PagingIterator iterator = new PagingIterator(null, query, options);
        iterator.awaitFirstPage();
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator,
                Spliterator.ORDERED | Spliterator.NONNULL), false);
    }

    /** Reads every event that matches the query, oldest first. */
    public Stream<RecordedEvent> readQuery(Query query) {
        return readQuery(query, ReadOptions.forwards());
    }

    private CompletableFuture<ReadPage> readPageAsync(String stream, ReadOptions options, long from) {
        return connection.send(ClientCodec.read(stream, options, from, options.pageSize()))
                .thenApply(response -> ClientCodec.toReadPage(response, stream));
    }

    /**
     * Reads a stream lazily: the returned {@link Stream} fetches pages ahead of the caller, but never
     * more than a few, so any number of events can be read in bounded memory. The call waits for the
     * first page, so its errors are thrown here; a later page's are thrown while the stream is consumed.
     *
     * @throws StreamNotFoundException if the stream does not exist
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
        PagingIterator iterator = new PagingIterator(stream, null, options);
        iterator.awaitFirstPage();
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator,
                Spliterator.ORDERED | Spliterator.NONNULL), false);
    }

    /**
     * Has the server back its store up into a directory on its own machine, while appends go on
     * (they pause for the moment the server takes a checkpoint). Incremental when the directory holds
     * earlier backups. Copying a large store takes a while: the reply is awaited for {@code timeout}.
     *
     * @param directory absolute path on the server's machine
     */
    public CompletableFuture<BackupResult> backupAsync(String directory, Duration timeout) {
        Objects.requireNonNull(directory, "directory");
        return connection.send(ClientCodec.backup(directory), timeout).thenApply(ClientCodec::toBackupResult);
    }

    /** Blocking form of {@link #backupAsync}. */
    public BackupResult backup(String directory, Duration timeout) {
        return await(backupAsync(directory, timeout));
    }

    /** @return the server's version, head position, stream count and storage engine */
    public CompletableFuture<ServerInfo> serverInfoAsync() {
        return connection.send(ClientCodec.serverInfo()).thenApply(ClientCodec::toServerInfo);
    }

    /**
     * Deletes a stream: its events are no longer returned by any read, and later an append to it continues after
     * its last version. The server removes them from its disk in the background. An operation for administrators.
     *
     * @param expected checked like an append's ({@link WrongExpectedVersionException})
     * @return the stream's lifecycle after it
     */
    public CompletableFuture<StreamMetadata> deleteStreamAsync(String stream, ExpectedVersion expected) {
        return connection.send(ClientCodec.deleteStream(stream, expected, false))
                .thenApply(ClientCodec::toStreamMetadata);
    }

    /** Blocking form of {@link #deleteStreamAsync}. */
    public StreamMetadata deleteStream(String stream, ExpectedVersion expected) {
        return await(deleteStreamAsync(stream, expected));
    }

    /**
     * Deletes a stream for good: as {@link #deleteStream}, and every later append to it (or change to its
     * lifecycle) fails with {@link StreamDeletedException}. A name never used may be tombstoned too.
     */
    public StreamMetadata tombstoneStream(String stream, ExpectedVersion expected) {
        return await(connection.send(ClientCodec.deleteStream(stream, expected, true))
                .thenApply(ClientCodec::toStreamMetadata));
    }

    /**
     * Hides a stream's events below {@code beforeVersion} (at most its last version + 1); the stream keeps its
     * versions. A stream truncated further stays as it is.
     */
    public StreamMetadata truncateStream(String stream, long beforeVersion) {
        return await(connection.send(ClientCodec.truncateStream(stream, beforeVersion))
                .thenApply(ClientCodec::toStreamMetadata));
    }

    /** Sets how much of the stream reads return; events beyond it are hidden at once and removed later. */
    public StreamMetadata setStreamRetention(String stream, StreamRetention retention) {
        return await(connection.send(ClientCodec.setStreamRetention(stream, retention))
                .thenApply(ClientCodec::toStreamMetadata));
    }

    /** The stream's lifecycle (needs read permission on it, when the server checks keys). */
    public StreamMetadata streamMetadata(String stream) {
        return await(connection.send(ClientCodec.getStreamMetadata(stream)).thenApply(ClientCodec::toStreamMetadata));
    }

    /**
     * Erases one event's data and metadata for good, for a "forget this person" request: the event keeps its id,
     * type, tags, stream, version and position (reads return it with {@link RecordedEvent#erased()} set), and the
     * erased bytes are removed from the server's disk by its cleanup. An operation for administrators.
     *
     * @throws StreamNotFoundException when no event has this id
     */
    public ErasedEvent eraseEvent(UUID eventId) {
        return await(connection.send(ClientCodec.eraseEvent(eventId)).thenApply(ClientCodec::toErasedEvent));
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
     * <p>For {@code StartFrom.end()} and {@code StartFrom.after(p)} this asks the server for the
     * head before it returns: {@code end()} then means every event committed after this call, and
     * a {@code p} beyond the head is refused. The first subscription of a client without a
     * {@link Builder#streamEndpoint} also asks the server where its live feed is.
     *
     * @param target   {@code SubscriptionTarget.stream(name)}, {@code .prefix(p)}, {@code .query(q)} or
     *                 {@code .all()}
     * @param from     {@code StartFrom.start()}, {@code .end()} or {@code .after(lastProcessed)}
     * @param listener receives events and state changes
     * @return the running subscription; close it to stop it
     * @throws IllegalArgumentException when {@code after(p)} names a position beyond the head
     * @throws RewindException when the server cannot be asked what it needs to know
     */
    public Subscription subscribe(SubscriptionTarget target, StartFrom from, SubscriptionListener listener) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(listener, "listener");
        String stream = target instanceof SubscriptionTarget.Stream s ? s.name() : null;
        String feed = streamEndpoint();
        long startAfter = -1;
        if (from instanceof StartFrom.End || from instanceof StartFrom.After) {
            long head = head(stream);
            if (from instanceof StartFrom.After after) {
                if (after.position() > head) {
                    throw new IllegalArgumentException("cannot subscribe to " + target + " after position "
                            + after.position() + ": the head is at " + head + ". A checkpoint beyond the head"
                            + " belongs to another store, or to one restored from an older backup; following it"
                            + " would skip every event written until the head got there");
                }
                startAfter = after.position();
            } else {
                startAfter = head;
            }
        }
        CatchUpSubscription.History history = target instanceof SubscriptionTarget.Matching matching
                ? (position, maxCount) -> connection.send(ClientCodec.readQuery(matching.query(),
                        ReadOptions.forwards(), position, maxCount)).thenApply(r -> ClientCodec.toReadPage(r, null))
                : (position, maxCount) -> readPageAsync(stream, ReadOptions.forwards().pageSize(maxCount), position)
                .exceptionallyCompose(error -> unwrap(error) instanceof StreamNotFoundException
                        ? CompletableFuture.completedFuture(new ReadPage(List.of(), true, position))
                        : CompletableFuture.failedFuture(unwrap(error)));
        // In a replicated group, a feed that stays unreachable is followed on another member instead.
        CatchUpSubscription.FeedSource elsewhere = streamEndpoint == null && connection.replicated()
                ? this::feedOfAnotherMember : null;
        CatchUpSubscription subscription = new CatchUpSubscription(history, connection.context(), feed, elsewhere,
                curve, target, startAfter, new SubscriptionListener() {
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
                }, subscriptionHighWaterMark, subscriptionBufferBytes, 0);
        subscriptions.add(subscription);
        return subscription.start();
    }

    /** The live feed of a member that answers, other than the one at {@code unreachable}; else that one. */
    private String feedOfAnotherMember(String unreachable) {
        for (String member : connection.endpointsByPreference()) {
            try {
                ServerInfo info = ClientCodec.toServerInfo(connection.sendTo(member, ClientCodec.serverInfo(),
                        Duration.ofSeconds(1)).get());
                String feed = Endpoints.feedEndpoint(member, info.streamEndpoint());
                if (!feed.equals(unreachable)) {
                    return feed;
                }
            } catch (ExecutionException | RewindException e) {
                // Not this member: the next.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return unreachable;
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }

    /** The position of the newest event of the stream (its version), or of the log when stream is null; -1 if none. */
    private long head(String stream) {
        if (stream == null) {
            return serverInfo().headPosition();
        }
        try {
            List<RecordedEvent> last = await(readPageAsync(stream, ReadOptions.backwards().pageSize(1), -1)).events();
            return last.isEmpty() ? -1 : last.get(0).streamVersion();
        } catch (StreamNotFoundException e) {
            return -1;
        }
    }

    /**
     * Closes every subscription (waiting at most 5 s for their listeners), fails every request still
     * waiting with {@link ClientClosedException} and releases the sockets.
     */
    @Override
    public void close() {
        // All asked at once, then awaited together: a close takes at most one subscription's wait.
        subscriptions.forEach(CatchUpSubscription::signalClose);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CatchUpSubscription.closeWaitMillis());
        for (CatchUpSubscription subscription : subscriptions) {
            subscription.awaitClosed(deadline);
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
        private final Query query;
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

        /** Reads a stream, the events matching the query, or (both null) the global log. */
        PagingIterator(String stream, Query query, ReadOptions options) {
            this.stream = stream;
            this.query = query;
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
            Request.Builder request = query != null ? ClientCodec.readQuery(query, options, nextFrom, pageSize)
                    : ClientCodec.read(stream, options, nextFrom, pageSize);
            connection.send(request).whenComplete((response, error) -> {
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
            // A filtered page may hold no event and still move on (next_from past what it looked at).
            morePages = !read.getEndReached() && read.getNextFrom() >= 0
                    && (read.getEventsCount() > 0 || read.getNextFrom() != nextFrom);
            nextFrom = read.getNextFrom();
            requestMore();
        }

        /** Waits for the first page, so that its error (a missing stream, say) is thrown at the call. */
        void awaitFirstPage() {
            CompletableFuture<ReadPage> first;
            synchronized (this) {
                first = ahead.peek();
            }
            if (first != null) {
                await(first);
            }
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
        private List<String> commandEndpoints = List.of("tcp://127.0.0.1:9090");
        private Duration failoverAttemptTimeout = Duration.ofSeconds(1);
        private String streamEndpoint;
        private Duration requestTimeout = Duration.ofSeconds(10);
        private int subscriptionHighWaterMark = 1_000;
        private long subscriptionBufferBytes = 16L << 20;
        private byte[] curveServerKey;
        private byte[] curvePublicKey;
        private byte[] curveSecretKey;

        private Builder() {}

        /**
         * Speaks CURVE to a server started with {@code --curve-secret-key-file}: every connection is encrypted,
         * and the server lets in only keys of its {@code --authorized-keys}. Needs {@link #curveKeyPair} (or
         * {@link #curveKeyPairFile}) too.
         *
         * @param publicKey the server's public key, 40 characters of Z85 (as {@code rewind keygen} prints it)
         */
        public Builder curveServerKey(String publicKey) {
            this.curveServerKey = CurveClient.decode("the server's public key", publicKey);
            return this;
        }

        /**
         * {@link #curveServerKey(String)} from a ZeroMQ certificate file: the server's public certificate (or its
         * secret one, whose public key is the same).
         */
        public Builder curveServerKeyFile(Path certificate) {
            this.curveServerKey = CurveClient.readKey(certificate, "public-key");
            return this;
        }

        /**
         * This client's CURVE key pair, each key 40 characters of Z85; the public key must be in the server's
         * authorized keys. Needs {@link #curveServerKey} (or {@link #curveServerKeyFile}) too.
         */
        public Builder curveKeyPair(String publicKey, String secretKey) {
            this.curvePublicKey = CurveClient.decode("the client's public key", publicKey);
            this.curveSecretKey = CurveClient.decode("the client's secret key", secretKey);
            return this;
        }

        /**
         * {@link #curveKeyPair(String, String)} from a ZeroMQ certificate file holding both keys: the NAME_secret
         * file of {@code rewind keygen NAME}, czmq's zcert or JeroMQ's ZCert.
         */
        public Builder curveKeyPairFile(Path secretCertificate) {
            this.curvePublicKey = CurveClient.readKey(secretCertificate, "public-key");
            this.curveSecretKey = CurveClient.readKey(secretCertificate, "secret-key");
            return this;
        }

        private CurveClient curve() {
            if (curveServerKey == null && curvePublicKey == null) {
                return null;
            }
            if (curveServerKey == null) {
                throw new IllegalStateException("a CURVE key pair was given without the server's public key: set"
                        + " curveServerKey(...) or curveServerKeyFile(...) too");
            }
            if (curvePublicKey == null) {
                throw new IllegalStateException("the server's CURVE public key was given without the client's key"
                        + " pair: set curveKeyPair(...) or curveKeyPairFile(...) too");
            }
            return new CurveClient(curveServerKey, curvePublicKey, curveSecretKey);
        }

        /**
         * @param messages live-feed messages ZeroMQ may queue for a subscription before it drops (default
         *                 1,000); the subscription's feed reader drains this queue at once into its buffer
         *                 ({@link #subscriptionBufferBytes}), so it holds little
         */
        public Builder subscriptionReceiveHighWaterMark(int messages) {
            if (messages <= 0) {
                throw new IllegalArgumentException("high-water mark must be positive, got " + messages);
            }
            this.subscriptionHighWaterMark = messages;
            return this;
        }

        /**
         * @param bytes most bytes of live events a subscription holds for a listener that is behind
         *              (default 16 MiB, at least one event); what comes beyond it is dropped and read again
         *              from history once the listener catches up, so this trades memory for re-reads
         */
        public Builder subscriptionBufferBytes(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("subscription buffer must be positive, got " + bytes);
            }
            this.subscriptionBufferBytes = bytes;
            return this;
        }

        /** @param endpoint the server's command endpoint (default tcp://127.0.0.1:9090) */
        public Builder commandEndpoint(String endpoint) {
            this.commandEndpoints = List.of(Objects.requireNonNull(endpoint, "endpoint"));
            return this;
        }

        /**
         * The command endpoints of the members of a replicated group (any order; the first is asked first).
         * Appends follow the leader: a NOT_LEADER reply is followed to the leader it names, and a member
         * that does not answer within {@link #failoverAttemptTimeout} is left for the next, until the
         * request timeout; appends get client-chosen event ids, so a retry is stored once. Reads go to the
         * same member and fail over the same way.
         */
        public Builder commandEndpoints(String... endpoints) {
            if (endpoints.length == 0) {
                throw new IllegalArgumentException("at least one command endpoint is needed");
            }
            this.commandEndpoints = List.of(endpoints);
            return this;
        }

        /**
         * @param timeout with several command endpoints, how long one member may take to answer before the
         *                request goes to the next, which is then passed over for 5 s (default 1 s); with one,
         *                unused
         */
        public Builder failoverAttemptTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("failover attempt timeout must be positive, got " + timeout);
            }
            this.failoverAttemptTimeout = timeout;
            return this;
        }

        /**
         * @param endpoint the server's live-feed endpoint; by default the client asks the server (see
         *                 {@link RewindClient#streamEndpoint()})
         */
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
