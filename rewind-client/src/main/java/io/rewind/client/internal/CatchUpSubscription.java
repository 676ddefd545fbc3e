package io.rewind.client.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rewind.client.ClientClosedException;
import io.rewind.client.Query;
import io.rewind.client.ReadPage;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RequestTimeoutException;
import io.rewind.client.RewindException;
import io.rewind.client.ServerErrorException;
import io.rewind.client.ServerUnavailableException;
import io.rewind.client.Subscription;
import io.rewind.client.SubscriptionListener;
import io.rewind.client.SubscriptionState;
import io.rewind.client.SubscriptionTarget;
import io.rewind.protocol.v1.EventRecord;
import io.rewind.protocol.v1.WireFormat;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * A gap-free catch-up subscription. It reads history page by page from the last delivered
 * position, then delivers live events, each only if it is the very next position: an older one is a
 * duplicate and skipped, a newer one means events were missed (slow joiner, a message dropped), and
 * history is read up to the end before going on. A quiet feed is checked against history once a
 * second, so a lost last event is found too, and so is every event while the feed cannot be reached.
 *
 * <p>Two threads: the feed reader owns the SUB socket and its monitor, and moves each message into a
 * queue bounded in bytes (dropping beyond it: the gap is read from history); the subscription thread
 * reads history and runs the listener. Memory stays bounded by that queue, ZeroMQ's receive
 * high-water mark (which the reader keeps drained) and one page. The monitor tells the subscription
 * at once when the feed's connection drops or comes back.
 *
 * <p>A stream target subscribes to the stream's exact topic and counts stream versions; prefix, query and
 * global targets subscribe to every event (global positions are only dense on the whole feed) and
 * filter by name or query. A query target reads history by its query, whose pages skip what does not match:
 * each page's next_from says how far it looked.
 */
public final class CatchUpSubscription implements Subscription {
    private static final Logger log = LoggerFactory.getLogger(CatchUpSubscription.class);
    private static final Duration IDLE_CHECK = Duration.ofSeconds(1);
    /** How long the feed may stay unreachable before the subscription says so. */
    private static final Duration FEED_GRACE = Duration.ofSeconds(3);
    private static final long MAX_BACKOFF_MILLIS = 5_000;
    /** The most {@link #close()} waits for the subscription's thread (a listener call in progress). */
    private static final long CLOSE_WAIT_MILLIS = 5_000;
    private static final AtomicLong MONITORS = new AtomicLong();

    /** How long the feed may stay unreachable before a subscription to a replicated group moves to another member's. */
    private static final Duration FEED_SWITCH = Duration.ofSeconds(2);

    /**
     * Where else the live feed may be followed: in a replicated group, another member's feed carries the same
     * events at the same positions.
     */
    @FunctionalInterface
    public interface FeedSource {
        /** A feed endpoint to use instead of {@code unreachable}, or {@code unreachable} itself when there is none. */
        String instead(String unreachable);
    }

    /** Reads history for the subscription, failing with {@link RewindException}. */
    @FunctionalInterface
    public interface History {
        /** Reads a page forwards from {@code from} (a version or global position); a missing stream is empty. */
        CompletableFuture<ReadPage> read(long from, int maxCount);
    }

    /** How often history is read while the live feed refuses this client's key. */
    private static final Duration REFUSED_POLL = Duration.ofMillis(200);

    /** What the feed reader hands over: an event's body, or a change of the connection. */
    private record FeedItem(byte[] body, boolean connected, boolean refused) {
        static final FeedItem CONNECTED = new FeedItem(null, true, false);
        static final FeedItem DISCONNECTED = new FeedItem(null, false, false);
        /** The feed refused the client's CURVE key: only keys that read every stream may subscribe. */
        static final FeedItem REFUSED = new FeedItem(null, false, true);
    }

    private final History history;
    private final ZContext context;
    /** The feed followed now; the feed reader moves its socket when the subscription thread changes it. */
    private volatile String feedEndpoint;
    private final FeedSource feedSource;
    /** CURVE keys for the SUB socket, or null for plain text. */
    private final CurveClient curve;
    private final SubscriptionTarget target;
    private final SubscriptionListener listener;
    private final int receiveHighWaterMark;
    private final long bufferBytes;
    private final int pageSize;
    private final Thread thread;
    private final Thread feedReader;
    private final boolean byVersion;
    private final String prefix;
    /** The query a query target filters by, or null. */
    private final Query query;
    private final BlockingQueue<FeedItem> feed = new LinkedBlockingQueue<>();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final CountDownLatch subscribed = new CountDownLatch(1);
    private final CompletableFuture<Void> closeSignal = new CompletableFuture<>();
    private final CompletableFuture<Subscription> live = new CompletableFuture<>();
    private volatile SubscriptionState state;
    private volatile boolean closing;
    private volatile boolean stopped;
    /** The last position examined: delivered, or skipped by the prefix filter. */
    private volatile long checkpoint;
    private volatile long lastDelivered;
    /** Owned by the subscription thread. */
    private boolean feedConnected;
    private long feedDownSince = System.nanoTime();
    private boolean feedWarned;
    /**
     * The feed refused this client's key (it may not read every stream): new events come from history,
     * read every {@link #REFUSED_POLL}, until the feed lets the key in.
     */
    private boolean feedRefused;
    private long dropped;

    /**
     * @param startAfter  the position already dealt with: -1 to start with the first event
     * @param bufferBytes most bytes of live events queued for the listener; beyond it they are dropped
     *                    and read again from history
     */
    public CatchUpSubscription(History history, ZContext context, String feedEndpoint, SubscriptionTarget target,
            long startAfter, SubscriptionListener listener, int receiveHighWaterMark, long bufferBytes, int pageSize) {
        this(history, context, feedEndpoint, null, null, target, startAfter, listener, receiveHighWaterMark,
                bufferBytes, pageSize);
    }

    /**
     * @param feedSource where else to follow the feed when it stays unreachable; null for nowhere
     * @param curve      CURVE keys for the feed, or null for plain text
     */
    public CatchUpSubscription(History history, ZContext context, String feedEndpoint, FeedSource feedSource,
            CurveClient curve, SubscriptionTarget target, long startAfter, SubscriptionListener listener,
            int receiveHighWaterMark, long bufferBytes, int pageSize) {
        this.history = history;
        this.curve = curve;
        this.context = context;
        this.feedEndpoint = feedEndpoint;
        this.feedSource = feedSource;
        this.target = target;
        this.listener = listener;
        this.receiveHighWaterMark = receiveHighWaterMark;
        this.bufferBytes = bufferBytes;
        this.pageSize = pageSize;
        this.byVersion = target instanceof SubscriptionTarget.Stream;
        this.prefix = target instanceof SubscriptionTarget.Prefix p ? p.prefix() : null;
        this.query = target instanceof SubscriptionTarget.Matching m ? m.query() : null;
        this.checkpoint = startAfter;
        this.lastDelivered = startAfter;
        this.thread = new Thread(this::run, "rewind-subscription " + describe(target));
        this.thread.setDaemon(true);
        this.feedReader = new Thread(this::readFeed, "rewind-feed " + describe(target));
        this.feedReader.setDaemon(true);
    }

    private static String describe(SubscriptionTarget target) {
        if (target instanceof SubscriptionTarget.Stream s) {
            return "stream '" + s.name() + "'";
        }
        if (target instanceof SubscriptionTarget.Prefix p) {
            return "prefix '" + p.prefix() + "'";
        }
        if (target instanceof SubscriptionTarget.Matching m) {
            return "query " + m.query().items();
        }
        return "all";
    }

    public CatchUpSubscription start() {
        feedReader.start();
        thread.start();
        return this;
    }

    @Override
    public SubscriptionTarget target() {
        return target;
    }

    @Override
    public long lastPosition() {
        return lastDelivered;
    }

    @Override
    public long checkpoint() {
        return checkpoint;
    }

    @Override
    public SubscriptionState state() {
        return state;
    }

    @Override
    public CompletableFuture<Subscription> whenLive() {
        return live.copy();
    }

    @Override
    public boolean awaitLive(Duration timeout) {
        try {
            live.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RewindException rewind) {
                throw rewind;
            }
            throw new RewindException("the subscription to " + describe(target) + " stopped: " + e.getCause(),
                    e.getCause());
        }
    }

    /** Thrown to unwind the subscription's thread when it must stop. */
    private static final class Stop extends RuntimeException {
        Stop(Throwable cause) {
            super(cause);
        }
    }

    /** How long the feed reader waits, after the feed refused the key, before it tries with a new socket. */
    private static final long FEED_RETRY_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** The SUB socket and its monitor, made together. */
    private record FeedSocket(ZMQ.Socket sub, ZMQ.Socket monitor) {
        void close() {
            sub.monitor(null, 0);
            monitor.close();
            sub.close();
        }
    }

    /** Makes the SUB socket, subscribed, with its monitor, and connects it. */
    private FeedSocket openFeed(String endpoint) {
        ZMQ.Socket sub = context.createSocket(SocketType.SUB);
        ZMQ.Socket monitor = context.createSocket(SocketType.PAIR);
        String monitorAddress = "inproc://rewind-feed-monitor-" + MONITORS.incrementAndGet();
        sub.setRcvHWM(receiveHighWaterMark);
        sub.setHandshakeIvl(Connection.HANDSHAKE_MILLIS);
        sub.setReceiveTimeOut(100);
        sub.setLinger(0);
        if (curve != null) {
            curve.apply(sub);
        }
        sub.monitor(monitorAddress, ZMQ.EVENT_CONNECTED | ZMQ.EVENT_HANDSHAKE_PROTOCOL | ZMQ.EVENT_DISCONNECTED
                | zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
        monitor.setLinger(0);
        monitor.connect(monitorAddress);
        sub.subscribe(byVersion ? WireFormat.topic(((SubscriptionTarget.Stream) target).name()) : new byte[0]);
        sub.connect(endpoint);
        return new FeedSocket(sub, monitor);
    }

    /**
     * The feed reader: subscribes, then moves messages and connection changes into the queue. A feed that
     * refuses the key (JeroMQ then never connects again) is tried again with a new socket every 5 s.
     */
    private void readFeed() {
        String connected = feedEndpoint;
        FeedSocket socket = null;
        try {
            // Subscribed before history is read, so that nothing published meanwhile is missed for good.
            socket = openFeed(connected);
            subscribed.countDown();
            long refusedAt = 0;
            while (!closing && !stopped) {
                String wanted = feedEndpoint;
                if (!wanted.equals(connected)) {
                    // Another member's feed: same events, same positions; the gap is read from history.
                    socket.sub().disconnect(connected);
                    socket.sub().connect(wanted);
                    connected = wanted;
                }
                if (refusedAt != 0 && System.nanoTime() - refusedAt > FEED_RETRY_NANOS) {
                    refusedAt = 0;
                    socket.close();
                    socket = openFeed(connected);
                }
                ZMQ.Event event;
                while ((event = ZMQ.Event.recv(socket.monitor(), ZMQ.DONTWAIT)) != null) {
                    int kind = event.getEvent();
                    if (kind == zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
                        refusedAt = System.nanoTime();
                        feed.add(FeedItem.REFUSED);
                    } else {
                        feed.add(kind == ZMQ.EVENT_DISCONNECTED ? FeedItem.DISCONNECTED : FeedItem.CONNECTED);
                    }
                }
                ZMQ.Socket sub = socket.sub();
                byte[] topic = sub.recv();
                if (topic == null) {
                    continue;
                }
                byte[] body = sub.hasReceiveMore() ? sub.recv() : null;
                while (sub.hasReceiveMore()) {
                    sub.recv();
                }
                if (body == null) {
                    log.warn("Ignored a live-feed message from {} that is not [topic][EventRecord]", feedEndpoint);
                } else if (queuedBytes.get() + body.length > bufferBytes && !feed.isEmpty()) {
                    // The listener is this far behind: the subscription finds the gap and reads it from history.
                    dropped++;
                } else {
                    queuedBytes.addAndGet(body.length);
                    feed.add(new FeedItem(body, true, false));
                }
            }
        } catch (RuntimeException e) {
            if (!closing) {
                log.warn("The live-feed reader of the subscription to {} failed: {}", describe(target), e.toString());
                feed.add(FeedItem.DISCONNECTED);
            }
        } finally {
            subscribed.countDown();
            if (socket != null) {
                socket.close();
            }
        }
    }

    private void run() {
        Throwable fatal = null;
        try {
            subscribed.await();
            // Said first, so that a subscription with no history to read is never taken for reconnecting.
            setState(SubscriptionState.CATCHING_UP);
            catchUp(SubscriptionState.CATCHING_UP);
            follow();
        } catch (Stop stop) {
            fatal = stop.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            fatal = e;
        } finally {
            stopped = true;
            try {
                feedReader.join(CLOSE_WAIT_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            live.completeExceptionally(fatal != null ? fatal
                    : new ClientClosedException("the subscription to " + describe(target) + " was closed"));
            try {
                notifyState(SubscriptionState.CLOSED);
            } catch (RuntimeException e) {
                log.warn("The listener failed on state CLOSED", e);
            }
        }
        if (fatal != null && !closing) {
            log.warn("Subscription to {} stopped after position {}: {}", describe(target), lastDelivered,
                    fatal.toString());
            try {
                listener.onError(this, fatal);
            } catch (RuntimeException e) {
                log.warn("The listener's onError failed", e);
            }
        }
        if (dropped > 0) {
            log.debug("Subscription to {} dropped {} live events beyond its buffer and read them from history",
                    describe(target), dropped);
        }
    }

    private void follow() throws InterruptedException {
        long lastActivity = System.nanoTime();
        while (!closing) {
            FeedItem item = feed.poll(200, TimeUnit.MILLISECONDS);
            long now = System.nanoTime();
            if (item == null) {
                if (feedRefused) {
                    if (now - lastActivity > REFUSED_POLL.toNanos()) {
                        catchUp(SubscriptionState.FELL_BEHIND);
                        lastActivity = System.nanoTime();
                    }
                    continue;
                }
                if (now - lastActivity > IDLE_CHECK.toNanos()) {
                    // A quiet feed: was the last event before the quiet lost? History knows.
                    catchUp(SubscriptionState.FELL_BEHIND);
                    lastActivity = System.nanoTime();
                }
                if (!feedConnected && feedSource != null && now - feedDownSince > FEED_SWITCH.toNanos()) {
                    moveFeed();
                }
                if (!feedConnected && !feedWarned && now - feedDownSince > FEED_GRACE.toNanos()) {
                    feedWarned = true;
                    log.warn("Subscription to {} cannot reach the live feed at {}: reading new events from history"
                            + " every second until it connects. Is the feed endpoint right? (the server announces"
                            + " it in ServerInfo)", describe(target), feedEndpoint);
                    setState(SubscriptionState.RECONNECTING);
                }
                continue;
            }
            if (item.refused()) {
                if (!feedRefused) {
                    feedRefused = true;
                    feedConnected = false;
                    log.info("The live feed at {} refuses this client's key (only keys with read=* may subscribe):"
                            + " the subscription to {} reads new events from history every {} ms instead", feedEndpoint,
                            describe(target), REFUSED_POLL.toMillis());
                    catchUp(SubscriptionState.FELL_BEHIND);
                }
                continue;
            }
            if (feedRefused && item.body() == null) {
                // Connection attempts that the feed refuses again: history is read meanwhile.
                continue;
            }
            lastActivity = now;
            if (item.body() == null) {
                if (item.connected()) {
                    feedUp();
                } else if (feedConnected) {
                    feedConnected = false;
                    feedDownSince = now;
                    log.info("Subscription to {} lost the live feed at {}; reconnecting", describe(target),
                            feedEndpoint);
                    setState(SubscriptionState.RECONNECTING);
                }
                continue;
            }
            queuedBytes.addAndGet(-item.body().length);
            EventRecord record;
            try {
                record = EventRecord.parseFrom(item.body());
            } catch (InvalidProtocolBufferException e) {
                log.warn("Ignored a live-feed message that is not [topic][EventRecord]");
                continue;
            }
            if (!feedConnected) {
                // An event proves the connection before its monitor event may have come.
                feedRefused = false;
                feedUp();
            }
            long position = byVersion ? record.getStreamVersion() : record.getGlobalPosition();
            if (position <= checkpoint) {
                continue;
            }
            if (position == checkpoint + 1) {
                offer(ClientCodec.toRecordedEvent(record), position);
            } else {
                // Missed live events: read them (and everything up to the end) from history.
                catchUp(SubscriptionState.FELL_BEHIND);
            }
        }
    }

    /** Follows another member's feed, if there is one that answers; else waits as long again. */
    private void moveFeed() {
        String current = feedEndpoint;
        String other;
        try {
            other = feedSource.instead(current);
        } catch (RuntimeException e) {
            other = current;
        }
        feedDownSince = System.nanoTime();
        if (!other.equals(current)) {
            log.info("Subscription to {} moves from the live feed at {}, unreachable, to {}", describe(target),
                    current, other);
            feedEndpoint = other;
        }
    }

    /** The feed is connected (again): what was published while it was not is read from history. */
    private void feedUp() {
        if (feedConnected) {
            return;
        }
        feedConnected = true;
        if (feedWarned) {
            log.info("Subscription to {} reached the live feed at {}", describe(target), feedEndpoint);
            feedWarned = false;
        }
        catchUp(SubscriptionState.FELL_BEHIND);
    }

    /**
     * Reads and delivers history from the checkpoint to the end. Then it is live if the feed is
     * connected; before the feed's first connection it is still catching up, and after a drop it is
     * reconnecting.
     */
    private void catchUp(SubscriptionState reason) {
        boolean announced = false;
        while (!closing) {
            long next = checkpoint + 1;
            ReadPage page = retrying(() -> history.read(next, pageSize));
            if (!page.events().isEmpty() && !announced) {
                setState(reason);
                announced = true;
            }
            if (!page.events().isEmpty() && positionOf(page.events().get(0)) < next) {
                // A page from before where it was asked to start would be read again forever.
                throw new Stop(new RewindException("history of " + describe(target) + " does not continue at position "
                        + next + ": the page starts at " + positionOf(page.events().get(0))));
            }
            // History skips what is not returned: events a query does not match, and events removed (deleted,
            // truncated, expired) from their streams. Everything before next_from was looked at.
            for (RecordedEvent event : page.events()) {
                long position = positionOf(event);
                if (position > checkpoint) {
                    offer(event, position);
                }
            }
            if (page.nextFrom() > 0) {
                checkpoint = Math.max(checkpoint, page.nextFrom() - 1);
            }
            if (page.endReached() || page.events().isEmpty() && checkpoint < next) {
                break;
            }
        }
        if (feedConnected || feedRefused) {
            setState(SubscriptionState.LIVE);
        } else if (state != SubscriptionState.CATCHING_UP || feedWarned) {
            setState(SubscriptionState.RECONNECTING);
        }
    }

    private long positionOf(RecordedEvent event) {
        return byVersion ? event.streamVersion() : event.globalPosition();
    }

    private void offer(RecordedEvent event, long position) {
        checkpoint = position;
        if (prefix != null && !event.stream().startsWith(prefix) || query != null && !query.matches(event)) {
            return;
        }
        try {
            listener.onEvent(this, event);
        } catch (Exception e) {
            throw new Stop(new RewindException("the subscription listener failed on event at position " + position
                    + " of " + describe(target) + ": " + e, e));
        }
        lastDelivered = position;
    }

    /** Runs a read, retrying with backoff while the server cannot be reached; a close cuts the wait short. */
    private <T> T retrying(Supplier<CompletableFuture<T>> read) {
        long backoff = 100;
        while (true) {
            if (closing) {
                throw new Stop(null);
            }
            CompletableFuture<T> future = read.get();
            try {
                CompletableFuture.anyOf(future, closeSignal).join();
                if (!future.isDone()) {
                    throw new Stop(null);
                }
                T result = future.join();
                if (state == SubscriptionState.RECONNECTING && feedConnected) {
                    log.info("Subscription to {} reconnected; resuming after position {}", describe(target),
                            checkpoint);
                }
                return result;
            } catch (CompletionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RequestTimeoutException || cause instanceof ServerUnavailableException
                        || cause instanceof ServerErrorException) {
                    setState(SubscriptionState.RECONNECTING);
                    log.debug("Subscription to {} retrying in {} ms: {}", describe(target), backoff,
                            cause.getMessage());
                    sleep(backoff);
                    backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
                } else {
                    throw new Stop(cause);
                }
            }
        }
    }

    private void setState(SubscriptionState next) {
        if (state == next) {
            return;
        }
        if (next == SubscriptionState.LIVE) {
            live.complete(this);
        }
        try {
            notifyState(next);
        } catch (RuntimeException e) {
            throw new Stop(new RewindException("the subscription listener failed on state " + next + ": " + e, e));
        }
    }

    private void notifyState(SubscriptionState next) {
        if (state == next) {
            return;
        }
        state = next;
        listener.onStateChange(this, next);
    }

    private void sleep(long millis) {
        try {
            closeSignal.get(millis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Stop(null);
        } catch (ExecutionException e) {
            throw new Stop(null);
        }
    }

    /**
     * Stops the subscription: a history read or backoff in progress is cut short, and the thread is
     * awaited for at most {@value #CLOSE_WAIT_MILLIS} ms (a listener call in progress finishes first).
     */
    @Override
    public void close() {
        signalClose();
        awaitClosed(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS));
    }

    /** Asks the subscription to stop, without waiting. */
    public void signalClose() {
        closing = true;
        closeSignal.complete(null);
    }

    /** Waits until the subscription's thread has ended or the deadline ({@link System#nanoTime()}) passed. */
    public void awaitClosed(long deadlineNanos) {
        if (Thread.currentThread() == thread) {
            return;
        }
        try {
            long millis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
            if (millis > 0) {
                thread.join(millis);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The most a close waits, in milliseconds. */
    public static long closeWaitMillis() {
        return CLOSE_WAIT_MILLIS;
    }
}
