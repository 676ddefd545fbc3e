package io.rewind.server.config;

/** The server's version, from the jar manifest ("dev" when run from classes). */
public final class ServerVersion {
    private ServerVersion() {}

    public static String get() {
        String version = ServerVersion.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }
}
