package io.rewind.client;

/**
 * An append's {@link AppendCondition} failed: an event matching its query is stored (after its position). Nothing
 * was stored. Read from {@link #position()} to see what changed, decide again, and retry.
 */
public class ConditionFailedException extends RewindException {
    private final long position;

    public ConditionFailedException(String message, long position) {
        super(message);
        this.position = position;
    }

    /** The global position of the first stored event that matches the condition. */
    public long position() {
        return position;
    }
}
