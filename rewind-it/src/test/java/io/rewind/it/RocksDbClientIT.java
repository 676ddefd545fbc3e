package io.rewind.it;

/** The client contract against a server on its default engine, RocksDB. */
class RocksDbClientIT extends ClientContractIT {
    @Override
    String storage() {
        return "rocksdb";
    }
}
