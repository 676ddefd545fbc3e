package io.rewind.client;

/** The stream read has no events. */
public final class StreamNotFoundException extends RewindException {
    private final String stream;

    /**
     * @param message the server's explanation
     * @param stream  the stream that was read
     */
    public StreamNotFoundException(String message, String stream) {
        super(message);
        this.stream = stream;
    }

    /** @return the stream that was read */
    public String stream() {
        return stream;
    }
}
