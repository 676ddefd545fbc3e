package io.rewind.server.storage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The on-disk encoding of events and index entries. Keys are big-endian so that RocksDB's bytewise
 * order is numeric order.
 *
 * <pre>
 * event value: u8 format(2) | uuid(16) | stream version(8) | commit micros(8)
 *              | u16 stream length | stream | u32 type length | type
 *              | u32 data length | data | u32 metadata length | metadata
 *              | u16 tag count | (u16 tag length | tag)* | u8 flags (1: erased)
 *              (format 2, before erasure: no flags; format 1, before tags: no tags either)
 * stream state value: truncate before(8) | tombstoned(1) | max age micros(8) | max count(8)
 * stream index key: stream UTF-8 | 0x00 | version(8)      (names have no NUL, so this is prefix-free)
 * event id value:   global position(8) | stream version(8) | stream UTF-8
 * tag / type index key: u32 length | tag or type UTF-8 | global position(8)   (value empty)
 * </pre>
 */
final class EventCodec {
    /** Events written since erasure exists. */
    private static final byte FORMAT = 3;
    /** Events written with tags, before erasure: no flags. Read, never written. */
    private static final byte FORMAT_WITHOUT_FLAGS = 2;
    private static final byte ERASED = 1;
    /** Events written before: the same without the tag part. Read, never written. */
    private static final byte FORMAT_WITHOUT_TAGS = 1;
    /** Length of an event-id key: the UUID's 16 bytes. */
    static final int UUID_KEY_BYTES = 16;

    private EventCodec() {}

    static byte[] longKey(long value) {
        return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
    }

    static long readLong(byte[] bytes) {
        return ByteBuffer.wrap(bytes).getLong();
    }

    static byte[] uuidKey(UUID id) {
        return ByteBuffer.allocate(UUID_KEY_BYTES).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits())
                .array();
    }

    /** The prefix every index key of a stream starts with: name and NUL. */
    static byte[] streamPrefix(String stream) {
        return streamPrefix(stream.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] streamPrefix(byte[] name) {
        byte[] prefix = new byte[name.length + 1];
        System.arraycopy(name, 0, prefix, 0, name.length);
        return prefix;
    }

    static byte[] streamKey(byte[] prefix, long version) {
        return ByteBuffer.allocate(prefix.length + Long.BYTES).put(prefix).putLong(version).array();
    }

    static long versionOfStreamKey(byte[] key) {
        return ByteBuffer.wrap(key, key.length - Long.BYTES, Long.BYTES).getLong();
    }

    /** @param stream the event's stream name in UTF-8, encoded once by the caller */
    static byte[] encodeLocation(StoredEvent event, byte[] stream) {
        return ByteBuffer.allocate(16 + stream.length).putLong(event.globalPosition())
                .putLong(event.streamVersion()).put(stream).array();
    }

    static EventLocation decodeLocation(byte[] value) {
        ByteBuffer buffer = ByteBuffer.wrap(value);
        long position = buffer.getLong();
        long version = buffer.getLong();
        String stream = new String(value, 16, value.length - 16, StandardCharsets.UTF_8);
        return new EventLocation(stream, version, position);
    }

    /**
     * The prefix of every index key of one tag or one type. A length, not a terminator, ends the name: types may
     * hold any character, NUL included.
     */
    static byte[] indexPrefix(String name) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).array();
    }

    static byte[] indexKey(byte[] prefix, long position) {
        return ByteBuffer.allocate(prefix.length + Long.BYTES).put(prefix).putLong(position).array();
    }

    /** @param stream the event's stream name in UTF-8, encoded once by the caller */
    static byte[] encodeEvent(StoredEvent event, byte[] stream) {
        byte[] type = event.type().getBytes(StandardCharsets.UTF_8);
        List<byte[]> tags = new ArrayList<>(event.tags().size());
        int tagBytes = 2;
        for (String tag : event.tags()) {
            byte[] encoded = tag.getBytes(StandardCharsets.UTF_8);
            tags.add(encoded);
            tagBytes += 2 + encoded.length;
        }
        int size = 1 + 16 + 8 + 8 + 2 + stream.length + 4 + type.length + 4 + event.data().length + 4
                + event.metadata().length + tagBytes + 1;
        ByteBuffer buffer = ByteBuffer.allocate(size);
        buffer.put(FORMAT)
                .putLong(event.eventId().getMostSignificantBits())
                .putLong(event.eventId().getLeastSignificantBits())
                .putLong(event.streamVersion())
                .putLong(event.commitTimestampMicros())
                .putShort((short) stream.length).put(stream)
                .putInt(type.length).put(type)
                .putInt(event.data().length).put(event.data())
                .putInt(event.metadata().length).put(event.metadata())
                .putShort((short) tags.size());
        for (byte[] tag : tags) {
            buffer.putShort((short) tag.length).put(tag);
        }
        buffer.put(event.erased() ? ERASED : 0);
        return buffer.array();
    }

    /** Decodes the event at the start of {@code value}; any bytes after it are ignored. */
    static StoredEvent decodeEvent(long position, byte[] value) {
        ByteBuffer buffer = ByteBuffer.wrap(value);
        byte format = buffer.get();
        if (format != FORMAT && format != FORMAT_WITHOUT_FLAGS && format != FORMAT_WITHOUT_TAGS) {
            throw new StorageException("event at global position " + position + " has unknown format " + format);
        }
        UUID id = new UUID(buffer.getLong(), buffer.getLong());
        long version = buffer.getLong();
        long micros = buffer.getLong();
        String stream = string(buffer, Short.toUnsignedInt(buffer.getShort()));
        String type = string(buffer, buffer.getInt());
        byte[] data = bytes(buffer, buffer.getInt());
        byte[] metadata = bytes(buffer, buffer.getInt());
        List<String> tags = List.of();
        if (format != FORMAT_WITHOUT_TAGS) {
            int count = Short.toUnsignedInt(buffer.getShort());
            if (count > 0) {
                String[] read = new String[count];
                for (int i = 0; i < count; i++) {
                    read[i] = string(buffer, Short.toUnsignedInt(buffer.getShort()));
                }
                tags = List.of(read);
            }
        }
        boolean erased = format == FORMAT && (buffer.get() & ERASED) != 0;
        return new StoredEvent(id, stream, version, position, type, data, metadata, micros, tags, erased);
    }

    static byte[] encodeState(StreamState state) {
        return ByteBuffer.allocate(25).putLong(state.truncateBefore()).put((byte) (state.tombstoned() ? 1 : 0))
                .putLong(state.maxAgeMicros()).putLong(state.maxCount()).array();
    }

    static StreamState decodeState(byte[] value) {
        ByteBuffer buffer = ByteBuffer.wrap(value);
        return new StreamState(buffer.getLong(), buffer.get() != 0, buffer.getLong(), buffer.getLong());
    }

    private static String string(ByteBuffer buffer, int length) {
        String value = new String(buffer.array(), buffer.position(), length, StandardCharsets.UTF_8);
        buffer.position(buffer.position() + length);
        return value;
    }

    private static byte[] bytes(ByteBuffer buffer, int length) {
        byte[] value = new byte[length];
        buffer.get(value);
        return value;
    }
}
