package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rewind.client.AppendCondition;
import io.rewind.client.AppendResult;
import io.rewind.client.ConditionFailedException;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.InvalidRequestException;
import io.rewind.client.Query;
import io.rewind.client.QueryItem;
import io.rewind.client.ReadOptions;
import io.rewind.client.ReadPage;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.StartFrom;
import io.rewind.client.StreamAppend;
import io.rewind.client.Subscription;
import io.rewind.client.SubscriptionListener;
import io.rewind.client.SubscriptionTarget;
import io.rewind.client.Tags;
import io.rewind.client.TooLargeException;
import io.rewind.client.WrongExpectedVersionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The Dynamic Consistency Boundary specification's own examples (dcb.events), each written as an application
 * would: read the events its decision needs by a query, decide, append on the condition that nothing matching the
 * query was stored since. Through the client, against a real server.
 */
class DcbExamplesIT extends OneServerPerClass {
    @Override
    String[] serverOptions() {
        return new String[] {"--max-tags-per-event", "4", "--max-read-page", "50"};
    }

    /** What a decision read: the events, and the position to append after. */
    private record Decided(List<RecordedEvent> events, long position) {}

    /** Reads every event matching the query; the position is that of the last one (-1 when none). */
    private Decided decide(RewindClient with, Query query) {
        List<RecordedEvent> events = with.readQuery(query).toList();
        return new Decided(events, events.isEmpty() ? -1 : events.get(events.size() - 1).globalPosition());
    }

    // -------------------------------------------------------------- course subscriptions

    /** Both boundaries at once: the course's capacity, and at most three courses per student. */
    private static Query subscriptionBoundary(String course, String student) {
        return Query.builder()
                .types("CourseDefined", "CourseCapacityChanged").tags("course:" + course)
                .or().types("StudentSubscribedToCourse").tags("course:" + course)
                .or().types("StudentSubscribedToCourse").tags("student:" + student)
                .build();
    }

    /** Subscribes if the rules allow it now; returns why not, or null when subscribed. */
    private String subscribe(RewindClient with, String course, String student) {
        Query boundary = subscriptionBoundary(course, student);
        Decided state = decide(with, boundary);
        int capacity = -1;
        int courseSubscriptions = 0;
        int studentSubscriptions = 0;
        for (RecordedEvent event : state.events()) {
            switch (event.type()) {
                case "CourseDefined", "CourseCapacityChanged" -> capacity = Integer.parseInt(event.dataAsString());
                case "StudentSubscribedToCourse" -> {
                    if (event.tags().contains("course:" + course)) {
                        courseSubscriptions++;
                    }
                    if (event.tags().contains("student:" + student)) {
                        studentSubscriptions++;
                    }
                }
                default -> throw new AssertionError(event);
            }
        }
        if (capacity < 0) {
            return "no such course";
        }
        if (courseSubscriptions >= capacity) {
            return "course full";
        }
        if (studentSubscriptions >= 3) {
            return "student has three courses";
        }
        with.append("student-" + student, ExpectedVersion.any(),
                AppendCondition.failIfEventsMatch(boundary).after(state.position()),
                EventData.of("StudentSubscribedToCourse", course).withTags("course:" + course, "student:" + student));
        return null;
    }

    private void defineCourse(String course, int capacity) {
        client.append("course-" + course, ExpectedVersion.noStream(),
                AppendCondition.failIfEventsMatch(Query.of(QueryItem.ofTypes("CourseDefined").withTags("course:" + course))),
                EventData.of("CourseDefined", Integer.toString(capacity)).withTags("course:" + course));
    }

    @Test
    void courseSubscriptionsKeepTheCapacityAndTheStudentLimit() {
        defineCourse("c1", 2);
        defineCourse("c2", 5);
        defineCourse("c3", 5);
        defineCourse("c4", 5);
        assertThatThrownBy(() -> defineCourse("c1", 9)).isInstanceOf(WrongExpectedVersionException.class);

        assertThat(subscribe(client, "c1", "s1")).isNull();
        assertThat(subscribe(client, "c1", "s2")).isNull();
        assertThat(subscribe(client, "c1", "s3")).isEqualTo("course full");
        assertThat(subscribe(client, "c2", "s1")).isNull();
        assertThat(subscribe(client, "c3", "s1")).isNull();
        assertThat(subscribe(client, "c4", "s1")).isEqualTo("student has three courses");
        assertThat(subscribe(client, "c9", "s1")).isEqualTo("no such course");
        client.append("course-c1", ExpectedVersion.exact(0), EventData.of("CourseCapacityChanged", "3")
                .withTags("course:c1"));
        assertThat(subscribe(client, "c1", "s3")).isNull();

        // Two students decide on the same state for the last seat: the condition lets exactly one in.
        defineCourse("c5", 1);
        Query boundaryA = subscriptionBoundary("c5", "a");
        Query boundaryB = subscriptionBoundary("c5", "b");
        Decided seenByA = decide(client, boundaryA);
        Decided seenByB = decide(client, boundaryB);
        AppendResult won = client.append("student-a", ExpectedVersion.any(),
                AppendCondition.failIfEventsMatch(boundaryA).after(seenByA.position()),
                EventData.of("StudentSubscribedToCourse", "c5").withTags("course:c5", "student:a"));
        assertThatThrownBy(() -> client.append("student-b", ExpectedVersion.any(),
                AppendCondition.failIfEventsMatch(boundaryB).after(seenByB.position()),
                EventData.of("StudentSubscribedToCourse", "c5").withTags("course:c5", "student:b")))
                .isInstanceOfSatisfying(ConditionFailedException.class,
                        e -> assertThat(e.position()).isEqualTo(won.lastPosition()));
        assertThat(subscribe(client, "c5", "b")).isEqualTo("course full");
    }

    // -------------------------------------------------------------- unique username

    private void register(String user, String username) {
        client.append("user-" + user, ExpectedVersion.noStream(),
                AppendCondition.failIfEventsMatch(Query.tagged("username:" + username)),
                EventData.of("AccountRegistered", username).withTags("username:" + username));
    }

    @Test
    void aUsernameIsTakenOnce() {
        register("u1", "alice");
        assertThatThrownBy(() -> register("u2", "alice")).isInstanceOf(ConditionFailedException.class)
                .hasMessageContaining("username:alice");
        register("u2", "alicia");
        assertThat(client.readQuery(Query.tagged("username:alice")).map(RecordedEvent::stream).toList())
                .containsExactly("user-u1");
    }

    // -------------------------------------------------------------- invoice numbers without gaps

    /** The next invoice number from the last InvoiceCreated event; appended on the condition that none came since. */
    private long createInvoice(RewindClient with, String customer) {
        Query invoices = Query.of(QueryItem.ofTypes("InvoiceCreated"));
        while (true) {
            ReadPage last = with.readQueryPage(invoices, ReadOptions.backwards().pageSize(1));
            long number = last.events().isEmpty() ? 1 : Long.parseLong(last.events().get(0).dataAsString()) + 1;
            long after = last.events().isEmpty() ? -1 : last.events().get(0).globalPosition();
            try {
                // No expected version: the condition alone keeps the numbers unique, as in the specification.
                with.append("invoice-" + number, ExpectedVersion.any(),
                        AppendCondition.failIfEventsMatch(invoices).after(after),
                        EventData.of("InvoiceCreated", Long.toString(number)).withTags("customer:" + customer));
                return number;
            } catch (ConditionFailedException raced) {
                // Another invoice was created meanwhile: decide again from it.
            }
        }
    }

    @Test
    void invoiceNumbersFollowEachOtherWithoutGapsUnderConcurrency() throws Exception {
        List<Long> numbers = Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<Void>> creators = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            String customer = "k" + c;
            creators.add(CompletableFuture.runAsync(() -> {
                try (RewindClient own = RewindClient.builder().commandEndpoint(server.commandEndpoint()).build()) {
                    for (int i = 0; i < 25; i++) {
                        numbers.add(createInvoice(own, customer));
                    }
                }
            }));
        }
        CompletableFuture.allOf(creators.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);

        assertThat(numbers).containsExactlyInAnyOrderElementsOf(IntStream.rangeClosed(1, 100).mapToObj(n -> (long) n)
                .toList());
        List<RecordedEvent> stored = client.readQuery(Query.of(QueryItem.ofTypes("InvoiceCreated"))).toList();
        assertThat(stored).extracting(RecordedEvent::dataAsString)
                .containsExactlyElementsOf(IntStream.rangeClosed(1, 100).mapToObj(Integer::toString).toList());
        assertThat(client.readQuery(Query.tagged("customer:k2")).count()).isEqualTo(25);
    }

    // -------------------------------------------------------------- tags everywhere, multi-stream, limits

    @Test
    void tagsComeBackFromEveryReadAndTheLiveFeed() throws Exception {
        List<RecordedEvent> live = new CopyOnWriteArrayList<>();
        java.util.concurrent.CountDownLatch received = new java.util.concurrent.CountDownLatch(1);
        try (Subscription subscription = client.subscribe(SubscriptionTarget.stream("tagged-1"), StartFrom.end(),
                new SubscriptionListener() {
                    @Override
                    public void onEvent(Subscription s, RecordedEvent event) {
                        live.add(event);
                        received.countDown();
                    }
                })) {
            subscription.awaitLive(Duration.ofSeconds(10));
            AppendResult result = client.append("tagged-1", ExpectedVersion.any(),
                    EventData.of("Tagged", "x").withTags("a:1", "b:2"));
            assertThat(received.await(10, TimeUnit.SECONDS)).as("the feed delivered the event").isTrue();
            assertThat(live).singleElement().extracting(RecordedEvent::tags).isEqualTo(Tags.of("a:1", "b:2"));
            assertThat(client.readStream("tagged-1").toList().get(0).tags()).isEqualTo(Tags.of("a:1", "b:2"));
            assertThat(client.readAll(ReadOptions.forwards().from(result.firstPosition())).findFirst().orElseThrow()
                    .tags()).isEqualTo(Tags.of("a:1", "b:2"));
        }
        assertThatThrownBy(() -> client.append("tagged-2", ExpectedVersion.any(),
                EventData.of("T", "x").withTags("1", "2", "3", "4", "5")))
                .isInstanceOf(TooLargeException.class).hasMessageContaining("has 5 tags, the limit is 4");
        assertThatThrownBy(() -> client.append("tagged-2", ExpectedVersion.any(),
                EventData.of("T", "x").withTags("x".repeat(300))))
                .isInstanceOf(TooLargeException.class).hasMessageContaining("the limit is 255");
    }

    @Test
    void aMultiStreamAppendIsAllOrNothing() {
        AppendResult result = client.append(List.of(
                StreamAppend.of("account-from", ExpectedVersion.noStream(), EventData.of("Debited", "10")),
                StreamAppend.of("account-to", ExpectedVersion.noStream(), EventData.of("Credited", "10"),
                        EventData.of("Noted", ""))), null);
        assertThat(result.streams()).extracting(AppendResult.StreamResult::stream)
                .containsExactly("account-from", "account-to");
        assertThat(result.stream("account-to").nextExpectedVersion()).isEqualTo(1);
        assertThat(result.lastPosition() - result.firstPosition()).isEqualTo(2);
        assertThat(result.stream("account-to").firstPosition()).isEqualTo(result.firstPosition() + 1);

        long head = client.serverInfo().headPosition();
        assertThatThrownBy(() -> client.append(List.of(
                StreamAppend.of("account-from", ExpectedVersion.exact(0), EventData.of("Debited", "5")),
                StreamAppend.of("account-to", ExpectedVersion.exact(0), EventData.of("Credited", "5"))), null))
                .isInstanceOfSatisfying(WrongExpectedVersionException.class,
                        e -> assertThat(e.stream()).isEqualTo("account-to"));
        assertThat(client.serverInfo().headPosition()).isEqualTo(head);
        assertThatThrownBy(() -> client.append(List.of(
                StreamAppend.of("x", ExpectedVersion.any(), EventData.of("T", "")),
                StreamAppend.of("x", ExpectedVersion.any(), EventData.of("T", ""))), null))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("appears twice");
    }
}
