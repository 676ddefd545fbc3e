package io.rewind.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ValueTypesTest {

    @Test
    void expectedVersionsAreValuesAndExactRejectsNegatives() {
        assertThat(ExpectedVersion.exact(3)).isEqualTo(new ExpectedVersion.Exact(3));
        assertThat(ExpectedVersion.any()).isEqualTo(ExpectedVersion.any());
        // -1 is what a conflict reports for a missing stream: passing it back means "no stream".
        assertThat(ExpectedVersion.exact(-1)).isEqualTo(ExpectedVersion.noStream());
        assertThatThrownBy(() -> ExpectedVersion.exact(-2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-2");
        assertThatThrownBy(() -> new ExpectedVersion.Exact(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readOptionsAreImmutableAndValidated() {
        ReadOptions base = ReadOptions.forwards();
        ReadOptions derived = base.from(10).pageSize(5).maxCount(7);
        assertThat(base.from()).isEqualTo(-1);
        assertThat(derived.from()).isEqualTo(10);
        assertThat(derived.pageSize()).isEqualTo(5);
        assertThat(derived.maxCount()).isEqualTo(7);
        assertThat(ReadOptions.backwards().direction()).isEqualTo(Direction.BACKWARDS);
        assertThatThrownBy(() -> base.from(-2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> base.pageSize(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> base.maxCount(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void eventDataGetsAFreshIdAndRejectsNulls() {
        EventData a = EventData.of("T", "x");
        EventData b = EventData.of("T", "x");
        assertThat(a.eventId()).isNotNull().isNotEqualTo(b.eventId());
        assertThat(a.withId(null).eventId()).isNull();
        assertThatThrownBy(() -> new EventData(null, null, new byte[0], new byte[0]))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("type");
    }

    @Test
    void subscriptionTargetsAndStartsAreValidated() {
        assertThatThrownBy(() -> SubscriptionTarget.stream("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StartFrom.after(-2)).isInstanceOf(IllegalArgumentException.class);
        assertThat(StartFrom.after(-1)).isEqualTo(new StartFrom.After(-1));
    }

    @Test
    void theBuilderRejectsNonsense() {
        assertThatThrownBy(() -> RewindClient.builder().requestTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RewindClient.builder().subscriptionReceiveHighWaterMark(0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void eventsAreValuesThatShareNoArrays() {
        java.util.UUID id = java.util.UUID.randomUUID();
        byte[] data = {1, 2, 3};
        EventData event = EventData.of("T", data).withId(id);
        data[0] = 9;
        assertThat(event.data()).containsExactly(1, 2, 3);
        event.data()[1] = 9;
        assertThat(event.data()).containsExactly(1, 2, 3);
        assertThat(event).isEqualTo(EventData.of("T", new byte[] {1, 2, 3}).withId(id))
                .hasSameHashCodeAs(EventData.of("T", new byte[] {1, 2, 3}).withId(id))
                .isNotEqualTo(EventData.of("T", new byte[] {1, 2, 4}).withId(id));
        assertThat(event.dataBuffer().isReadOnly()).isTrue();

        java.time.Instant at = java.time.Instant.parse("2026-11-30T00:00:00Z");
        byte[] stored = {4, 5};
        RecordedEvent recorded = new RecordedEvent(id, "s", 0, 7, "T", stored, new byte[0], at);
        stored[0] = 0;
        recorded.data()[1] = 0;
        assertThat(recorded.data()).containsExactly(4, 5);
        assertThat(recorded).isEqualTo(new RecordedEvent(id, "s", 0, 7, "T", new byte[] {4, 5}, new byte[0], at))
                .hasSameHashCodeAs(new RecordedEvent(id, "s", 0, 7, "T", new byte[] {4, 5}, new byte[0], at));
        assertThat(recorded.toString()).contains("s@0").contains("position 7").doesNotContain("[B@");
    }
}
