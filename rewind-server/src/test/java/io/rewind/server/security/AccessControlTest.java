package io.rewind.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rewind.server.core.ErrorCode;
import io.rewind.server.core.RequestException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.ZCert;

class AccessControlTest {
    @TempDir
    Path tmp;

    private final String admin = new ZCert().getPublicKeyAsZ85();
    private final String orders = new ZCert().getPublicKeyAsZ85();

    @Test
    void eachCheckDeniesWithTheKeyAndTheStream() throws Exception {
        try (AccessControl access = watch("ops " + admin + " read=* write=* admin",
                "orders " + orders + " read=order- write=order-")) {
            access.checkWrite(orders, "order-1");
            access.checkRead(orders, "order-1");
            access.checkReadAll(admin, "read the global log");
            access.checkAdmin(admin, "take a backup");

            assertDenied(() -> access.checkWrite(orders, "invoice-1"), "key 'orders' may not append to stream"
                    + " 'invoice-1'", "read=order- write=order-");
            assertDenied(() -> access.checkRead(orders, "invoice-1"), "key 'orders' may not read stream 'invoice-1'");
            assertDenied(() -> access.checkReadAll(orders, "read the global log"), "only a key with read=*");
            assertDenied(() -> access.checkAdmin(orders, "take a backup"), "admin only");
            assertDenied(() -> access.checkRead(null, "order-1"), "no longer in the authorized keys");
        }
    }

    @Test
    void withoutCurveEverythingIsAllowed() {
        AccessControl.OPEN.checkWrite(null, "any");
        AccessControl.OPEN.checkReadAll(null, "read the global log");
        AccessControl.OPEN.checkAdmin(null, "take a backup");
        assertThat(AccessControl.OPEN.enabled()).isFalse();
    }

    @Test
    void aChangedFileTakesEffectAndABrokenOneRevokesButNeverGrants() throws Exception {
        String third = new ZCert().getPublicKeyAsZ85();
        try (AccessControl access = watch("ops " + admin + " read=* admin")) {
            List<Integer> failures = new java.util.ArrayList<>();
            List<Integer> feedCuts = new java.util.ArrayList<>();
            access.onReloadFailure(() -> failures.add(1));
            access.onFeedRevoked(() -> feedCuts.add(1));
            assertThat(access.grant(orders)).isNull();

            write("ops " + admin + " read=* admin", "orders " + orders + " read=order-", "third " + third + " read=*");
            access.reloadIfChanged();
            assertThat(access.grant(orders).canRead("order-9")).isTrue();
            assertThat(access.reloadError()).isNull();

            // The operator removes 'third', narrows 'orders', widens 'ops'... and a typo on another line.
            write("ops " + admin + " read=* write=* admin", "orders " + orders + " read=order-1", "bad line fly");
            access.reloadIfChanged();
            assertThat(access.reloadError()).contains("line 3");
            assertThat(access.reloadWarning()).startsWith("the authorized keys file does not parse, only the keys"
                    + " still listed on lines that parse stay in force").contains("line 3");
            assertThat(failures).hasSize(1);
            assertThat(access.grant(third)).as("removed despite the typo").isNull();
            assertThat(feedCuts).as("third read the feed").hasSize(1);
            assertThat(access.grant(orders).canRead("order-1")).as("narrowed at once").isTrue();
            assertThat(access.grant(orders).canRead("order-2")).isFalse();
            assertThat(access.grant(admin).canWrite("x")).as("no new grant from a broken file").isFalse();
            assertThat(access.grant(admin).admin()).isTrue();

            write("ops " + admin + " read=* write=* admin", "orders " + orders + " read=order-1");
            access.reloadIfChanged();
            assertThat(access.reloadError()).as("fixed").isNull();
            assertThat(access.grant(admin).canWrite("x")).isTrue();

            write("orders " + orders + " read=order-");
            access.reloadIfChanged();
            assertThat(access.grant(admin)).as("removed").isNull();
            assertThat(feedCuts).hasSize(2);
            assertDenied(() -> access.checkAdmin(admin, "take a backup"), "no longer in the authorized keys");

            write("orders " + orders + " read-stream=order-1 write-stream=order-1");
            access.reloadIfChanged();
            assertThat(access.canRead(orders, "order-1")).isTrue();
            assertThat(access.canRead(orders, "order-10")).as("an exact name is no prefix").isFalse();
            assertDenied(() -> access.checkWrite(orders, "order-10"), "write-stream=order-1");
            assertThat(feedCuts).as("a key without the feed lost nothing of it").hasSize(2);
        }
    }

    @Test
    void aFileThatCannotBeReadIsAnErrorUntilItCanAgain() throws Exception {
        try (AccessControl access = watch("ops " + admin + " read=* admin")) {
            Path file = tmp.resolve("authorized_keys");
            Path aside = tmp.resolve("aside");
            Files.move(file, aside);
            access.reloadIfChanged();
            assertThat(access.reloadError()).contains("cannot read the authorized keys file");
            assertThat(access.reloadWarning()).startsWith("the authorized keys file cannot be read, the keys read last"
                    + " stay in force");
            assertThat(access.grant(admin)).as("the list as it was").isNotNull();
            Files.move(aside, file);
            access.reloadIfChanged();
            assertThat(access.reloadError()).as("the same content, readable again").isNull();
        }
    }

    @Test
    void serverCountsAreForReadAllOrAdmin() throws Exception {
        String writer = new ZCert().getPublicKeyAsZ85();
        try (AccessControl access = watch("ops " + admin + " admin", "reader " + orders + " read=*",
                "writer " + writer + " write=*")) {
            assertThat(access.mayReadAllOrAdmin(admin)).isTrue();
            assertThat(access.mayReadAllOrAdmin(orders)).isTrue();
            assertThat(access.mayReadAllOrAdmin(writer)).isFalse();
            assertThat(AccessControl.OPEN.mayReadAllOrAdmin(null)).isTrue();
        }
    }

    @Test
    void theWatcherReadsTheFileAgainWithinSeconds() throws Exception {
        try (AccessControl access = watch("ops " + admin + " read=*")) {
            write("ops " + admin + " read=*", "orders " + orders + " write=order-");
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (access.grant(orders) == null && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(access.grant(orders)).as("reloaded by the watcher").isNotNull();
        }
    }

    private AccessControl watch(String... lines) throws Exception {
        write(lines);
        return AccessControl.watch(tmp.resolve("authorized_keys"));
    }

    private void write(String... lines) throws Exception {
        Files.write(tmp.resolve("authorized_keys"), List.of(lines));
    }

    private static void assertDenied(Runnable check, String... mentions) {
        assertThatThrownBy(check::run).isInstanceOfSatisfying(RequestException.class,
                e -> assertThat(e.error().code()).isEqualTo(ErrorCode.PERMISSION_DENIED)).message().contains(mentions);
    }
}
