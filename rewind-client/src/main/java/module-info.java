/**
 * The typed Java client of a Rewind server. Only {@code io.rewind.client} is its API; the package
 * {@code io.rewind.client.internal} is not exported.
 */
module io.rewind.client {
    requires io.rewind.protocol;
    requires org.zeromq.jeromq;
    requires org.slf4j;

    exports io.rewind.client;
}
