package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rewind.client.AppendResult;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.InvalidRequestException;
import io.rewind.client.Query;
import io.rewind.client.ReadOptions;
import io.rewind.client.ReadPage;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.StartFrom;
import io.rewind.client.Subscription;
import io.rewind.client.SubscriptionListener;
import io.rewind.client.SubscriptionTarget;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Server-side filters by type, reads from a commit time, and catch-up subscriptions by query. */
class ReadFiltersIT extends OneServerPerClass {
    @Override
    String[] serverOptions() {
        return new String[] {"--max-read-page", "100"};
    }

    @Test
    void aTypeFilterPagesPastWhatItSkipsAndBoundsEachPagesWork() {
        // 70,000 events of one type, then one of another: more than one filtered page looks at (65,536).
        for (int batch = 0; batch < 70; batch++) {
            List<EventData> events = new ArrayList<>();
            for (int i = 0; i < 1_000; i++) {
                events.add(EventData.of("Noise", ""));
            }
            client.append("long", ExpectedVersion.any(), events);
        }
        client.append("long", ExpectedVersion.any(), EventData.of("Signal", "at the end"));

        ReadPage first = client.readStreamPageAsync("long", ReadOptions.forwards().types("Signal")).join();
        assertThat(first.events()).as("the first page looked at 65,536 events and found nothing").isEmpty();
        assertThat(first.endReached()).isFalse();
        assertThat(first.nextFrom()).isEqualTo(65_536);
        assertThat(client.readStream("long", ReadOptions.forwards().types("Signal")).map(RecordedEvent::dataAsString))
                .containsExactly("at the end");
        assertThat(client.readStream("long", ReadOptions.backwards().types("Signal", "Noise").maxCount(3))
                .map(RecordedEvent::streamVersion)).containsExactly(70_000L, 69_999L, 69_998L);
        assertThat(client.readAll(ReadOptions.forwards().types("Signal")).map(RecordedEvent::dataAsString))
                .containsExactly("at the end");
        assertThatThrownBy(() -> client.readQueryPage(Query.all(), ReadOptions.forwards().types("Noise")))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("names its types in the query");
    }

    @Test
    void aReadStartsAtACommitTime() throws Exception {
        List<AppendResult> appended = new ArrayList<>();
        List<Instant> times = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            AppendResult result = client.append("timed", ExpectedVersion.any(), EventData.of("Tick", "t" + i));
            appended.add(result);
            times.add(client.readStream("timed", ReadOptions.forwards().from(result.nextExpectedVersion()))
                    .findFirst().orElseThrow().committedAt());
            // Commit times are microseconds: the next append is committed later.
            Instant before = Instant.now();
            while (!Instant.now().isAfter(before.plusMillis(2))) {
                TimeUnit.MILLISECONDS.sleep(1);
            }
        }
        assertThat(client.readStream("timed", ReadOptions.forwards().fromTime(times.get(2)))
                .map(RecordedEvent::dataAsString)).containsExactly("t2", "t3", "t4");
        assertThat(client.readStream("timed", ReadOptions.backwards().fromTime(times.get(2).plusNanos(1_000)))
                .map(RecordedEvent::dataAsString)).containsExactly("t2", "t1", "t0");
        assertThat(client.readAll(ReadOptions.forwards().fromTime(times.get(4))).map(RecordedEvent::globalPosition))
                .first().isEqualTo(appended.get(4).firstPosition());
        assertThat(client.readStream("timed", ReadOptions.forwards().fromTime(times.get(4).plusSeconds(60))))
                .isEmpty();
        assertThat(client.readStream("timed", ReadOptions.backwards().fromTime(Instant.EPOCH))).isEmpty();
    }

    @Test
    void aSubscriptionByQueryDeliversHistoryThenLiveMatchesInOrder() throws Exception {
        Query watched = Query.tagged("watched");
        long before = client.serverInfo().headPosition();
        client.append("q-1", ExpectedVersion.any(), EventData.of("A", "old-1").withTags("watched"),
                EventData.of("A", "skip").withTags("other"));
        client.append("q-2", ExpectedVersion.any(), EventData.of("B", "old-2").withTags("watched", "x"));
        BlockingQueue<RecordedEvent> received = new LinkedBlockingQueue<>();
        try (Subscription subscription = client.subscribe(SubscriptionTarget.query(watched), StartFrom.after(before),
                new SubscriptionListener() {
                    @Override
                    public void onEvent(Subscription s, RecordedEvent event) {
                        received.add(event);
                    }
                })) {
            assertThat(subscription.awaitLive(Duration.ofSeconds(10))).isTrue();
            client.append("q-3", ExpectedVersion.any(), EventData.of("C", "skip too"));
            client.append("q-1", ExpectedVersion.any(), EventData.of("A", "new-1").withTags("watched"));
            List<String> data = new ArrayList<>();
            while (data.size() < 3) {
                RecordedEvent event = received.poll(10, TimeUnit.SECONDS);
                assertThat(event).as("an event after %s", data).isNotNull();
                data.add(event.dataAsString());
            }
            assertThat(data).containsExactly("old-1", "old-2", "new-1");
            assertThat(subscription.checkpoint()).isEqualTo(client.serverInfo().headPosition());
            assertThat(received.poll(200, TimeUnit.MILLISECONDS)).as("nothing else matches").isNull();
        }
    }
}
