package io.rewind.server.core;

/** The optimistic-concurrency condition of an append. */
public sealed interface ExpectedVersion {

    /** No check. */
    record Any() implements ExpectedVersion {
        @Override
        public String toString() {
            return "any";
        }
    }

    /** The stream must not exist yet. */
    record NoStream() implements ExpectedVersion {
        @Override
        public String toString() {
            return "no stream";
        }
    }

    /** The stream must have at least one event. */
    record StreamExists() implements ExpectedVersion {
        @Override
        public String toString() {
            return "stream exists";
        }
    }

    /** The stream's last event must have exactly this version. */
    record Exact(long version) implements ExpectedVersion {
        public Exact {
            if (version < 0) {
                throw new IllegalArgumentException("exact expected version must be >= 0, got " + version);
            }
        }

        @Override
        public String toString() {
            return Long.toString(version);
        }
    }

    ExpectedVersion ANY = new Any();
    ExpectedVersion NO_STREAM = new NoStream();
    ExpectedVersion STREAM_EXISTS = new StreamExists();

    /** Whether a stream whose last event has {@code actual} (-1: no stream) satisfies this condition. */
    default boolean matches(long actual) {
        if (this instanceof Exact exact) {
            return actual == exact.version();
        }
        if (this instanceof NoStream) {
            return actual == -1;
        }
        if (this instanceof StreamExists) {
            return actual >= 0;
        }
        return true;
    }
}
