package io.rewind.it;

/** The client contract against a server on the in-memory engine. */
class InMemoryClientIT extends ClientContractIT {
    @Override
    String storage() {
        return "memory";
    }
}
