package io.rewind.server.transport;

import io.rewind.server.core.AppendCommand;
import io.rewind.server.core.AppendWriter;
import io.rewind.server.core.ExpectedVersion;
import io.rewind.server.core.Limits;
import io.rewind.server.core.ProposedEvent;
import io.rewind.server.core.RequestException;
import io.rewind.server.security.AccessControl;
import io.rewind.server.storage.EventLocation;
import io.rewind.server.storage.EventStorage;
import io.rewind.server.storage.ReadDirection;
import io.rewind.server.storage.Visibility;
import io.rewind.server.storage.StoredEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import io.rewind.server.http.ServerMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The original Rewind protocol (the README's "Drop-in replacement" section) over the global log: PUBLISH appends one
 * event to the configured legacy stream, QUERY pages the global log between two event ids (from
 * exclusive, to inclusive, at most 100 events per reply, END when complete), and anything else gets
 * an {@code ERROR } reply. Ids are events' UUIDs in canonical text form, found through the event-id
 * index, so a page costs the same at the end of a long log as at its start.
 */
final class LegacyHandler implements RouterEndpoint.FrameHandler {
    static final int QUERY_PAGE = 100;
    static final String EVENT_TYPE = "LegacyEvent";
    private static final Logger log = LoggerFactory.getLogger(LegacyHandler.class);
    private static final byte[] PUBLISH = ascii("PUBLISH");
    private static final byte[] QUERY = ascii("QUERY");
    private static final byte[] END = ascii("END");
    private static final byte[] NO_METADATA = new byte[0];

    private final EventStorage storage;
    private final AppendWriter<ReplyTo> writer;
    private final String stream;
    private final Limits limits;
    private final ServerMetrics metrics;
    private final AccessControl access;

    /** @param access what each key may do; {@link AccessControl#OPEN} without CURVE */
    LegacyHandler(EventStorage storage, AppendWriter<ReplyTo> writer, String stream, Limits limits,
            ServerMetrics metrics, AccessControl access) {
        this.storage = storage;
        this.access = access;
        this.metrics = metrics;
        this.writer = writer;
        this.stream = stream;
        this.limits = limits;
    }

    static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** An {@code ERROR } reply; the explanation is kept to printable ASCII. */
    static byte[][] error(String explanation) {
        StringBuilder text = new StringBuilder("ERROR ");
        explanation.codePoints().forEach(c -> text.append(c >= 0x20 && c < 0x7f ? (char) c : '?'));
        return new byte[][] {ascii(text.toString())};
    }

    @Override
    public byte[][] missingDelimiter() {
        return error("the message has no empty delimiter frame: REQ sockets add it, DEALER sockets must send it");
    }

    @Override
    public byte[][] handle(byte[][] envelope, List<byte[]> body, String key) {
        if (body.isEmpty()) {
            return error("empty request: expected PUBLISH or QUERY");
        }
        byte[] command = body.get(0);
        try {
            access.checkListed(key);
            if (Arrays.equals(command, PUBLISH)) {
                metrics.legacyRequest("publish");
                access.checkWrite(key, stream);
                return publish(envelope, body, key);
            }
            if (Arrays.equals(command, QUERY)) {
                metrics.legacyRequest("query");
                // QUERY pages the global log, every stream's events.
                access.checkReadAll(key, "QUERY the global log");
                return query(body);
            }
            metrics.legacyRequest("unknown");
        } catch (RequestException e) {
            metrics.denied(Arrays.equals(command, PUBLISH) ? "legacy_publish"
                    : Arrays.equals(command, QUERY) ? "legacy_query" : "legacy_other");
            return error(e.getMessage());
        } catch (RuntimeException e) {
            log.error("Legacy request failed", e);
            return error("server error: " + e.getMessage());
        }
        return error("unknown request type '" + preview(command) + "' (" + body.size()
                + " frames); expected PUBLISH or QUERY");
    }

    private static String preview(byte[] frame) {
        String text = new String(frame, 0, Math.min(frame.length, 32), StandardCharsets.ISO_8859_1);
        return frame.length > 32 ? text + "..." : text;
    }

    private byte[][] publish(byte[][] envelope, List<byte[]> body, String key) {
        if (body.size() != 2) {
            return error("PUBLISH takes 2 frames (PUBLISH, event bytes), got " + body.size());
        }
        byte[] data = body.get(1);
        if (data.length > limits.maxEventBytes()) {
            return error("the event is " + data.length + " bytes, the limit is " + limits.maxEventBytes());
        }
        AppendCommand append = new AppendCommand(stream, ExpectedVersion.ANY,
                List.of(new ProposedEvent(null, EVENT_TYPE, data, NO_METADATA)));
        if (!writer.submit(append, new ReplyTo(envelope, 0, true, System.nanoTime(), key))) {
            return error("the server is overloaded or shutting down; nothing was stored, retry later");
        }
        return null;
    }

    private byte[][] query(List<byte[]> body) {
        if (body.size() != 3) {
            return error("QUERY takes 3 frames (QUERY, from id, to id), got " + body.size());
        }
        long head = storage.nextPosition() - 1;
        long from;
        long to;
        try {
            from = body.get(1).length == 0 ? -1 : positionOf(body.get(1));
            to = body.get(2).length == 0 ? head : positionOf(body.get(2));
        } catch (IllegalArgumentException e) {
            return error(e.getMessage());
        }
        if (from > to) {
            return error("the from id comes after the to id");
        }
        long count = Math.min(QUERY_PAGE, to - from);
        List<StoredEvent> events = count == 0 ? List.of()
                : storage.readAll(from + 1, ReadDirection.FORWARD, (int) count, limits.maxReadBytes());
        List<byte[]> reply = new ArrayList<>(events.size() * 2 + 1);
        // Deleted, truncated and expired events are left out, as if they had never been published; the page still
        // ends where it looked, so a client that pages from its last id goes on past them. Where the cleanup
        // removed events, a read of `count` events may reach beyond `to`: those are not this query's.
        java.util.function.Predicate<StoredEvent> visible = Visibility.inGlobalLog(storage, Visibility.nowMicros());
        for (StoredEvent event : events) {
            if (event.globalPosition() <= to && visible.test(event)) {
                reply.add(ascii(event.eventId().toString()));
                reply.add(event.data());
            }
        }
        long last = events.isEmpty() ? to : events.get(events.size() - 1).globalPosition();
        if (last >= to) {
            reply.add(END);
        }
        return reply.toArray(new byte[0][]);
    }

    /** The global position of the event with this id, through the id index. */
    private long positionOf(byte[] id) {
        String text = new String(id, StandardCharsets.ISO_8859_1);
        UUID uuid = null;
        if (text.length() == 36) {
            try {
                uuid = UUID.fromString(text);
            } catch (IllegalArgumentException e) {
                uuid = null;
            }
        }
        Optional<EventLocation> location = uuid != null && uuid.toString().equals(text) ? storage.locate(uuid)
                : Optional.empty();
        // An id whose event was deleted, truncated or expired no longer exists for the legacy protocol.
        location = location.filter(found -> Visibility.firstVisibleVersion(storage, found.stream(),
                Visibility.nowMicros()) <= found.streamVersion());
        return location.orElseThrow(() -> new IllegalArgumentException("unknown event id '" + preview(id) + "'"))
                .globalPosition();
    }
}
