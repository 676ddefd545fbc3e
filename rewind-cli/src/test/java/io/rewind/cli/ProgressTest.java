package io.rewind.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ProgressTest {
    private static final long SEVENTY_SECONDS = TimeUnit.SECONDS.toNanos(70);

    @Test
    void aKnownTotalGetsABarAndAPercentage() {
        assertThat(Progress.render("verifying /d", Progress.Unit.ENTRIES, 450, 900, SEVENTY_SECONDS))
                .isEqualTo("verifying /d  [############------------]  50%  450 entries of 900 entries  1:10");
        assertThat(Progress.render("r", Progress.Unit.EVENTS, 0, 3, 0))
                .isEqualTo("r  [------------------------]   0%  0 events of 3 events  0:00");
    }

    @Test
    void moreThanTheTotalStopsAtAFullBar() {
        assertThat(Progress.render("r", Progress.Unit.BYTES, 5000, 4096, 0))
                .isEqualTo("r  [########################] 100%  4.9 KiB of 4.0 KiB  0:00");
    }

    @Test
    void anUnknownTotalShowsTheAmountAndTheTime() {
        assertThat(Progress.render("backing up into /b", Progress.Unit.BYTES, 3L << 30, -1, SEVENTY_SECONDS))
                .isEqualTo("backing up into /b  3.0 GiB  1:10");
        assertThat(Progress.render("reading s", Progress.Unit.EVENTS, 1_234_567, -1, 0))
                .isEqualTo("reading s  1,234,567 events  0:00");
    }

    @Test
    void bytesAreSaidInTheLargestUnitThatFits() {
        assertThat(Progress.amount(Progress.Unit.BYTES, 1023)).isEqualTo("1023 B");
        assertThat(Progress.amount(Progress.Unit.BYTES, 1536)).isEqualTo("1.5 KiB");
        assertThat(Progress.amount(Progress.Unit.BYTES, 5L << 40)).isEqualTo("5.0 TiB");
    }
}
