package io.rewind.testkit;

/** A running Rewind server that tests and benchmarks talk to: a local process or a container. */
public interface ServerUnderTest extends AutoCloseable {
    /** @return the command endpoint, e.g. tcp://127.0.0.1:9090 */
    String commandEndpoint();

    /** @return the live-feed endpoint */
    String streamEndpoint();

    @Override
    void close();
}
