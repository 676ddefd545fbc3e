package io.rewind.server.security;

import io.rewind.server.core.ErrorCode;
import io.rewind.server.core.RequestException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may do what: the authorized keys of {@code --authorized-keys}, read again within a second of
 * each change, and the checks every request passes. A request names its key by the public key (Z85)
 * that the ZAP handler gave its connection as ZeroMQ's User-Id; the grant is looked up per request,
 * so a changed or removed key takes effect on the next request of its open connections too.
 */
public final class AccessControl implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AccessControl.class);
    /** How often the file is read for changes. */
    static final long RELOAD_MILLIS = 1_000;

    /** No CURVE: every connection may do everything. */
    public static final AccessControl OPEN = new AccessControl(null, null);

    private final Path file;
    private final ScheduledExecutorService reloader;
    private volatile AuthorizedKeys keys;
    private byte[] lastContent;
    /** Why the file's content, as last read, does not parse; null when it does. */
    private volatile String error;
    /** Why the file could not be read at the last look; null when it could. */
    private volatile String readError;
    private volatile Runnable feedRevoked;
    private volatile Runnable onFailure = () -> {};

    private AccessControl(Path file, AuthorizedKeys keys) {
        this.file = file;
        this.keys = keys;
        this.reloader = file == null ? null : Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "rewind-authorized-keys");
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Reads the file and watches it for changes; throws {@link IllegalArgumentException} naming the file
     * and line when it cannot be used.
     */
    public static AccessControl watch(Path file) {
        byte[] content = read(file);
        AccessControl access = new AccessControl(file, parse(file, content));
        access.lastContent = content;
        access.reloader.scheduleWithFixedDelay(access::reloadIfChanged, RELOAD_MILLIS, RELOAD_MILLIS,
                TimeUnit.MILLISECONDS);
        log.info("Authorized keys: {} from {}, read again within {} ms of a change", access.keys.size(), file,
                RELOAD_MILLIS);
        return access;
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the authorized keys file " + file + ": "
                    + e.getClass().getSimpleName() + " " + e.getMessage(), e);
        }
    }

    private static AuthorizedKeys parse(Path file, byte[] content) {
        return AuthorizedKeys.parse(file, lines(content));
    }

    /**
     * Reads the file again if it changed. An edit that does not parse revokes every key that no parseable line
     * lists any longer and grants nothing new ({@link AuthorizedKeys#restrictTo}); the file is in error, as the log,
     * {@code /health/ready} and a metric say, until it parses. A file that cannot be read leaves the list as it was,
     * in error too.
     */
    void reloadIfChanged() {
        byte[] content;
        try {
            content = read(file);
        } catch (IllegalArgumentException e) {
            if (readError == null || !readError.equals(e.getMessage())) {
                log.error("Authorized keys not changed, the previous {} keys stay in force: {}", keys.size(),
                        e.getMessage());
                readError = e.getMessage();
                onFailure.run();
            }
            return;
        }
        if (readError != null) {
            log.info("The authorized keys file {} can be read again", file);
            readError = null;
        }
        if (Arrays.equals(content, lastContent)) {
            return;
        }
        lastContent = content;
        AuthorizedKeys previous = keys;
        try {
            AuthorizedKeys reloaded = parse(file, content);
            keys = reloaded;
            error = null;
            log.info("Authorized keys changed: {} keys from {} now; new connections and the next request of open"
                    + " ones follow them", reloaded.size(), file);
        } catch (IllegalArgumentException e) {
            AuthorizedKeys restricted = previous.restrictTo(lines(content));
            keys = restricted;
            error = e.getMessage();
            onFailure.run();
            log.error("Authorized keys file does not parse: {}. Until it does, only the {} keys that a parseable line"
                    + " still lists stay in force (none gains a permission); {} revoked", e.getMessage(),
                    restricted.size(), previous.size() - restricted.size());
        } catch (RuntimeException e) {
            error = e.toString();
            onFailure.run();
            log.error("Authorized keys not changed, the previous {} keys stay in force", keys.size(), e);
        }
        if (feedRevoked != null && lostFeed(previous, keys)) {
            feedRevoked.run();
        }
    }

    /** Whether a key that could read the live feeds before cannot now (removed, or without read=* now). */
    private static boolean lostFeed(AuthorizedKeys before, AuthorizedKeys after) {
        for (AuthorizedKeys.Grant grant : before.grants()) {
            if (grant.readsEverything()) {
                AuthorizedKeys.Grant now = after.forKey(grant.publicKey());
                if (now == null || !now.readsEverything()) {
                    return true;
                }
            }
        }
        return false;
    }

    private static List<String> lines(byte[] content) {
        return List.of(new String(content, StandardCharsets.UTF_8).split("\r?\n", -1));
    }

    /**
     * Called, on the reloading thread, when a change takes the live feeds from a key that had them: its open
     * feed connections must be cut (a PUB socket checks a key only in the handshake).
     */
    public void onFeedRevoked(Runnable action) {
        this.feedRevoked = action;
    }

    /** Called, on the reloading thread, each time a read of the file fails to parse or to read. */
    public void onReloadFailure(Runnable action) {
        this.onFailure = action;
    }

    /** Why the file is in error now (it could not be read at the last look, or what it holds does not parse), or null. */
    public String reloadError() {
        String unreadable = readError;
        return unreadable != null ? unreadable : error;
    }

    /** What an operator must be told while the file is in error, and what is in force meanwhile; null when it is not. */
    public String reloadWarning() {
        String unreadable = readError;
        if (unreadable != null) {
            return "the authorized keys file cannot be read, the keys read last stay in force: " + unreadable;
        }
        String broken = error;
        return broken == null ? null : "the authorized keys file does not parse, only the keys still listed on lines"
                + " that parse stay in force: " + broken;
    }

    /** Whether CURVE and permissions are on. */
    public boolean enabled() {
        return file != null;
    }

    /** The grant of this public key (Z85) now, or null when it is not listed. */
    public AuthorizedKeys.Grant grant(String publicKey) {
        return publicKey == null ? null : keys.forKey(publicKey);
    }

    /** Whether the key may read the stream now (always without CURVE); false for a key no longer listed. */
    public boolean canRead(String publicKey, String stream) {
        if (!enabled()) {
            return true;
        }
        AuthorizedKeys.Grant grant = grant(publicKey);
        return grant != null && grant.canRead(stream);
    }

    /** Throws PERMISSION_DENIED when the request's key is no longer listed (its connection predates the change). */
    public void checkListed(String publicKey) {
        if (enabled()) {
            known(publicKey);
        }
    }

    /** Throws PERMISSION_DENIED unless the request's key may append to the stream. */
    public void checkWrite(String publicKey, String stream) {
        if (enabled() && !known(publicKey).canWrite(stream)) {
            throw denied(publicKey, "append to stream '" + stream + "'");
        }
    }

    /** Throws PERMISSION_DENIED unless the request's key may read the stream. */
    public void checkRead(String publicKey, String stream) {
        if (enabled() && !known(publicKey).canRead(stream)) {
            throw denied(publicKey, "read stream '" + stream + "'");
        }
    }

    /** Throws PERMISSION_DENIED unless the request's key reads every stream, as the global log holds them all. */
    public void checkReadAll(String publicKey, String what) {
        if (enabled() && !known(publicKey).readsEverything()) {
            throw denied(publicKey, what + " (it spans every stream: only a key with read=* may)");
        }
    }

    /** Whether the key reads every stream or is an admin (always without CURVE); false for a key no longer listed. */
    public boolean mayReadAllOrAdmin(String publicKey) {
        if (!enabled()) {
            return true;
        }
        AuthorizedKeys.Grant grant = grant(publicKey);
        return grant != null && (grant.readsEverything() || grant.admin());
    }

    /** Throws PERMISSION_DENIED unless the request's key is an admin. */
    public void checkAdmin(String publicKey, String operation) {
        if (enabled() && !known(publicKey).admin()) {
            throw denied(publicKey, operation + " (admin only)");
        }
    }

    private AuthorizedKeys.Grant known(String publicKey) {
        AuthorizedKeys.Grant grant = grant(publicKey);
        if (grant == null) {
            throw RequestException.of(ErrorCode.PERMISSION_DENIED, "the key " + publicKey + " is no longer in the"
                    + " authorized keys; nothing was done");
        }
        return grant;
    }

    private RequestException denied(String publicKey, String what) {
        AuthorizedKeys.Grant grant = known(publicKey);
        return RequestException.of(ErrorCode.PERMISSION_DENIED, "key '" + grant.name() + "' may not " + what
                + "; its permissions: " + grant.describe() + ". Nothing was done");
    }

    @Override
    public void close() {
        if (reloader != null) {
            reloader.shutdownNow();
        }
    }
}
