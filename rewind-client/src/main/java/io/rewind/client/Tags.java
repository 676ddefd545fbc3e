package io.rewind.client;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * What an event is about, for queries and append conditions: strings such as {@code "course:c1"} or
 * {@code "student:s7"}. An immutable, ordered set: no tag twice, none empty or holding a NUL character.
 *
 * <pre>{@code
 * EventData.of("StudentSubscribed", json).withTags(Tags.of("course:c1", "student:s7"))
 * }</pre>
 */
public final class Tags implements Iterable<String> {
    private static final Tags NONE = new Tags(List.of());

    private final List<String> values;

    private Tags(List<String> values) {
        this.values = values;
    }

    /** @throws IllegalArgumentException for an empty tag, a tag with NUL, or a tag given twice */
    public static Tags of(String... tags) {
        return of(List.of(tags));
    }

    /** @throws IllegalArgumentException for an empty tag, a tag with NUL, or a tag given twice */
    public static Tags of(List<String> tags) {
        if (tags.isEmpty()) {
            return NONE;
        }
        LinkedHashSet<String> seen = new LinkedHashSet<>();
        for (String tag : tags) {
            Objects.requireNonNull(tag, "tag");
            if (tag.isEmpty()) {
                throw new IllegalArgumentException("a tag must not be empty");
            }
            if (tag.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("a tag must not hold a NUL character: " + tag.replace('\0', '?'));
            }
            if (!seen.add(tag)) {
                throw new IllegalArgumentException("tag '" + tag + "' is given twice");
            }
        }
        return new Tags(List.copyOf(seen));
    }

    /** No tags. */
    public static Tags none() {
        return NONE;
    }

    /** The tags, in the order given. */
    public List<String> asList() {
        return values;
    }

    public boolean contains(String tag) {
        return values.contains(tag);
    }

    /** Whether every one of {@code tags} is among these. */
    public boolean containsAll(Tags tags) {
        return values.containsAll(tags.values);
    }

    public int size() {
        return values.size();
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    @Override
    public Iterator<String> iterator() {
        return values.iterator();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Tags t && values.equals(t.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
