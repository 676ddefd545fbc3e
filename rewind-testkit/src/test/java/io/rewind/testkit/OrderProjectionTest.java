package io.rewind.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The README's test-kit example, word for word between the tags (ReadmeExampleIT checks). */
// tag::testkit[]
class OrderProjectionTest {
    @RegisterExtension
    static final RewindServerExtension rewind = RewindServerExtension.inMemory();

    @Test
    void readsBackWhatItAppended(RewindClient client) {
        client.append("order-1", ExpectedVersion.noStream(), EventData.of("OrderPlaced", "{}"));

        assertThat(client.readStream("order-1").map(RecordedEvent::type)).containsExactly("OrderPlaced");
    }
}
// end::testkit[]
