/**
 * The typed Java client of a Rewind server. Only {@code io.rewind.client} is its API; the package
 * {@code io.rewind.client.internal} is not exported.
 */
module io.rewind.client {
    requires io.rewind.protocol;
    requires org.zeromq.jeromq;
    // JeroMQ's CURVE cipher (rewind-nacl, in jnacl's place). JeroMQ only "requires static" it, so without this
    // line an application on the module path would not resolve it and CURVE would fail with NoClassDefFoundError.
    requires jnacl;
    requires org.slf4j;

    exports io.rewind.client;
}
