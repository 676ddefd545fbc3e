package io.rewind.client.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rewind.client.ClientClosedException;
import io.rewind.client.ReadPage;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RequestTimeoutException;
import io.rewind.client.RewindException;
import io.rewind.client.ServerErrorException;
import io.rewind.client.ServerUnavailableException;
import io.rewind.client.StartFrom;
import io.rewind.client.Subscription;
import io.rewind.client.SubscriptionListener;
import io.rewind.client.SubscriptionState;
import io.rewind.client.SubscriptionTarget;
import io.rewind.protocol.v1.EventRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * A gap-free catch-up subscription. Its thread owns one SUB socket. It reads history page by page
 * from the last delivered position, then delivers live events, each only if it is the very next
 * position: an older one is a duplicate and skipped, a newer one means events were missed (slow
 * joiner, high-water-mark drop), and history is read up to the end before going on. A quiet feed is
 * checked against history once a second, so a lost last event is found too. Memory stays bounded by
 * the socket's receive high-water mark and one page.
 *
 * <p>A stream target subscribes to the stream's exact topic and counts stream versions; prefix and
 * global targets subscribe to every event (global positions are only dense on the whole feed) and
 * filter by name.
 */
public final class CatchUpSubscription implements Subscription {
    private static final Logger log = LoggerFactory.getLogger(CatchUpSubscription.class);
    private static final Duration IDLE_CHECK = Duration.ofSeconds(1);
    private static final long MAX_BACKOFF_MILLIS = 5_000;

    /** Reads history for the subscription; blocking, failing with {@link RewindException}. */
    public interface History {
        /** Reads a page forwards from {@code from} (a version or global position); a missing stream is empty. */
        ReadPage read(long from, int maxCount);

        /** The position of the newest event, -1 when there is none. */
        long head();
    }

    private final History history;
    private final ZContext context;
    private final String streamEndpoint;
    private final SubscriptionTarget target;
    private final StartFrom from;
    private final SubscriptionListener listener;
    private final int receiveHighWaterMark;
    private final int pageSize;
    private final Thread thread;
    private final boolean byVersion;
    private final String prefix;
    private volatile SubscriptionState state;
    private volatile boolean closing;
    /** Wakes a backoff sleep at close; interrupting a thread inside JeroMQ could close its channels. */
    private final java.util.concurrent.CountDownLatch closeSignal = new java.util.concurrent.CountDownLatch(1);
    /** The last position examined: delivered, or skipped by the prefix filter. */
    private volatile long checkpoint;
    private volatile long lastDelivered;

    public CatchUpSubscription(History history, ZContext context, String streamEndpoint, SubscriptionTarget target,
            StartFrom from, SubscriptionListener listener, int receiveHighWaterMark, int pageSize) {
        this.history = history;
        this.context = context;
        this.streamEndpoint = streamEndpoint;
        this.target = target;
        this.from = from;
        this.listener = listener;
        this.receiveHighWaterMark = receiveHighWaterMark;
        this.pageSize = pageSize;
        this.byVersion = target instanceof SubscriptionTarget.Stream;
        this.prefix = target instanceof SubscriptionTarget.Prefix p ? p.prefix() : null;
        this.checkpoint = from instanceof StartFrom.After after ? after.position() : -1;
        this.lastDelivered = checkpoint;
        this.thread = new Thread(this::run, "rewind-subscription " + describe(target));
        this.thread.setDaemon(true);
    }

    private static String describe(SubscriptionTarget target) {
        if (target instanceof SubscriptionTarget.Stream s) {
            return "stream '" + s.name() + "'";
        }
        if (target instanceof SubscriptionTarget.Prefix p) {
            return "prefix '" + p.prefix() + "'";
        }
        return "all";
    }

    public CatchUpSubscription start() {
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
    public SubscriptionState state() {
        return state;
    }

    /** Thrown to unwind the subscription's thread when it must stop. */
    private static final class Stop extends RuntimeException {
        Stop(Throwable cause) {
            super(cause);
        }
    }

    private void run() {
        ZMQ.Socket sub = context.createSocket(SocketType.SUB);
        Throwable fatal = null;
        try {
            sub.setRcvHWM(receiveHighWaterMark);
            sub.setHandshakeIvl(Connection.HANDSHAKE_MILLIS);
            sub.setReceiveTimeOut(200);
            sub.setLinger(0);
            // Subscribe before reading history, so that nothing published meanwhile is missed for good.
            sub.subscribe(byVersion ? topic(((SubscriptionTarget.Stream) target).name()) : new byte[0]);
            sub.connect(streamEndpoint);
            if (from instanceof StartFrom.End) {
                checkpoint = retrying(history::head);
                lastDelivered = checkpoint;
            }
            catchUp(SubscriptionState.CATCHING_UP);
            follow(sub);
        } catch (Stop stop) {
            fatal = stop.getCause();
        } catch (RuntimeException | Error e) {
            fatal = e;
        } finally {
            sub.close();
            setState(SubscriptionState.CLOSED);
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
    }

    private void follow(ZMQ.Socket sub) {
        long lastActivity = System.nanoTime();
        while (!closing) {
            byte[] topic = sub.recv();
            if (topic == null) {
                if (System.nanoTime() - lastActivity > IDLE_CHECK.toNanos()) {
                    // A quiet feed: was the last event before the quiet lost? History knows.
                    catchUp(SubscriptionState.FELL_BEHIND);
                    lastActivity = System.nanoTime();
                }
                continue;
            }
            lastActivity = System.nanoTime();
            byte[] body = sub.hasReceiveMore() ? sub.recv() : null;
            while (sub.hasReceiveMore()) {
                sub.recv();
            }
            EventRecord record;
            try {
                record = body == null ? null : EventRecord.parseFrom(body);
            } catch (InvalidProtocolBufferException e) {
                record = null;
            }
            if (record == null) {
                log.warn("Ignored a live-feed message that is not [topic][EventRecord]");
                continue;
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

    /** Reads and delivers history from the checkpoint to the end, then goes live. */
    private void catchUp(SubscriptionState reason) {
        boolean announced = false;
        while (!closing) {
            long next = checkpoint + 1;
            ReadPage page = retrying(() -> history.read(next, pageSize));
            if (!page.events().isEmpty() && !announced) {
                setState(reason);
                announced = true;
            }
            for (RecordedEvent event : page.events()) {
                long position = positionOf(event);
                if (position == checkpoint + 1) {
                    offer(event, position);
                }
            }
            if (!page.events().isEmpty() && checkpoint < next) {
                // History is dense; a page that does not continue it would be read again forever.
                throw new Stop(new RewindException("history of " + describe(target) + " does not continue at position "
                        + next + ": the page starts at " + positionOf(page.events().get(0))));
            }
            if (page.endReached() || page.events().isEmpty()) {
                break;
            }
        }
        setState(SubscriptionState.LIVE);
    }

    private long positionOf(RecordedEvent event) {
        return byVersion ? event.streamVersion() : event.globalPosition();
    }

    private void offer(RecordedEvent event, long position) {
        checkpoint = position;
        if (prefix != null && !event.stream().startsWith(prefix)) {
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

    /** Runs a read, retrying with backoff while the server cannot be reached. */
    private <T> T retrying(java.util.function.Supplier<T> read) {
        long backoff = 100;
        while (true) {
            if (closing) {
                throw new Stop(null);
            }
            try {
                T result = read.get();
                if (state == SubscriptionState.RECONNECTING) {
                    log.info("Subscription to {} reconnected; resuming after position {}", describe(target),
                            checkpoint);
                }
                return result;
            } catch (RequestTimeoutException | ServerUnavailableException | ServerErrorException e) {
                setState(SubscriptionState.RECONNECTING);
                log.debug("Subscription to {} retrying in {} ms: {}", describe(target), backoff, e.getMessage());
                sleep(backoff);
                backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
            } catch (ClientClosedException e) {
                throw new Stop(e);
            }
        }
    }

    private void setState(SubscriptionState next) {
        if (state == next) {
            return;
        }
        state = next;
        if (next == SubscriptionState.CLOSED && closing) {
            return;
        }
        try {
            listener.onStateChange(this, next);
        } catch (RuntimeException e) {
            throw new Stop(new RewindException("the subscription listener failed on state " + next + ": " + e, e));
        }
    }

    private void sleep(long millis) {
        try {
            closeSignal.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Stop(null);
        }
    }

    private static byte[] topic(String stream) {
        byte[] name = stream.getBytes(StandardCharsets.UTF_8);
        byte[] topic = new byte[name.length + 1];
        System.arraycopy(name, 0, topic, 0, name.length);
        return topic;
    }

    /** Stops the subscription; waits for its thread, at most for a read in progress to time out. */
    @Override
    public void close() {
        closing = true;
        closeSignal.countDown();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
