package io.rewind.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.protocol.v1.WireFormat;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EndpointsTest {
    @Test
    void aWildcardFeedHostBecomesTheCommandsHost() {
        assertThat(Endpoints.feedEndpoint("tcp://db.example:9090", "tcp://0.0.0.0:9091"))
                .isEqualTo("tcp://db.example:9091");
        assertThat(Endpoints.feedEndpoint("tcp://10.0.0.5:7000", "tcp://*:7001")).isEqualTo("tcp://10.0.0.5:7001");
        assertThat(Endpoints.feedEndpoint("tcp://[::1]:9090", "tcp://[::]:9091")).isEqualTo("tcp://[::1]:9091");
        assertThat(Endpoints.feedEndpoint("tcp://127.0.0.1:9090", "tcp://127.0.0.1:40001"))
                .isEqualTo("tcp://127.0.0.1:40001");
        assertThat(Endpoints.feedEndpoint("tcp://127.0.0.1:9090", "ipc:///run/rewind-feed"))
                .isEqualTo("ipc:///run/rewind-feed");
    }

    @Test
    void aServerThatDoesNotSayIsTakenToUseTheDefaultPort() {
        assertThat(Endpoints.feedEndpoint("tcp://host:9090", "")).isEqualTo("tcp://host:9091");
    }

    @Test
    void wireRulesRoundTrip() {
        UUID id = UUID.fromString("00112233-4455-6677-8899-aabbccddeeff");
        assertThat(WireFormat.eventId(id).toByteArray()).startsWith(0x00, 0x11, 0x22).endsWith(0xee, 0xff);
        assertThat(WireFormat.eventId(WireFormat.eventId(id))).isEqualTo(id);
        assertThat(WireFormat.topic("order-1")).containsExactly('o', 'r', 'd', 'e', 'r', '-', '1', 0);
        Instant instant = Instant.parse("2026-11-30T01:02:03.123456Z");
        assertThat(WireFormat.instant(WireFormat.epochMicros(instant))).isEqualTo(instant);
        assertThat(WireFormat.instant(-1)).isEqualTo(Instant.parse("1969-12-31T23:59:59.999999Z"));
        assertThat(WireFormat.expectExact(4).getExact()).isEqualTo(4);
    }
}
