package io.rewind.server.config;

import io.rewind.server.core.Limits;
import io.rewind.server.core.RequestException;
import io.rewind.server.core.StreamNames;
import io.rewind.server.security.AuthorizedKeys;
import io.rewind.server.security.CurveKeyPair;
import io.rewind.server.security.RaftTls;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * Every server option: one name, one default, one validator. Each option can also be given in the
 * properties file named by {@code --config}, under its name without the leading dashes; the command
 * line wins over the file.
 */
@Command(name = "rewind-server", mixinStandardHelpOptions = true, sortOptions = false,
        versionProvider = ServerOptions.Version.class,
        description = "Rewind: an event store server that talks ZeroMQ.",
        footer = {"", "Sizes take an optional unit: 512, 64KiB, 16MiB, 1GiB (also K, M, G; powers of 1024)."})
public final class ServerOptions {
    /** Protobuf bytes around one event of an append, at most: field tags, lengths and the 16-byte id. */
    static final int EVENT_FRAMING_BYTES = 64;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Properties file with any of these options as key=value (e.g. data-dir=/var/lib/rewind).")
    Path config;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "./rewind-data",
            description = "Directory of the RocksDB store (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--storage", paramLabel = "ENGINE", defaultValue = "rocksdb",
            converter = EngineConverter.class,
            description = "Storage engine: rocksdb or memory (default: ${DEFAULT-VALUE}).")
    ServerConfig.StorageEngine storage;

    @Option(names = "--min-free-space", paramLabel = "SIZE", defaultValue = "512MiB", converter = SizeConverter.class,
            description = "Free space kept on the data directory's disk: below it, appends get UNAVAILABLE, so that"
                    + " the store can always restart and compact; 0 turns the check off (default: ${DEFAULT-VALUE}).")
    long minFreeSpace;

    @Option(names = "--memory-limit", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Most heap the memory engine's events may take; beyond it, appends get UNAVAILABLE and"
                    + " reads go on (default: half the JVM's maximum heap).")
    Long memoryLimit;

    private static final String DEFAULT_COMMAND_ENDPOINT = "tcp://127.0.0.1:9090";

    @Option(names = "--command-endpoint", paramLabel = "ENDPOINT", defaultValue = DEFAULT_COMMAND_ENDPOINT,
            description = "Where the command ROUTER socket binds (default: ${DEFAULT-VALUE}; in a replicated group, this"
                    + " member's endpoint in --peers). tcp://HOST:* picks a free port.")
    String commandEndpoint;

    @Option(names = "--stream-endpoint", paramLabel = "ENDPOINT", defaultValue = "tcp://127.0.0.1:9091",
            description = "Where the live-feed PUB socket binds (default: ${DEFAULT-VALUE}).")
    String streamEndpoint;

    @Option(names = "--fsync", paramLabel = "MODE", defaultValue = "always", converter = FsyncConverter.class,
            description = "always: acknowledge appends once synced to disk; never: once written to the OS"
                    + " (default: ${DEFAULT-VALUE}).")
    ServerConfig.FsyncMode fsync;

    @Option(names = "--max-message-size", paramLabel = "SIZE", defaultValue = "64MiB", converter = SizeConverter.class,
            description = "Largest request message; larger ones are dropped by ZeroMQ before being buffered"
                    + " (default: ${DEFAULT-VALUE}).")
    long maxMessageSize;

    @Option(names = "--max-event-size", paramLabel = "SIZE", defaultValue = "1MiB", converter = SizeConverter.class,
            description = "Largest event: type, data and metadata together (default: ${DEFAULT-VALUE}).")
    long maxEventSize;

    @Option(names = "--max-events-per-append", paramLabel = "N", defaultValue = "10000",
            description = "Most events in one append (default: ${DEFAULT-VALUE}).")
    int maxEventsPerAppend;

    @Option(names = "--max-append-size", paramLabel = "SIZE", defaultValue = "16MiB", converter = SizeConverter.class,
            description = "Largest append, all its events together (default: ${DEFAULT-VALUE}).")
    long maxAppendSize;

    @Option(names = "--max-tags-per-event", paramLabel = "N", defaultValue = "32",
            description = "Most tags on one event (default: ${DEFAULT-VALUE}).")
    int maxTagsPerEvent;

    @Option(names = "--max-tag-size", paramLabel = "BYTES", defaultValue = "255",
            description = "Longest tag in UTF-8 bytes, at most 65535 (default: ${DEFAULT-VALUE}).")
    int maxTagSize;

    @Option(names = "--max-stream-name-size", paramLabel = "BYTES", defaultValue = "255",
            description = "Longest stream name in UTF-8 bytes, at most 255 (default: ${DEFAULT-VALUE}).")
    int maxStreamNameSize;

    @Option(names = "--max-read-page", paramLabel = "N", defaultValue = "4096",
            description = "Most events in one read reply (default: ${DEFAULT-VALUE}).")
    int maxReadPage;

    @Option(names = "--max-read-page-size", paramLabel = "SIZE", defaultValue = "4MiB", converter = SizeConverter.class,
            description = "Largest read reply, in event bytes; a reply always holds at least one event"
                    + " (default: ${DEFAULT-VALUE}).")
    long maxReadPageSize;

    @Option(names = "--queue-capacity", paramLabel = "N", defaultValue = "10000",
            description = "Most appends waiting to be committed; beyond it appends get UNAVAILABLE"
                    + " (default: ${DEFAULT-VALUE}).")
    int queueCapacity;

    @Option(names = "--feed-high-water-mark", paramLabel = "N", defaultValue = "100000",
            description = "Live-feed messages queued per subscriber before ZeroMQ drops for it"
                    + " (default: ${DEFAULT-VALUE}).")
    int feedHighWaterMark;

    @Option(names = "--http-endpoint", paramLabel = "HOST:PORT",
            description = "Where /metrics, /health/live and /health/ready are served over HTTP (off unless set; port 0"
                    + " picks a free one).")
    String httpEndpoint;

    @Option(names = "--node-id", paramLabel = "ID",
            description = "This server's id in --peers (replicated groups only).")
    String nodeId;

    @Option(names = "--peers", paramLabel = "ID@RAFT_HOST:PORT@COMMAND_ENDPOINT,...",
            description = "Every member of the replicated group, this server included, the same list on every member,"
                    + " e.g. n1@10.0.0.1:7001@tcp://10.0.0.1:9090,n2@10.0.0.2:7001@tcp://10.0.0.2:9090,... Appends are"
                    + " acknowledged once a majority has them on disk. Off unless set: the server runs alone.")
    String peers;

    @Option(names = "--cleanup-interval", paramLabel = "SECONDS", defaultValue = "10",
            description = "How often the background cleanup removes from the disk what deleted, truncated and expired"
                    + " streams hide, and compacts erased events away (RocksDB; default: ${DEFAULT-VALUE}).")
    double cleanupIntervalSeconds;

    @Option(names = "--cleanup-rate", paramLabel = "EVENTS", defaultValue = "50000",
            description = "Most events the cleanup removes per second, so that appends keep their pace"
                    + " (default: ${DEFAULT-VALUE}).")
    long cleanupRate;

    @Option(names = "--snapshot-interval", paramLabel = "ENTRIES", defaultValue = "50000",
            description = "In a replicated group: Raft log entries (group commits) applied between two snapshots of the"
                    + " store, after each of which the log is purged; a member behind the purged log gets the leader's"
                    + " snapshot (default: ${DEFAULT-VALUE}).")
    long snapshotInterval;

    @Option(names = "--raft-segment-size", paramLabel = "SIZE", defaultValue = "32MiB", converter = SizeConverter.class,
            description = "In a replicated group: size of a Raft log segment file; the log is purged a whole segment"
                    + " at a time (default: ${DEFAULT-VALUE}).")
    long raftSegmentSize;

    @Option(names = "--backup-root", paramLabel = "DIR",
            description = "The only directory under which an admin's backup request may write (off unless set: any"
                    + " absolute path outside the data directory that the server's user may write).")
    Path backupRoot;

    @Option(names = "--raft-tls", paramLabel = "FILE",
            description = "In a replicated group: mutual TLS on the Raft port, with this member's key and certificate"
                    + " (PEM, the file `rewind raft-keygen` writes, shared by the group's members). A member accepts only"
                    + " peers that present a trusted certificate (off unless set: plain text, loopback only unless"
                    + " --raft-network-is-private).")
    Path raftTls;

    @Option(names = "--raft-tls-trusted", paramLabel = "FILE",
            description = "The certificates (PEM) of every member, when each has a key of its own (default: the"
                    + " certificate in --raft-tls alone, the group sharing one key).")
    Path raftTlsTrusted;

    @Option(names = "--raft-network-is-private", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            description = "Lets a member run its Raft port in plain text on an address beyond loopback: only for a"
                    + " network that no one else reaches, since anyone who reaches the port can write to the group."
                    + " Use --raft-tls instead wherever you can.")
    boolean raftNetworkIsPrivate;

    @Option(names = "--curve-secret-key-file", paramLabel = "FILE",
            description = "The server's CurveZMQ key pair, a ZeroMQ certificate (the NAME_secret file of `rewind keygen`,"
                    + " czmq's zcert or JeroMQ's ZCert). Every endpoint then speaks CURVE only, to the keys of"
                    + " --authorized-keys (off unless set: plain text).")
    Path curveSecretKeyFile;

    @Option(names = "--authorized-keys", paramLabel = "FILE",
            description = "The client keys that may connect with CURVE, one per line: NAME PUBLIC_KEY_Z85 PERMISSION...,"
                    + " a permission being read=PREFIX[,PREFIX...], write=PREFIX[,PREFIX...] or admin (* as a prefix:"
                    + " every stream); # starts a comment. Read again within a second of a change.")
    Path authorizedKeys;

    @Option(names = "--legacy-query-endpoint", paramLabel = "ENDPOINT",
            description = "Where the original Rewind protocol's request/reply socket binds (off unless set).")
    String legacyQueryEndpoint;

    @Option(names = "--legacy-stream-endpoint", paramLabel = "ENDPOINT",
            description = "Where the original Rewind protocol's PUB socket binds (off unless set).")
    String legacyStreamEndpoint;

    @Option(names = "--legacy-stream", paramLabel = "NAME", defaultValue = "legacy",
            description = "The stream that a legacy PUBLISH appends to (default: ${DEFAULT-VALUE}).")
    String legacyStream;

    /**
     * Parses the command line (and the --config file it names) into a configuration.
     *
     * @return null when --help or --version was asked for and printed
     * @throws ParameterException naming the option and value that are wrong
     */
    public static ServerConfig parse(String... args) {
        ServerOptions options = new ServerOptions();
        CommandLine commandLine = new CommandLine(options).setCaseInsensitiveEnumValuesAllowed(true);
        Path configFile = findConfigArgument(args);
        if (configFile != null) {
            commandLine.setDefaultValueProvider(new FileDefaults(commandLine, configFile));
        }
        commandLine.parseArgs(args);
        if (commandLine.isUsageHelpRequested()) {
            commandLine.usage(System.out);
            return null;
        }
        if (commandLine.isVersionHelpRequested()) {
            commandLine.printVersionHelp(System.out);
            return null;
        }
        return options.validate(commandLine);
    }

    /** The usage text, for error messages. */
    public static String usageHint() {
        return "Try 'java -jar rewind-server.jar --help' for the options.";
    }

    private ServerConfig validate(CommandLine commandLine) {
        // A member binds its command endpoint where --peers says clients reach it, unless told otherwise.
        if (peers != null && !commandLine.getParseResult().hasMatchedOption("--command-endpoint")
                && DEFAULT_COMMAND_ENDPOINT.equals(commandEndpoint)) {
            try {
                commandEndpoint = ClusterConfig.parse(nodeId, peers, snapshotInterval, raftSegmentSize).self().commandEndpoint();
            } catch (IllegalArgumentException e) {
                throw new ParameterException(commandLine, e.getMessage());
            }
        }
        checkEndpoint(commandLine, "--command-endpoint", commandEndpoint);
        checkEndpoint(commandLine, "--stream-endpoint", streamEndpoint);
        Map<String, String> endpoints = new LinkedHashMap<>();
        endpoints.put("--command-endpoint", commandEndpoint);
        endpoints.put("--stream-endpoint", streamEndpoint);
        if (legacyQueryEndpoint != null) {
            checkEndpoint(commandLine, "--legacy-query-endpoint", legacyQueryEndpoint);
            endpoints.put("--legacy-query-endpoint", legacyQueryEndpoint);
        }
        if (legacyStreamEndpoint != null) {
            checkEndpoint(commandLine, "--legacy-stream-endpoint", legacyStreamEndpoint);
            endpoints.put("--legacy-stream-endpoint", legacyStreamEndpoint);
        }
        Map<String, String> seen = new LinkedHashMap<>();
        for (Map.Entry<String, String> endpoint : endpoints.entrySet()) {
            String other = seen.put(endpoint.getValue(), endpoint.getKey());
            if (other != null && !endpoint.getValue().endsWith(":*")) {
                throw new ParameterException(commandLine, other + " and " + endpoint.getKey()
                        + " must differ, both are " + endpoint.getValue());
            }
        }
        try {
            StreamNames.validate(legacyStream, Limits.STREAM_NAME_BYTES_CAP);
        } catch (RequestException e) {
            throw new ParameterException(commandLine, "Invalid value for option '--legacy-stream': " + e.getMessage());
        }
        checkRange(commandLine, "--max-event-size", maxEventSize, 1, 1L << 30);
        checkRange(commandLine, "--max-events-per-append", maxEventsPerAppend, 1, 1_000_000);
        checkRange(commandLine, "--max-append-size", maxAppendSize, maxEventSize, 1L << 30);
        // The largest valid append must fit in a message: its events' bytes, the protobuf framing of each
        // event (id, type, data and metadata fields: at most 64 bytes) and the rest of the request.
        checkRange(commandLine, "--max-tags-per-event", maxTagsPerEvent, 0, 10_000);
        checkRange(commandLine, "--max-tag-size", maxTagSize, 1, Limits.TAG_BYTES_CAP);
        // Tags and the streams of a multi-stream append count, framing included, in the append's size.
        long largestAppendMessage = maxAppendSize + (long) maxEventsPerAppend * EVENT_FRAMING_BYTES + (64 << 10);
        if (maxMessageSize < largestAppendMessage) {
            throw new ParameterException(commandLine, "Invalid value for option '--max-message-size': "
                    + maxMessageSize + " is too small for the largest append the other limits allow (--max-append-size "
                    + maxAppendSize + " in up to --max-events-per-append " + maxEventsPerAppend + " events takes up to "
                    + largestAppendMessage + " bytes on the wire); ZeroMQ would drop it without a reply. Set at least "
                    + largestAppendMessage);
        }
        checkRange(commandLine, "--max-message-size", maxMessageSize, largestAppendMessage, 2L << 30);
        checkRange(commandLine, "--max-stream-name-size", maxStreamNameSize, 1, Limits.STREAM_NAME_BYTES_CAP);
        checkRange(commandLine, "--max-read-page", maxReadPage, 1, 1_000_000);
        checkRange(commandLine, "--max-read-page-size", maxReadPageSize, 1, 1L << 30);
        checkRange(commandLine, "--queue-capacity", queueCapacity, 1, 10_000_000);
        checkRange(commandLine, "--feed-high-water-mark", feedHighWaterMark, 1, 100_000_000);
        checkRange(commandLine, "--min-free-space", minFreeSpace, 0, 1L << 50);
        long heap = Runtime.getRuntime().maxMemory();
        long memory = memoryLimit != null ? memoryLimit : heap / 2;
        checkRange(commandLine, "--memory-limit", memory, 1L << 20, 1L << 50);
        Limits limits = new Limits(maxStreamNameSize, (int) maxEventSize, maxEventsPerAppend,
                maxAppendSize, maxReadPage, maxReadPageSize, maxTagsPerEvent, maxTagSize);
        ServerConfig.HttpEndpoint http = httpEndpoint == null ? null : parseHttp(commandLine, httpEndpoint);
        checkRange(commandLine, "--snapshot-interval", snapshotInterval, 100, 100_000_000);
        if (!(cleanupIntervalSeconds >= 0.1 && cleanupIntervalSeconds <= 86_400)) {
            throw new ParameterException(commandLine, "Invalid value for option '--cleanup-interval': "
                    + cleanupIntervalSeconds + " is outside 0.1 .. 86400 seconds");
        }
        checkRange(commandLine, "--cleanup-rate", cleanupRate, 100, 100_000_000);
        checkRange(commandLine, "--raft-segment-size", raftSegmentSize, 1L << 20, 1L << 30);
        ServerConfig.Curve curve = curve(commandLine);
        ClusterConfig cluster = cluster(commandLine);
        if (cluster != null) {
            cluster = raftSecurity(commandLine, cluster, curve != null);
        } else if (raftTls != null || raftTlsTrusted != null || raftNetworkIsPrivate) {
            throw new ParameterException(commandLine, "Options '--raft-tls', '--raft-tls-trusted' and"
                    + " '--raft-network-is-private' need '--peers': they secure a replicated group's Raft port");
        }
        return new ServerConfig(dataDir.toAbsolutePath().normalize(), storage, minFreeSpace, memory,
                commandEndpoint, streamEndpoint,
                fsync, maxMessageSize, limits, queueCapacity, feedHighWaterMark,
                new ServerConfig.Legacy(legacyQueryEndpoint, legacyStreamEndpoint, legacyStream), http, cluster,
                curve, new ServerConfig.Cleanup(java.time.Duration.ofMillis((long) (cleanupIntervalSeconds * 1000)),
                        cleanupRate), backupRoot(commandLine));
    }

    private Path backupRoot(CommandLine commandLine) {
        if (backupRoot == null) {
            return null;
        }
        Path root = backupRoot.toAbsolutePath().normalize();
        if (!Files.isDirectory(root)) {
            throw new ParameterException(commandLine, "Invalid value for option '--backup-root': " + root
                    + " is not a directory");
        }
        try {
            return root.toRealPath();
        } catch (IOException e) {
            throw new ParameterException(commandLine, "Invalid value for option '--backup-root': cannot resolve "
                    + root + ": " + e.getMessage());
        }
    }

    private ServerConfig.Curve curve(CommandLine commandLine) {
        if (curveSecretKeyFile == null) {
            if (authorizedKeys != null) {
                throw new ParameterException(commandLine, "Option '--authorized-keys' needs '--curve-secret-key-file':"
                        + " keys are checked in the CURVE handshake, and without a server key there is none");
            }
            return null;
        }
        if (authorizedKeys == null) {
            throw new ParameterException(commandLine, "Option '--curve-secret-key-file' needs '--authorized-keys': the"
                    + " list of client keys that may connect (without it every key would be let in)");
        }
        CurveKeyPair keys;
        try {
            keys = CurveKeyPair.load(curveSecretKeyFile);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(commandLine, "Invalid value for option '--curve-secret-key-file': "
                    + e.getMessage());
        }
        try {
            AuthorizedKeys.load(authorizedKeys);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(commandLine, "Invalid value for option '--authorized-keys': " + e.getMessage());
        }
        return new ServerConfig.Curve(curveSecretKeyFile.toAbsolutePath(), keys, authorizedKeys.toAbsolutePath());
    }

    /**
     * The Raft port's protection: mutual TLS with the group's key material, or plain text on loopback, or plain
     * text beyond it only when told that the network is private (and never with CURVE on, whose events would then
     * cross the network unencrypted).
     */
    private ClusterConfig raftSecurity(CommandLine commandLine, ClusterConfig cluster, boolean curveOn) {
        if (raftTls == null) {
            if (raftTlsTrusted != null) {
                throw new ParameterException(commandLine, "Option '--raft-tls-trusted' needs '--raft-tls': this"
                        + " member's own key and certificate");
            }
            if (cluster.loopbackOnly()) {
                return cluster;
            }
            ClusterConfig.Peer remote = cluster.peers().stream()
                    .filter(peer -> !Endpoints.isLoopbackHost(peer.raftHost())).findFirst().orElseThrow();
            String where = "member '" + remote.id() + "' has its Raft port on " + remote.raftHost()
                    + ", not a loopback address";
            if (curveOn) {
                throw new ParameterException(commandLine, "Option '--peers': " + where + ". With CURVE on, the Raft"
                        + " port needs '--raft-tls' (make the group's key material with `rewind raft-keygen`):"
                        + " without it, events would cross the network between members in plain text");
            }
            if (!raftNetworkIsPrivate) {
                throw new ParameterException(commandLine, "Option '--peers': " + where + ", and the Raft port has no"
                        + " TLS: anyone who reaches it could append to any stream. Give every member '--raft-tls'"
                        + " (make the group's key material with `rewind raft-keygen`), or, on a network no one else"
                        + " reaches, '--raft-network-is-private'");
            }
            return cluster;
        }
        try {
            return cluster.withTls(RaftTls.load(raftTls.toAbsolutePath(),
                    raftTlsTrusted == null ? null : raftTlsTrusted.toAbsolutePath()));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(commandLine, "Invalid value for option '"
                    + (raftTlsTrusted != null && e.getMessage().startsWith(raftTlsTrusted.toAbsolutePath().toString())
                            ? "--raft-tls-trusted" : "--raft-tls") + "': " + e.getMessage());
        }
    }

    private ClusterConfig cluster(CommandLine commandLine) {
        if (peers == null) {
            if (nodeId != null) {
                throw new ParameterException(commandLine, "Option '--node-id' needs '--peers': a server runs alone"
                        + " without them");
            }
            return null;
        }
        ClusterConfig cluster;
        try {
            cluster = ClusterConfig.parse(nodeId, peers, snapshotInterval, raftSegmentSize);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(commandLine, e.getMessage());
        }
        if (storage != ServerConfig.StorageEngine.ROCKSDB) {
            throw new ParameterException(commandLine, "Option '--peers' needs '--storage rocksdb': a member of a"
                    + " replicated group keeps its events and its Raft log on disk");
        }
        return cluster;
    }

    private static final Pattern ENDPOINT = Pattern.compile("(tcp)://(\\[[0-9a-fA-F:.]+]|[^:/\\s]+):(\\*|\\d{1,5})"
            + "|(ipc|inproc)://\\S+");

    private static void checkEndpoint(CommandLine commandLine, String option, String value) {
        Matcher matcher = ENDPOINT.matcher(value);
        boolean valid = matcher.matches();
        if (valid && matcher.group(3) != null && !matcher.group(3).equals("*")) {
            int port = Integer.parseInt(matcher.group(3));
            valid = port >= 1 && port <= 65535;
        }
        if (!valid) {
            throw new ParameterException(commandLine, "Invalid value for option '" + option + "': '" + value
                    + "' is not a ZeroMQ endpoint like tcp://127.0.0.1:9090, tcp://*:9090, tcp://127.0.0.1:*"
                    + " or ipc:///path");
        }
    }

    private static final Pattern HTTP = Pattern.compile("(\\[[0-9a-fA-F:.]+]|[^:/\\s\\[\\]]+):(\\d{1,5})");

    private static ServerConfig.HttpEndpoint parseHttp(CommandLine commandLine, String value) {
        Matcher matcher = HTTP.matcher(value);
        if (!matcher.matches() || Integer.parseInt(matcher.group(2)) > 65535) {
            throw new ParameterException(commandLine, "Invalid value for option '--http-endpoint': '" + value
                    + "' is not HOST:PORT like 127.0.0.1:9100, 0.0.0.0:9100 or 127.0.0.1:0 (a free port)");
        }
        String host = matcher.group(1);
        if (host.startsWith("[")) {
            host = host.substring(1, host.length() - 1);
        }
        return new ServerConfig.HttpEndpoint(host, Integer.parseInt(matcher.group(2)));
    }

    private static void checkRange(CommandLine commandLine, String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw new ParameterException(commandLine, "Invalid value for option '" + option + "': " + value
                    + " is outside the allowed range " + min + ".." + max);
        }
    }

    private static Path findConfigArgument(String... args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                return Path.of(args[i + 1]);
            }
            if (args[i].startsWith("--config=")) {
                return Path.of(args[i].substring("--config=".length()));
            }
        }
        return null;
    }

    /** Defaults taken from the properties file; unknown keys are errors, not silently ignored. */
    private static final class FileDefaults implements CommandLine.IDefaultValueProvider {
        private final Map<String, String> values = new LinkedHashMap<>();

        FileDefaults(CommandLine commandLine, Path file) {
            Properties properties = new Properties();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                properties.load(reader);
            } catch (IOException e) {
                throw new ParameterException(commandLine, "Cannot read the file of option '--config': " + file
                        + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
            }
            Set<String> known = new TreeSet<>();
            for (OptionSpec option : commandLine.getCommandSpec().options()) {
                known.add(option.longestName().substring(2));
            }
            known.removeAll(Set.of("config", "help", "version"));
            for (String key : properties.stringPropertyNames()) {
                if (!known.contains(key)) {
                    throw new ParameterException(commandLine, "Unknown option '" + key + "' in config file " + file
                            + "; known options: " + String.join(", ", known));
                }
                values.put(key, properties.getProperty(key).trim());
            }
        }

        @Override
        public String defaultValue(ArgSpec argSpec) {
            if (argSpec instanceof OptionSpec option) {
                String value = values.get(option.longestName().substring(2));
                if (value != null) {
                    return value;
                }
            }
            return argSpec.defaultValue();
        }
    }

    /** Parses sizes such as 512, 64KiB, 16MiB, 1G. */
    static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
        private static final Pattern SIZE = Pattern.compile("(\\d{1,12})\\s*([KMG]?)(I?B)?");

        @Override
        public Long convert(String value) {
            Matcher matcher = SIZE.matcher(value.trim().toUpperCase(Locale.ROOT));
            if (!matcher.matches()) {
                throw new CommandLine.TypeConversionException("'" + value
                        + "' is not a size such as 1048576, 1024KiB or 1MiB");
            }
            int shift = switch (matcher.group(2)) {
                case "K" -> 10;
                case "M" -> 20;
                case "G" -> 30;
                default -> 0;
            };
            return Long.parseLong(matcher.group(1)) << shift;
        }
    }

    static final class EngineConverter implements CommandLine.ITypeConverter<ServerConfig.StorageEngine> {
        @Override
        public ServerConfig.StorageEngine convert(String value) {
            return switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "rocksdb" -> ServerConfig.StorageEngine.ROCKSDB;
                case "memory" -> ServerConfig.StorageEngine.MEMORY;
                default -> throw new CommandLine.TypeConversionException("'" + value
                        + "' is not a storage engine; use rocksdb or memory");
            };
        }
    }

    static final class FsyncConverter implements CommandLine.ITypeConverter<ServerConfig.FsyncMode> {
        @Override
        public ServerConfig.FsyncMode convert(String value) {
            return switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "always" -> ServerConfig.FsyncMode.ALWAYS;
                case "never" -> ServerConfig.FsyncMode.NEVER;
                default -> throw new CommandLine.TypeConversionException("'" + value
                        + "' is not an fsync mode; use always or never");
            };
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"rewind-server " + ServerVersion.get()};
        }
    }
}
