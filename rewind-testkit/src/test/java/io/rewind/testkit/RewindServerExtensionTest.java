package io.rewind.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.RewindClient;
import io.rewind.client.StartFrom;
import io.rewind.client.Subscription;
import io.rewind.client.SubscriptionTarget;
import io.rewind.client.TooLargeException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RewindServerExtensionTest {

    @Nested
    class OnRocksDb {
        @RegisterExtension
        final RewindServerExtension rewind = RewindServerExtension.onRocksDb().withOptions("--max-event-size", "1KiB");

        @Test
        void eventsSurviveARestartAndOptionsApply(RewindClient client) {
            client.append("kept", ExpectedVersion.noStream(), EventData.of("E", "1"));
            rewind.restart();
            assertThat(client.readStream("kept").count()).isEqualTo(1);
            assertThat(client.serverInfo().storageEngine()).isEqualTo("rocksdb");
            assertThatThrownBy(() -> client.append("kept", ExpectedVersion.any(), EventData.of("E", new byte[2048])))
                    .isInstanceOf(TooLargeException.class);
        }

        @Test
        void eachTestGetsAFreshServerFromAnInstanceField(RewindClient client) {
            assertThat(client.serverInfo().headPosition()).isEqualTo(-1);
        }
    }

    @Nested
    class InMemory {
        @RegisterExtension
        final RewindServerExtension rewind = RewindServerExtension.inMemory();

        @Test
        void subscriptionsWorkThroughTheInjectedClient(RewindClient client) throws Exception {
            List<String> seen = new CopyOnWriteArrayList<>();
            try (Subscription subscription = client.subscribe(SubscriptionTarget.all(), StartFrom.start(),
                    (s, e) -> seen.add(e.dataAsString()))) {
                assertThat(subscription.awaitLive(Duration.ofSeconds(10))).isTrue();
                client.append("s", ExpectedVersion.any(), EventData.of("E", "live"));
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (seen.isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
            }
            assertThat(seen).containsExactly("live");
            assertThat(rewind.commandEndpoint()).startsWith("tcp://127.0.0.1:");
        }

        @Test
        void clientsItMadeAreClosedAfterTheTest(RewindServerExtension server) {
            RewindClient client = server.newClient();
            assertThat(client.serverInfo().storageEngine()).isEqualTo("memory");
        }
    }
}
