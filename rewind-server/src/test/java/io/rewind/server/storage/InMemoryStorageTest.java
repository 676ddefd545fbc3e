package io.rewind.server.storage;

class InMemoryStorageTest extends EventStorageContract {
    @Override
    EventStorage create() {
        return new InMemoryStorage();
    }
}
