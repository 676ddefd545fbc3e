package io.rewind.client;

import java.util.List;
import java.util.Objects;

/**
 * One item of a {@link Query}: an event matches it when its type is one of {@link #types()} (any type when there
 * are none) and it carries every one of {@link #tags()}.
 *
 * <pre>{@code
 * QueryItem.ofTypes("StudentSubscribed").withTags(Tags.of("course:c1"))
 * QueryItem.ofTags("student:s7")          // any type
 * }</pre>
 */
public record QueryItem(List<String> types, Tags tags) {

    public QueryItem {
        types = List.copyOf(types);
        Objects.requireNonNull(tags, "tags");
    }

    /** Events of any of these types, whatever their tags. */
    public static QueryItem ofTypes(String... types) {
        return new QueryItem(List.of(types), Tags.none());
    }

    /** Events that carry all of these tags, whatever their type. */
    public static QueryItem ofTags(String... tags) {
        return new QueryItem(List.of(), Tags.of(tags));
    }

    /** This item, also requiring all of these tags. */
    public QueryItem withTags(String... more) {
        return withTags(Tags.of(more));
    }

    /** This item, requiring these tags (instead of its own). */
    public QueryItem withTags(Tags newTags) {
        return new QueryItem(types, newTags);
    }

    /** Whether an event of this type with these tags matches. */
    public boolean matches(String type, Tags eventTags) {
        return (types.isEmpty() || types.contains(type)) && eventTags.containsAll(tags);
    }
}
