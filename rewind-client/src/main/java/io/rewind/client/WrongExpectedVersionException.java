package io.rewind.client;

/** An append's expected version did not match the stream; nothing was stored. */
public final class WrongExpectedVersionException extends RewindException {
    private final String stream;
    private final ExpectedVersion expected;
    private final long actualVersion;

    /**
     * @param message       the server's explanation
     * @param stream        the stream appended to
     * @param expected      what the append expected
     * @param actualVersion the stream's actual version, -1 when it does not exist
     */
    public WrongExpectedVersionException(String message, String stream, ExpectedVersion expected,
            long actualVersion) {
        super(message);
        this.stream = stream;
        this.expected = expected;
        this.actualVersion = actualVersion;
    }

    /** @return the stream appended to */
    public String stream() {
        return stream;
    }

    /** @return what the append expected */
    public ExpectedVersion expected() {
        return expected;
    }

    /** @return the version of the stream's last event, -1 when the stream does not exist */
    public long actualVersion() {
        return actualVersion;
    }
}
