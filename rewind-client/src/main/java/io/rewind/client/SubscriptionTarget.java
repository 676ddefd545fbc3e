package io.rewind.client;

import java.util.Objects;

/**
 * What a subscription follows: one stream, every stream whose name has a prefix, the events that match a query,
 * or the global log.
 */
public sealed interface SubscriptionTarget {

    /**
     * Exactly one stream; positions are its stream versions.
     *
     * @param name the stream's name
     */
    record Stream(String name) implements SubscriptionTarget {
        /** Rejects a null or empty name. */
        public Stream {
            if (Objects.requireNonNull(name, "name").isEmpty()) {
                throw new IllegalArgumentException("stream name must not be empty");
            }
        }
    }

    /**
     * Every stream whose name starts with the prefix, in global order; positions are global positions.
     *
     * @param prefix the name prefix, e.g. "order-"
     */
    record Prefix(String prefix) implements SubscriptionTarget {
        /** Rejects a null prefix. */
        public Prefix {
            Objects.requireNonNull(prefix, "prefix");
        }
    }

    /** The global log: every event of every stream; positions are global positions. */
    record All() implements SubscriptionTarget {}

    /**
     * The events of the global log that match a query (tags and types, as in a read by query), in global order;
     * positions are global positions. History is read by the query, from the server's indexes; live events come
     * from the whole feed, filtered by the client, so that gaps are still seen.
     */
    record Matching(Query query) implements SubscriptionTarget {
        public Matching {
            Objects.requireNonNull(query, "query");
        }
    }

    /** @return a target following one stream */
    static SubscriptionTarget stream(String name) {
        return new Stream(name);
    }

    /** @return a target following every stream whose name starts with {@code prefix} */
    static SubscriptionTarget prefix(String prefix) {
        return new Prefix(prefix);
    }

    /** @return a target following the events that match the query */
    static SubscriptionTarget query(Query query) {
        return new Matching(query);
    }

    /** @return a target following the global log */
    static SubscriptionTarget all() {
        return new All();
    }
}
