/** Rewind's wire format: the protobuf messages of rewind.proto and the rules beside them. */
module io.rewind.protocol {
    requires transitive com.google.protobuf;

    exports io.rewind.protocol.v1;
}
