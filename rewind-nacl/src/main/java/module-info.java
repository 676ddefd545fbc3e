/**
 * NaCl's box and secretbox for JeroMQ's CURVE mechanism, in place of jnacl. The module carries jnacl's name
 * because JeroMQ's own module declaration reads {@code requires static jnacl}: with this name it binds to this
 * implementation on the module path as it would to jnacl's jar.
 */
module jnacl {
    exports com.neilalexander.jnacl.crypto;
    exports io.rewind.nacl;
}
