package io.rewind.server.core;

import io.rewind.server.storage.StoredEvent;
import java.util.List;

/**
 * What became of one submitted append: either a result (with the events it committed, none for a
 * duplicate) or an error.
 *
 * @param attachment what the submitter attached, e.g. where to send the reply
 */
public record AppendOutcome<T>(T attachment, AppendResult result, List<StoredEvent> committed, RequestError error) {

    static <T> AppendOutcome<T> success(T attachment, AppendResult result, List<StoredEvent> committed) {
        return new AppendOutcome<>(attachment, result, committed, null);
    }

    static <T> AppendOutcome<T> failure(T attachment, RequestError error) {
        return new AppendOutcome<>(attachment, null, List.of(), error);
    }

    public boolean succeeded() {
        return error == null;
    }
}
