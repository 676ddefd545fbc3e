package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.rocksdb.RocksDB;

/**
 * RocksJava's gaps that shaped how the server recovers from a full disk (RocksDbStorage), kept as
 * tests so that an upgrade that mends them is noticed. RocksJava has no {@code DB::Resume()}: a
 * database that stays stopped after a background error (a flush that failed while RocksDB recovered
 * from running out of space) can only be closed and opened again, which is what the server does.
 */
class RocksJavaFlawsIT {
    @Test
    void rocksJavaHasNoWayToResumeAStoppedDatabase() {
        assertThatThrownBy(() -> RocksDB.class.getMethod("resume")).isInstanceOf(NoSuchMethodException.class);
    }
}
