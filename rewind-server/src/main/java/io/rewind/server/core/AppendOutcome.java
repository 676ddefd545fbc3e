package io.rewind.server.core;

import io.rewind.server.storage.StoredEvent;
import java.util.List;

/**
 * What became of one submitted append: either a result (with the events it committed, none for a
 * duplicate) or an error. For a stream operation, {@code operation} says what it did.
 *
 * @param attachment what the submitter attached, e.g. where to send the reply
 */
public record AppendOutcome<T>(T attachment, AppendResult result, List<StoredEvent> committed, RequestError error,
        OperationResult operation) {

    public AppendOutcome(T attachment, AppendResult result, List<StoredEvent> committed, RequestError error) {
        this(attachment, result, committed, error, null);
    }

    static <T> AppendOutcome<T> success(T attachment, AppendResult result, List<StoredEvent> committed) {
        return new AppendOutcome<>(attachment, result, committed, null);
    }

    /** A stream operation done: its result, and no events committed (the positions say none). */
    static <T> AppendOutcome<T> done(T attachment, OperationResult operation) {
        return new AppendOutcome<>(attachment, new AppendResult(-1, -1, operation.lastVersion(), false), List.of(),
                null, operation);
    }

    static <T> AppendOutcome<T> failure(T attachment, RequestError error) {
        return new AppendOutcome<>(attachment, null, List.of(), error);
    }

    /** The same outcome for another attachment. */
    public <U> AppendOutcome<U> withAttachment(U other) {
        return new AppendOutcome<>(other, result, committed, error, operation);
    }

    public boolean succeeded() {
        return error == null;
    }
}
