package io.rewind.server.storage;

import java.util.List;

/**
 * Which events a query matches, by the rules of the Dynamic Consistency Boundary specification (dcb.events): an
 * event matches when it matches any item; it matches an item when its type is one of the item's types (any type
 * when the item names none) and it carries every one of the item's tags. The query without items matches every
 * event, and so does an item without types and tags.
 */
public record EventQuery(List<Item> items) {
    /** Matches every event. */
    public static final EventQuery ALL = new EventQuery(List.of());

    public EventQuery {
        items = List.copyOf(items);
    }

    /** @param types any of these (none: any type); @param tags all of these */
    public record Item(List<String> types, List<String> tags) {
        public Item {
            types = List.copyOf(types);
            tags = List.copyOf(tags);
        }

        public boolean matches(String type, List<String> eventTags) {
            return (types.isEmpty() || types.contains(type)) && eventTags.containsAll(tags);
        }

        boolean matchesEverything() {
            return types.isEmpty() && tags.isEmpty();
        }
    }

    public boolean matches(StoredEvent event) {
        return matches(event.type(), event.tags());
    }

    public boolean matches(String type, List<String> tags) {
        if (items.isEmpty()) {
            return true;
        }
        for (Item item : items) {
            if (item.matches(type, tags)) {
                return true;
            }
        }
        return false;
    }

    /** True when every event matches: no items, or an item without types and tags. */
    public boolean matchesEverything() {
        return items.isEmpty() || items.stream().anyMatch(Item::matchesEverything);
    }

    @Override
    public String toString() {
        if (items.isEmpty()) {
            return "every event";
        }
        StringBuilder text = new StringBuilder();
        for (Item item : items) {
            if (!text.isEmpty()) {
                text.append(" or ");
            }
            text.append("(types ").append(item.types().isEmpty() ? "any" : item.types())
                    .append(", tags ").append(item.tags()).append(')');
        }
        return text.toString();
    }
}
