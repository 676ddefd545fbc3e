package io.rewind.client;

/**
 * The optimistic-concurrency condition of an append: what the writer believes the stream's
 * current version (the version of its last event) to be.
 */
public sealed interface ExpectedVersion {

    /** No check: append whatever the stream's state. */
    record Any() implements ExpectedVersion {}

    /** The stream must not exist yet. */
    record NoStream() implements ExpectedVersion {}

    /** The stream must have at least one event. */
    record StreamExists() implements ExpectedVersion {}

    /**
     * The stream's last event must have exactly this version.
     *
     * @param version zero-based version, at least 0
     */
    record Exact(long version) implements ExpectedVersion {
        /** Rejects a negative version. */
        public Exact {
            if (version < 0) {
                throw new IllegalArgumentException("an exact expected version must be >= 0, got " + version);
            }
        }
    }

    /** @return the condition that always holds */
    static ExpectedVersion any() {
        return new Any();
    }

    /** @return the condition that the stream does not exist */
    static ExpectedVersion noStream() {
        return new NoStream();
    }

    /** @return the condition that the stream exists */
    static ExpectedVersion streamExists() {
        return new StreamExists();
    }

    /**
     * @param version the version of the stream's last event, or -1 for "the stream has no events", as
     *                {@link WrongExpectedVersionException#actualVersion()} reports a missing stream
     * @return the condition that the stream's last event has exactly this version ({@link #noStream()}
     *     for -1)
     */
    static ExpectedVersion exact(long version) {
        return version == -1 ? noStream() : new Exact(version);
    }
}
