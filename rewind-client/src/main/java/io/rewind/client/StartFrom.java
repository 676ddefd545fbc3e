package io.rewind.client;

/**
 * Where a subscription starts. Positions are stream versions for a stream target and global
 * positions otherwise.
 */
public sealed interface StartFrom {

    /** From the first event. */
    record Start() implements StartFrom {}

    /**
     * Only events committed after {@code subscribe} returned: {@code subscribe} reads the head first,
     * so an append made right after it is delivered.
     */
    record End() implements StartFrom {}

    /**
     * After the given position, exclusive: pass the last position a reader processed to resume.
     * {@code subscribe} refuses a position beyond the head with an {@link IllegalArgumentException}:
     * such a checkpoint belongs to another store, or to a store restored from an older backup, and
     * following it would silently skip the events written since.
     *
     * @param position the last version or position already processed, at least -1
     */
    record After(long position) implements StartFrom {
        /** Rejects positions below -1. */
        public After {
            if (position < -1) {
                throw new IllegalArgumentException("position must be >= -1, got " + position);
            }
        }
    }

    /** @return start with the first event */
    static StartFrom start() {
        return new Start();
    }

    /** @return start with the next event committed */
    static StartFrom end() {
        return new End();
    }

    /** @return start with the event after {@code position} */
    static StartFrom after(long position) {
        return new After(position);
    }
}
