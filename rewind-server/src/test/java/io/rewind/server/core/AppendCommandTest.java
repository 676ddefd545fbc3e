package io.rewind.server.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class AppendCommandTest {
    @Test
    void payloadIsCountedInUtf8BytesNotCharacters() {
        ProposedEvent event = new ProposedEvent(null, "Größe", new byte[3], new byte[2], List.of("ü"));
        AppendCommand command = new AppendCommand(List.of(new StreamPart("straße-€", ExpectedVersion.ANY,
                List.of(event, event))), null);
        long stream = "straße-€".getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        long one = "Größe".getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 3 + 2
                + "ü".getBytes(java.nio.charset.StandardCharsets.UTF_8).length + ProposedEvent.TAG_FRAMING_BYTES;
        assertThat(event.sizeInBytes()).isEqualTo(one);
        assertThat(command.payloadBytes()).isEqualTo(2 * (stream + one)).isGreaterThan(2 * ("straße-€".length() + one));
    }
}
