package io.rewind.client;

/** Base of every error the Rewind client throws: catch it to handle "any Rewind error". */
public class RewindException extends RuntimeException {
    /** @param message what went wrong */
    public RewindException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong
     * @param cause   the underlying failure
     */
    public RewindException(String message, Throwable cause) {
        super(message, cause);
    }
}
