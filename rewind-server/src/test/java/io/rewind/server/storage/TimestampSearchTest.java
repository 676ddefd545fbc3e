package io.rewind.server.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.Test;

class TimestampSearchTest {
    @Test
    void aTimeIsFoundByBisectionAmongEqualTimesToo() {
        long[] times = {10, 20, 20, 20, 30};
        LongUnaryOperator at = i -> times[(int) i];
        assertThat(TimestampSearch.search(5, 20, ReadDirection.FORWARD, at)).as("the first at or after").isEqualTo(1);
        assertThat(TimestampSearch.search(5, 20, ReadDirection.BACKWARD, at)).as("the last at or before").isEqualTo(3);
        assertThat(TimestampSearch.search(5, 15, ReadDirection.FORWARD, at)).isEqualTo(1);
        assertThat(TimestampSearch.search(5, 15, ReadDirection.BACKWARD, at)).isZero();
        assertThat(TimestampSearch.search(5, 5, ReadDirection.FORWARD, at)).isZero();
        assertThat(TimestampSearch.search(5, 5, ReadDirection.BACKWARD, at)).as("none before").isEqualTo(-1);
        assertThat(TimestampSearch.search(5, 31, ReadDirection.FORWARD, at)).as("none after: the head").isEqualTo(5);
        assertThat(TimestampSearch.search(5, 31, ReadDirection.BACKWARD, at)).isEqualTo(4);
        assertThat(TimestampSearch.search(0, 31, ReadDirection.BACKWARD, at)).isEqualTo(-1);
        assertThat(TimestampSearch.search(0, 31, ReadDirection.FORWARD, at)).isZero();
    }
}
