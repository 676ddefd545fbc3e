package io.rewind.it;

// tag::example[]
import io.rewind.client.AppendResult;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.ReadOptions;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.WrongExpectedVersionException;
import java.util.stream.Stream;

public class ReadmeExample {
    public static void main(String[] args) {
        String endpoint = args.length > 0 ? args[0] : "tcp://127.0.0.1:9090";
        try (RewindClient client = RewindClient.builder().commandEndpoint(endpoint).build()) {
            // Append to a new stream, then continue it with an exact expected version.
            AppendResult placed = client.append("order-42", ExpectedVersion.noStream(),
                    EventData.of("OrderPlaced", "{\"total\": 99}"));
            client.append("order-42", ExpectedVersion.exact(placed.nextExpectedVersion()),
                    EventData.of("OrderPaid", "{\"amount\": 99}"));

            // A writer with a stale view of the stream is refused, with the stream's actual version.
            try {
                client.append("order-42", ExpectedVersion.noStream(), EventData.of("OrderPlaced", "{}"));
            } catch (WrongExpectedVersionException e) {
                System.out.println("conflict: order-42 is at version " + e.actualVersion());
            }

            // Reads page lazily: this holds one page in memory, however long the stream.
            try (Stream<RecordedEvent> events = client.readStream("order-42", ReadOptions.forwards())) {
                events.forEach(e -> System.out.println(e.streamVersion() + " " + e.type() + " " + e.dataAsString()));
            }
            System.out.println("events stored: " + (client.serverInfo().headPosition() + 1));
        }
    }
}
// end::example[]
