package io.rewind.protocol.v1;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/**
 * The wire rules that the messages alone do not say, written once for the server and the client
 * (PROTOCOL.md says them for other languages): how an event id, a live-feed topic, an expected
 * version and a commit timestamp are put into bytes.
 */
public final class WireFormat {
    /** Bytes of an event id: a UUID, most significant byte first. */
    public static final int EVENT_ID_BYTES = 16;

    /** The expected version that always holds. */
    public static final ExpectedVersion EXPECT_ANY = ExpectedVersion.newBuilder()
            .setAny(ExpectedVersion.Any.getDefaultInstance()).build();
    /** The expected version that holds while the stream has no events. */
    public static final ExpectedVersion EXPECT_NO_STREAM = ExpectedVersion.newBuilder()
            .setNoStream(ExpectedVersion.NoStream.getDefaultInstance()).build();
    /** The expected version that holds once the stream has an event. */
    public static final ExpectedVersion EXPECT_STREAM_EXISTS = ExpectedVersion.newBuilder()
            .setStreamExists(ExpectedVersion.StreamExists.getDefaultInstance()).build();

    private WireFormat() {}

    /** The expected version that holds when the stream's last event has this version. */
    public static ExpectedVersion expectExact(long version) {
        return ExpectedVersion.newBuilder().setExact(version).build();
    }

    /** An event id's 16 bytes: the UUID's most significant long, then its least significant, big-endian. */
    public static ByteString eventId(UUID id) {
        return UnsafeByteOperations.unsafeWrap(ByteBuffer.allocate(EVENT_ID_BYTES)
                .putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()).array());
    }

    /**
     * The UUID in an event id's bytes.
     *
     * @throws IllegalArgumentException when they are not 16 bytes
     */
    /**
     * A new event of an append. The arrays are wrapped, not copied: the caller must not change them.
     *
     * @param id the event's id, or null for the server to choose one
     */
    public static NewEvent newEvent(UUID id, String type, byte[] data, byte[] metadata) {
        NewEvent.Builder event = NewEvent.newBuilder().setType(type)
                .setData(UnsafeByteOperations.unsafeWrap(data))
                .setMetadata(UnsafeByteOperations.unsafeWrap(metadata));
        if (id != null) {
            event.setEventId(eventId(id));
        }
        return event.build();
    }

    public static UUID eventId(ByteString bytes) {
        if (bytes.size() != EVENT_ID_BYTES) {
            throw new IllegalArgumentException("an event id is " + EVENT_ID_BYTES + " bytes, not " + bytes.size());
        }
        ByteBuffer buffer = bytes.asReadOnlyByteBuffer();
        return new UUID(buffer.getLong(), buffer.getLong());
    }

    /**
     * The live-feed topic of a stream: its UTF-8 name and one 0x00 byte, so that a subscription to
     * {@code topic("order-1")} matches that stream and not {@code order-10}.
     */
    public static byte[] topic(String stream) {
        byte[] name = stream.getBytes(StandardCharsets.UTF_8);
        byte[] topic = new byte[name.length + 1];
        System.arraycopy(name, 0, topic, 0, name.length);
        return topic;
    }

    /** A commit timestamp (microseconds since the Unix epoch) as an instant. */
    public static Instant instant(long epochMicros) {
        return Instant.ofEpochSecond(Math.floorDiv(epochMicros, 1_000_000),
                Math.floorMod(epochMicros, 1_000_000) * 1_000L);
    }

    /** An instant as a commit timestamp: microseconds since the Unix epoch, truncated. */
    public static long epochMicros(Instant instant) {
        return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000);
    }
}
