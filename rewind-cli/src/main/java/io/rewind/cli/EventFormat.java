package io.rewind.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.rewind.client.EventData;
import io.rewind.client.RecordedEvent;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;

/** How events are written to standard output and read from standard input: text or JSON lines. */
enum EventFormat {
    TEXT,
    JSON;

    private static final JsonFactory JSON_FACTORY = new JsonFactory();

    /** One line for the event. */
    String format(RecordedEvent event) {
        return this == TEXT ? text(event) : json(event);
    }

    private static String text(RecordedEvent event) {
        byte[] data = event.data();
        String utf8 = utf8(data);
        return event.globalPosition() + "\t" + event.stream() + "@" + event.streamVersion() + "\t" + event.type() + "\t"
                + (utf8 != null ? utf8.replace("\n", "\\n") : "<" + data.length + " bytes, base64 "
                        + Base64.getEncoder().encodeToString(data) + ">");
    }

    private static String json(RecordedEvent event) {
        StringWriter out = new StringWriter();
        try (JsonGenerator json = JSON_FACTORY.createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("event_id", event.eventId().toString());
            json.writeStringField("stream", event.stream());
            json.writeNumberField("stream_version", event.streamVersion());
            json.writeNumberField("global_position", event.globalPosition());
            json.writeStringField("type", event.type());
            json.writeStringField("committed_at", event.committedAt().toString());
            bytesField(json, "data", event.data());
            bytesField(json, "metadata", event.metadata());
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /**
     * One JSON object of string and number fields, in the given order: for the tool's other outputs,
     * written by the same generator as the events, so every string is escaped alike.
     */
    static String jsonObject(Map<String, Object> fields) {
        StringWriter out = new StringWriter();
        try (JsonGenerator json = JSON_FACTORY.createGenerator(out)) {
            json.writeStartObject();
            for (Map.Entry<String, Object> field : fields.entrySet()) {
                if (field.getValue() instanceof Number number) {
                    json.writeNumberField(field.getKey(), number.longValue());
                } else {
                    json.writeStringField(field.getKey(), String.valueOf(field.getValue()));
                }
            }
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** Bytes as UTF-8 text where they are, else base64, with a field saying which. */
    private static void bytesField(JsonGenerator json, String name, byte[] bytes) throws IOException {
        String utf8 = utf8(bytes);
        json.writeStringField(name, utf8 != null ? utf8 : Base64.getEncoder().encodeToString(bytes));
        json.writeStringField(name + "_encoding", utf8 != null ? "utf-8" : "base64");
    }

    /** The bytes as text, or null when they are not valid UTF-8. */
    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /**
     * An event from one input line: in TEXT, the line is the data; in JSON, an object with
     * {@code type}, {@code data}, optional {@code metadata} (strings, or any JSON value, stored as its
     * JSON text) and optional {@code id} (a UUID; without one a random id is given).
     *
     * @throws IllegalArgumentException naming the line and what is wrong with it
     */
    EventData parse(String line, String defaultType, int lineNumber) {
        if (this == TEXT) {
            return EventData.of(defaultType, line);
        }
        String type = defaultType;
        byte[] data = null;
        byte[] metadata = new byte[0];
        UUID id = null;
        try (JsonParser parser = JSON_FACTORY.createParser(line)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("line " + lineNumber + " is not a JSON object: " + line);
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (field) {
                    case "type" -> type = parser.getValueAsString();
                    case "data" -> data = valueBytes(parser, value);
                    case "metadata" -> metadata = valueBytes(parser, value);
                    case "id" -> id = UUID.fromString(parser.getValueAsString());
                    default -> throw new IllegalArgumentException("line " + lineNumber + " has an unknown field '"
                            + field + "'; use type, data, metadata and id");
                }
            }
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("line " + lineNumber + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (data == null) {
            throw new IllegalArgumentException("line " + lineNumber + " has no \"data\" field: " + line);
        }
        EventData event = EventData.of(type, data).withMetadata(metadata);
        return id == null ? event : event.withId(id);
    }

    private static byte[] valueBytes(JsonParser parser, JsonToken value) throws IOException {
        if (value == JsonToken.VALUE_STRING) {
            return parser.getText().getBytes(StandardCharsets.UTF_8);
        }
        StringWriter text = new StringWriter();
        try (JsonGenerator copy = JSON_FACTORY.createGenerator(text)) {
            copy.copyCurrentStructure(parser);
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }
}
