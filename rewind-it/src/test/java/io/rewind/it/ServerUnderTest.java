package io.rewind.it;

/** A running Rewind server that tests talk to: a local process or a container. */
interface ServerUnderTest extends AutoCloseable {
    String commandEndpoint();

    String streamEndpoint();

    @Override
    void close();
}
