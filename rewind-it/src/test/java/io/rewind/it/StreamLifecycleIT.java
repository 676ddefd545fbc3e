package io.rewind.it;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rewind.client.AppendCondition;
import io.rewind.client.AppendResult;
import io.rewind.client.ErasedEvent;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.InvalidRequestException;
import io.rewind.client.Query;
import io.rewind.client.ReadOptions;
import io.rewind.client.RecordedEvent;
import io.rewind.client.StartFrom;
import io.rewind.client.StreamDeletedException;
import io.rewind.client.StreamMetadata;
import io.rewind.client.StreamNotFoundException;
import io.rewind.client.StreamRetention;
import io.rewind.client.Subscription;
import io.rewind.client.SubscriptionListener;
import io.rewind.client.SubscriptionTarget;
import io.rewind.client.WrongExpectedVersionException;
import io.rewind.protocol.v1.DeleteStreamRequest;
import io.rewind.protocol.v1.EraseEventRequest;
import io.rewind.protocol.v1.GetStreamMetadataRequest;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.Response;
import io.rewind.protocol.v1.SetStreamMetadataRequest;
import io.rewind.protocol.v1.StreamMetadataResponse;
import io.rewind.protocol.v1.TruncateStreamRequest;
import io.rewind.protocol.v1.WireFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/** Delete, tombstone, truncate, retention and erasure, through the client and the raw protocol. */
class StreamLifecycleIT extends OneServerPerClass {
    @Override
    String[] serverOptions() {
        return new String[] {"--cleanup-interval", "0.2", "--legacy-query-endpoint", "tcp://127.0.0.1:*",
            "--legacy-stream-endpoint", "tcp://127.0.0.1:*"};
    }

    private List<Long> versions(String stream) {
        return client.readStream(stream).map(RecordedEvent::streamVersion).toList();
    }

    private List<String> globalStreams(long from) {
        return client.readAll(ReadOptions.forwards().from(from)).map(e -> e.stream() + "@" + e.streamVersion())
                .toList();
    }

    @Test
    void aDeletedStreamIsGoneFromEveryReadAndContinuesAfterItsLastVersion() {
        long first = client.serverInfo().headPosition() + 1;
        client.append("del-a", ExpectedVersion.noStream(), EventData.of("E", "0"), EventData.of("E", "1"),
                EventData.of("E", "2"));
        client.append("del-b", ExpectedVersion.noStream(), EventData.of("E", "kept").withTags("del-test"));
        client.append("del-a", ExpectedVersion.any(), EventData.of("E", "3").withTags("del-test"));
        assertThatThrownBy(() -> client.deleteStream("del-a", ExpectedVersion.exact(1)))
                .isInstanceOf(WrongExpectedVersionException.class);

        StreamMetadata deleted = client.deleteStream("del-a", ExpectedVersion.exact(3));

        assertThat(deleted.lastVersion()).isEqualTo(3);
        assertThat(deleted.truncateBefore()).isEqualTo(4);
        assertThat(deleted.firstVisibleVersion()).isEqualTo(4);
        assertThatThrownBy(() -> client.readStream("del-a")).isInstanceOf(StreamNotFoundException.class)
                .hasMessageContaining("no events left");
        assertThat(globalStreams(first)).containsExactly("del-b@0");
        assertThat(client.readQuery(Query.tagged("del-test")).map(RecordedEvent::stream)).containsExactly("del-b");
        // A condition no longer sees what a delete hid.
        client.append("del-c", ExpectedVersion.any(),
                AppendCondition.failIfEventsMatch(Query.tagged("del-test")).after(first + 3), EventData.of("E", "x"));

        AppendResult again = client.append("del-a", ExpectedVersion.exact(3), EventData.of("E", "4"));
        assertThat(again.nextExpectedVersion()).isEqualTo(4);
        assertThat(versions("del-a")).containsExactly(4L);
        assertThat(client.streamMetadata("del-a").firstVisibleVersion()).isEqualTo(4);
    }

    @Test
    void aTombstonedStreamRefusesEveryAppendForever() {
        client.append("tomb", ExpectedVersion.noStream(), EventData.of("E", "0"));
        StreamMetadata tombstoned = client.tombstoneStream("tomb", ExpectedVersion.any());
        assertThat(tombstoned.tombstoned()).isTrue();
        assertThatThrownBy(() -> client.append("tomb", ExpectedVersion.any(), EventData.of("E", "1")))
                .isInstanceOf(StreamDeletedException.class).hasMessageContaining("deleted for good");
        assertThatThrownBy(() -> client.deleteStream("tomb", ExpectedVersion.any()))
                .isInstanceOf(StreamDeletedException.class);
        assertThatThrownBy(() -> client.truncateStream("tomb", 0)).isInstanceOf(StreamDeletedException.class);
        assertThatThrownBy(() -> client.readStream("tomb")).isInstanceOf(StreamNotFoundException.class)
                .hasMessageContaining("deleted for good");
        // A name never used may be reserved.
        assertThat(client.tombstoneStream("never-used", ExpectedVersion.noStream()).lastVersion()).isEqualTo(-1);
        assertThatThrownBy(() -> client.append("never-used", ExpectedVersion.any(), EventData.of("E", "1")))
                .isInstanceOf(StreamDeletedException.class);
    }

    @Test
    void truncationAndRetentionHideTheOldestEvents() throws Exception {
        for (int i = 0; i < 6; i++) {
            client.append("trunc", ExpectedVersion.any(), EventData.of("E", Integer.toString(i)));
        }
        assertThat(client.truncateStream("trunc", 2).firstVisibleVersion()).isEqualTo(2);
        assertThat(versions("trunc")).containsExactly(2L, 3L, 4L, 5L);
        assertThat(client.readStream("trunc", ReadOptions.backwards()).map(RecordedEvent::streamVersion))
                .containsExactly(5L, 4L, 3L, 2L);
        assertThat(client.truncateStream("trunc", 1).truncateBefore()).as("never undone").isEqualTo(2);
        assertThatThrownBy(() -> client.truncateStream("trunc", 9)).isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("from 0 to 6");

        assertThat(client.setStreamRetention("trunc", StreamRetention.maxCount(2)).firstVisibleVersion())
                .isEqualTo(4);
        assertThat(versions("trunc")).containsExactly(4L, 5L);
        client.append("trunc", ExpectedVersion.any(), EventData.of("E", "6"));
        assertThat(versions("trunc")).containsExactly(5L, 6L);
        // A looser retention does not bring back what the old one hid.
        assertThat(client.setStreamRetention("trunc", StreamRetention.none()).truncateBefore()).isEqualTo(5);
        assertThat(versions("trunc")).containsExactly(5L, 6L);

        client.append("aging", ExpectedVersion.any(), EventData.of("E", "old"));
        client.setStreamRetention("aging", StreamRetention.maxAge(Duration.ofSeconds(1)));
        assertThat(versions("aging")).containsExactly(0L);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (client.streamMetadata("aging").firstVisibleVersion() == 0) {
            assertThat(System.nanoTime()).as("the event expires after a second").isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(50);
        }
        assertThatThrownBy(() -> client.readStream("aging")).isInstanceOf(StreamNotFoundException.class);
        client.append("aging", ExpectedVersion.any(), EventData.of("E", "new"));
        assertThat(versions("aging")).containsExactly(1L);
    }

    @Test
    void anErasedEventKeepsItsPlaceWithoutItsData() {
        AppendResult appended = client.append("person-1", ExpectedVersion.any(),
                new EventData(UUID.randomUUID(), "Registered", "alice@example.com".getBytes(US_ASCII),
                        "ip 10.0.0.1".getBytes(US_ASCII)).withTags("person:1"));
        RecordedEvent before = client.readStream("person-1").toList().get(0);

        ErasedEvent erased = client.eraseEvent(before.eventId());

        assertThat(erased.globalPosition()).isEqualTo(appended.firstPosition());
        RecordedEvent after = client.readStream("person-1").toList().get(0);
        assertThat(after.erased()).isTrue();
        assertThat(after.data()).isEmpty();
        assertThat(after.metadata()).isEmpty();
        assertThat(after.eventId()).isEqualTo(before.eventId());
        assertThat(after.type()).isEqualTo("Registered");
        assertThat(after.tags()).isEqualTo(before.tags());
        assertThat(after.globalPosition()).isEqualTo(before.globalPosition());
        assertThat(client.eraseEvent(before.eventId())).as("again: nothing more to do").isEqualTo(erased);
        assertThatThrownBy(() -> client.eraseEvent(UUID.randomUUID())).isInstanceOf(StreamNotFoundException.class)
                .hasMessageContaining("no event with id");
    }

    @Test
    void aSubscriptionToTheGlobalLogPassesOverRemovedEventsWithoutStalling() throws Exception {
        long start = client.serverInfo().headPosition();
        client.append("sub-gone", ExpectedVersion.any(), EventData.of("E", "gone-1"), EventData.of("E", "gone-2"));
        client.append("sub-kept", ExpectedVersion.any(), EventData.of("E", "kept-1"));
        client.deleteStream("sub-gone", ExpectedVersion.any());
        BlockingQueue<RecordedEvent> received = new LinkedBlockingQueue<>();
        try (Subscription subscription = client.subscribe(SubscriptionTarget.all(), StartFrom.after(start),
                new SubscriptionListener() {
                    @Override
                    public void onEvent(Subscription s, RecordedEvent event) {
                        received.add(event);
                    }
                })) {
            assertThat(subscription.awaitLive(Duration.ofSeconds(10))).isTrue();
            client.append("sub-gone", ExpectedVersion.any(), EventData.of("E", "back"));
            List<String> data = new ArrayList<>();
            while (data.size() < 2) {
                RecordedEvent event = received.poll(10, TimeUnit.SECONDS);
                assertThat(event).as("an event after %s", data).isNotNull();
                data.add(event.dataAsString());
            }
            assertThat(data).containsExactly("kept-1", "back");
        }
    }

    @Test
    void theRawProtocolAndTheLegacyProtocolSeeTheSame() throws Exception {
        client.append("raw-del", ExpectedVersion.any(), EventData.of("E", "x"));
        try (ZContext context = new ZContext()) {
            ZMQ.Socket req = TestSockets.client(context, SocketType.REQ);
            req.connect(server.commandEndpoint());
            req.send(Request.newBuilder().setRequestId(3).setDeleteStream(DeleteStreamRequest.newBuilder()
                    .setStream("raw-del")).build().toByteArray());
            Response deleted = Response.parseFrom(req.recv());
            assertThat(deleted.getRequestId()).isEqualTo(3);
            assertThat(deleted.getStreamMetadata().getTruncateBefore()).isEqualTo(1);
            req.send(Request.newBuilder().setRequestId(4).setGetStreamMetadata(GetStreamMetadataRequest.newBuilder()
                    .setStream("raw-del")).build().toByteArray());
            assertThat(Response.parseFrom(req.recv()).getStreamMetadata().getFirstVisibleVersion()).isEqualTo(1);

            // Truncate, retention and erasure, as a client in another language sends them.
            UUID id = UUID.randomUUID();
            client.append("raw-life", ExpectedVersion.any(), EventData.of("E", "0"), EventData.of("E", "1"),
                    EventData.of("E", "2").withId(id));
            req.send(Request.newBuilder().setRequestId(5).setTruncateStream(TruncateStreamRequest.newBuilder()
                    .setStream("raw-life").setBeforeVersion(1)).build().toByteArray());
            assertThat(Response.parseFrom(req.recv()).getStreamMetadata().getTruncateBefore()).isEqualTo(1);
            req.send(Request.newBuilder().setRequestId(6).setSetStreamMetadata(SetStreamMetadataRequest.newBuilder()
                    .setStream("raw-life").setMaxCount(1).setMaxAgeSeconds(3_600)).build().toByteArray());
            StreamMetadataResponse retention = Response.parseFrom(req.recv()).getStreamMetadata();
            assertThat(retention.getMaxCount()).isEqualTo(1);
            assertThat(retention.getMaxAgeSeconds()).isEqualTo(3_600);
            assertThat(retention.getFirstVisibleVersion()).isEqualTo(2);
            req.send(Request.newBuilder().setRequestId(7).setEraseEvent(EraseEventRequest.newBuilder()
                    .setEventId(WireFormat.eventId(id))).build().toByteArray());
            assertThat(Response.parseFrom(req.recv()).getEraseEvent().getStreamVersion()).isEqualTo(2);
            req.send(Request.newBuilder().setRequestId(8).setSetStreamMetadata(SetStreamMetadataRequest.newBuilder()
                    .setStream("raw-life").setMaxCount(-1)).build().toByteArray());
            Response refused = Response.parseFrom(req.recv());
            assertThat(refused.getError().getCode()).isEqualTo(io.rewind.protocol.v1.ErrorCode.INVALID_REQUEST);
            assertThat(refused.getError().getMessage()).contains("must be >= 0");
            assertThat(client.readStream("raw-life").map(e -> e.streamVersion() + (e.erased() ? " erased" : "")))
                    .containsExactly("2 erased");

            // Legacy: three published events, the oldest two truncated away: QUERY lists the newest only, and
            // the id of a removed event is unknown.
            ZMQ.Socket legacy = TestSockets.client(context, SocketType.REQ);
            legacy.connect(server.legacyQueryEndpoint());
            for (String data : List.of("l0", "l1", "l2")) {
                legacy.sendMore("PUBLISH");
                legacy.send(data);
                assertThat(legacy.recvStr()).isEqualTo("PUBLISHED");
            }
            List<RecordedEvent> published = client.readStream("legacy").toList();
            client.truncateStream("legacy", published.get(published.size() - 1).streamVersion());
            legacy.sendMore("QUERY");
            legacy.sendMore("");
            legacy.send("");
            List<String> frames = new ArrayList<>();
            do {
                frames.add(legacy.recvStr());
            } while (legacy.hasReceiveMore());
            assertThat(frames).doesNotContain("l0", "l1").contains("l2");
            legacy.sendMore("QUERY");
            legacy.sendMore(published.get(0).eventId().toString());
            legacy.send("");
            assertThat(legacy.recvStr()).startsWith("ERROR").contains("unknown event id");
        }
    }
}
