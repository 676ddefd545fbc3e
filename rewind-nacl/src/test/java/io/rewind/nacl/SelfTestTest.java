package io.rewind.nacl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;

import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The start-up self-test passes on rewind-nacl and refuses jnacl's classes of the same names. */
class SelfTestTest {
    @Test
    void rewindsCipherPasses() {
        assertThatNoException().isThrownBy(SelfTest::check);
        assertThatNoException().isThrownBy(SelfTest::check);
    }

    @Test
    void jnaclFirstOnTheClassPathIsRefusedWithWhatToDo() throws Exception {
        URL jnacl = Path.of(System.getProperty("jnacl.jar", "target/jnacl/jnacl.jar")).toUri().toURL();
        URL ours = SelfTest.class.getProtectionDomain().getCodeSource().getLocation();
        // As an application's class path would be with jnacl's jar before rewind-nacl's.
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jnacl, ours}, null)) {
            Class<?> selfTest = loader.loadClass(SelfTest.class.getName());
            Throwable thrown = null;
            try {
                selfTest.getMethod("check").invoke(null);
            } catch (InvocationTargetException e) {
                thrown = e.getCause();
            }
            assertThat(thrown).isInstanceOf(IllegalStateException.class);
            assertThat(thrown.getMessage()).contains("jnacl.jar").contains("exclude it")
                    .contains("last byte is wrong");
        }
    }
}
