package io.rewind.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.zeromq.ZCert;

class AuthorizedKeysTest {
    private static final Path FILE = Path.of("/etc/rewind/authorized_keys");
    private final String alice = new ZCert().getPublicKeyAsZ85();
    private final String bob = new ZCert().getPublicKeyAsZ85();

    @Test
    void readsNamesKeysAndPermissionsWithComments() {
        AuthorizedKeys keys = AuthorizedKeys.parse(FILE, List.of(
                "# who may connect",
                "",
                "  alice " + alice + " read=* write=* admin   # the operator",
                "bob\t" + bob + " read=order-,invoice- write=order-"));

        assertThat(keys.size()).isEqualTo(2);
        AuthorizedKeys.Grant a = keys.forKey(alice);
        assertThat(a.name()).isEqualTo("alice");
        assertThat(a.admin()).isTrue();
        assertThat(a.readsEverything()).isTrue();
        assertThat(a.canWrite("anything")).isTrue();
        AuthorizedKeys.Grant b = keys.forKey(bob);
        assertThat(b.canRead("order-1")).isTrue();
        assertThat(b.canRead("invoice-7")).isTrue();
        assertThat(b.canRead("customer-1")).isFalse();
        assertThat(b.canWrite("order-1")).isTrue();
        assertThat(b.canWrite("invoice-7")).isFalse();
        assertThat(b.readsEverything()).isFalse();
        assertThat(b.admin()).isFalse();
        assertThat(b.describe()).isEqualTo("read=order-,invoice- write=order-");
        assertThat(keys.forKey(new ZCert().getPublicKeyAsZ85())).isNull();
    }

    @Test
    void aHashInsideAKeyIsPartOfTheKey() {
        // Z85 has '#' in its alphabet, though never first (it would encode more than 32 bits): only a line, or a
        // word after the key, that starts with '#' is a comment.
        String key = alice;
        while (!key.contains("#")) {
            key = new ZCert().getPublicKeyAsZ85();
        }
        AuthorizedKeys keys = AuthorizedKeys.parse(FILE, List.of("carol " + key + " read=x #comment"));
        assertThat(keys.forKey(key).name()).isEqualTo("carol");
        assertThat(keys.forKey(key).describe()).isEqualTo("read=x");
    }

    @Test
    void aBadLineIsNamedWithWhatIsWrong() {
        assertRejected(List.of("alice"), "line 1", "expected NAME PUBLIC_KEY_Z85 PERMISSION...");
        assertRejected(List.of("# c", "alice " + alice), "line 2", "'alice' has no permission");
        assertRejected(List.of("alice " + alice + " # all"), "line 1", "no permission");
        assertRejected(List.of("alice short read=*"), "line 1", "public key of 'alice'", "40");
        assertRejected(List.of("alice " + alice + " read=* delete"), "unknown permission 'delete'");
        assertRejected(List.of("alice " + alice + " read="), "'read=' has an empty prefix");
        assertRejected(List.of("alice " + alice + " write=a,,b"), "empty prefix");
        assertRejected(List.of("al ice" + " " + alice + " read=*"), "line 1");
        assertRejected(List.of("-x " + alice + " read=*"), "'-x' is not a key name");
        assertRejected(List.of("alice " + alice + " read=*", "alice " + bob + " read=*"), "line 2",
                "name 'alice' is already used on line 1");
        assertRejected(List.of("alice " + alice + " read=*", "bob " + alice + " read=*"), "line 2",
                "already listed on line 1");
    }

    @Test
    void twoGrantsIntersectAsTheirStreamsDo() {
        String key = new org.zeromq.ZCert().getPublicKeyAsZ85();
        AuthorizedKeys.Grant old = AuthorizedKeys.parse(Path.of("keys"), List.of("k " + key
                + " read=orders-,invoices- write=* read-stream=audit admin")).forKey(key);
        AuthorizedKeys.Grant edited = AuthorizedKeys.parse(Path.of("keys"), List.of("k " + key
                + " read=orders-eu-,refunds- write=orders- read-stream=audit,secret")).forKey(key);
        AuthorizedKeys.Grant both = edited.intersect(old);
        assertThat(both.canRead("orders-eu-1")).isTrue();
        assertThat(both.canRead("orders-us-1")).as("removed by the edit").isFalse();
        assertThat(both.canRead("refunds-1")).as("added by the edit").isFalse();
        assertThat(both.canRead("invoices-1")).isFalse();
        assertThat(both.canWrite("orders-1")).isTrue();
        assertThat(both.canWrite("invoices-1")).isFalse();
        assertThat(both.canRead("audit")).isTrue();
        assertThat(both.canRead("secret")).isFalse();
        assertThat(both.admin()).isFalse();
        assertThat(old.intersect(old).describe()).isEqualTo(old.describe());
    }

    private static void assertRejected(List<String> lines, String... mentions) {
        assertThatThrownBy(() -> AuthorizedKeys.parse(FILE, lines)).isInstanceOf(IllegalArgumentException.class)
                .message().contains(FILE.toString()).contains(mentions);
    }
}
