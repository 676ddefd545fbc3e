package io.rewind.client;

import java.util.ArrayList;
import java.util.List;

/**
 * Which events to read, or to look for in an {@link AppendCondition}, by the rules of the Dynamic Consistency
 * Boundary specification (dcb.events): an event matches when it matches any {@link QueryItem}; the query without
 * items matches every event.
 *
 * <pre>{@code
 * // the course's definition and every subscription to it
 * Query query = Query.builder()
 *         .types("CourseDefined", "CourseCapacityChanged").tags("course:c1")
 *         .or().types("StudentSubscribed").tags("course:c1")
 *         .build();
 * }</pre>
 */
public record Query(List<QueryItem> items) {
    private static final Query ALL = new Query(List.of());

    public Query {
        items = List.copyOf(items);
    }

    /** Every event. */
    public static Query all() {
        return ALL;
    }

    /** Events that match any of these items. */
    public static Query of(QueryItem... items) {
        return new Query(List.of(items));
    }

    /** Events that carry all of these tags, of any type. */
    public static Query tagged(String... tags) {
        return of(QueryItem.ofTags(tags));
    }

    /** This query, also matching what {@code item} matches. */
    public Query or(QueryItem item) {
        List<QueryItem> more = new ArrayList<>(items);
        more.add(item);
        return new Query(more);
    }

    /** Whether an event of this type with these tags matches. */
    public boolean matches(String type, Tags tags) {
        return items.isEmpty() || items.stream().anyMatch(item -> item.matches(type, tags));
    }

    /** Whether this recorded event matches. */
    public boolean matches(RecordedEvent event) {
        return matches(event.type(), event.tags());
    }

    /** A builder of one item after another: {@code types(...)} and {@code tags(...)}, then {@code or()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a query item by item. */
    public static final class Builder {
        private final List<QueryItem> items = new ArrayList<>();
        private List<String> types = List.of();
        private List<String> tags = new ArrayList<>();
        private boolean started;

        private Builder() {}

        /** The current item's types (any of them); replaces those given before for this item. */
        public Builder types(String... names) {
            types = List.of(names);
            started = true;
            return this;
        }

        /** Adds tags the current item's events must all carry. */
        public Builder tags(String... names) {
            tags.addAll(List.of(names));
            started = true;
            return this;
        }

        /** Ends the current item; what follows describes another one, which events may match instead. */
        public Builder or() {
            if (!started) {
                throw new IllegalStateException("or() follows an item: give it types(...) or tags(...) first");
            }
            items.add(new QueryItem(types, Tags.of(tags)));
            types = List.of();
            tags = new ArrayList<>();
            started = false;
            return this;
        }

        public Query build() {
            List<QueryItem> all = new ArrayList<>(items);
            if (started) {
                all.add(new QueryItem(types, Tags.of(tags)));
            } else if (!items.isEmpty()) {
                throw new IllegalStateException("the query ends with or(): give the last item types(...) or tags(...)");
            }
            return new Query(all);
        }
    }
}
