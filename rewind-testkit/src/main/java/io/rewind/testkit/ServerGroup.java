package io.rewind.testkit;

import io.rewind.client.ReadOptions;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.ServerInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * A replicated group of real server processes on loopback ({@code --node-id} and {@code --peers}),
 * each on free ports with its own data directory under one directory: for tests and benchmarks of
 * failover. Members are {@link ServerProcess}es, so they can be killed, paused and restarted.
 */
public final class ServerGroup implements AutoCloseable {
    private final List<ServerProcess> members = new ArrayList<>();
    private final List<String> ids = new ArrayList<>();
    private final List<String> commandEndpoints = new ArrayList<>();
    private final String peers;
    private final Path directory;
    private final List<String> jvmOptions;
    /** What every client the group makes is built with beyond its endpoints: CURVE keys, say. */
    private volatile UnaryOperator<RewindClient.Builder> clientOptions = UnaryOperator.identity();

    private ServerGroup(Path directory, int size, List<String> jvmOptions) {
        this.directory = directory;
        this.jvmOptions = List.copyOf(jvmOptions);
        List<String> entries = new ArrayList<>();
        List<Integer> ports = freePorts(2 * size);
        for (int i = 0; i < size; i++) {
            String id = "n" + (i + 1);
            String command = "tcp://127.0.0.1:" + ports.get(2 * i);
            ids.add(id);
            commandEndpoints.add(command);
            entries.add(id + "@127.0.0.1:" + ports.get(2 * i + 1) + "@" + command);
        }
        peers = String.join(",", entries);
    }

    /**
     * Starts every member at once and waits until each is ready.
     *
     * @param directory where the members' data directories go, one per member id (n1, n2, ...)
     * @param extraArgs server options every member gets
     */
    public static ServerGroup start(Path directory, int size, String... extraArgs) {
        return start(directory, size, List.of(), extraArgs);
    }

    /** Like {@link #start(Path, int, String...)}, each member's JVM with these options (e.g. -Xmx256m). */
    public static ServerGroup start(Path directory, int size, List<String> jvmOptions, String... extraArgs) {
        ServerGroup group = new ServerGroup(directory, size, jvmOptions);
        List<CompletableFuture<ServerProcess>> starting = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            int index = i;
            starting.add(CompletableFuture.supplyAsync(() -> group.launch(index, extraArgs)));
        }
        try {
            for (CompletableFuture<ServerProcess> member : starting) {
                group.members.add(member.join());
            }
        } catch (RuntimeException e) {
            starting.forEach(f -> f.thenAccept(ServerProcess::close));
            throw e;
        }
        return group;
    }

    private ServerProcess launch(int index, String... extraArgs) {
        List<String> args = new ArrayList<>(List.of("--node-id", ids.get(index), "--peers", peers,
                "--command-endpoint", commandEndpoints.get(index)));
        args.addAll(List.of(extraArgs));
        return ServerProcess.start("group-" + directory.getFileName() + "-" + ids.get(index),
                directory.resolve(ids.get(index)), "rocksdb", jvmOptions, args.toArray(new String[0]));
    }

    /**
     * Distinct free ports, below the range the OS hands out for ports bound to 0 and for outgoing connections
     * (read from {@code /proc/sys/net/ipv4/ip_local_port_range}): between the moment a port is picked and the
     * moment its member binds it, a member's own {@code tcp://127.0.0.1:*} endpoints or any connection could
     * otherwise take it (a Raft port once failed with "Address already in use"). All are held open until the last
     * is found, since a port closed at once may be handed out again (two members once got the same command port).
     * Where the range is unknown, ports are picked the ordinary way.
     */
    private static List<Integer> freePorts(int count) {
        int below = ephemeralRangeStart();
        List<ServerSocket> held = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            java.util.Random random = new java.util.Random();
            int attempts = 0;
            while (ports.size() < count) {
                ServerSocket socket;
                if (below > 11_000 && attempts++ < 1_000) {
                    int port = 10_000 + random.nextInt(below - 10_000);
                    if (ports.contains(port)) {
                        continue;
                    }
                    try {
                        socket = new ServerSocket(port, 50, java.net.InetAddress.getLoopbackAddress());
                    } catch (IOException taken) {
                        continue;
                    }
                } else {
                    socket = new ServerSocket(0);
                }
                held.add(socket);
                ports.add(socket.getLocalPort());
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket socket : held) {
                try {
                    socket.close();
                } catch (IOException e) {
                    // Closing a listening socket that was never used does not fail in a way that matters here.
                }
            }
        }
    }

    /** The first port of the OS's ephemeral range, or 0 when it cannot be read. */
    private static int ephemeralRangeStart() {
        // Read line by line: JDK 17's Files.readString stops after the first byte of this procfs file, which
        // reports a size of 0 ("3" for "32768\t60999").
        try (java.io.BufferedReader reader = java.nio.file.Files.newBufferedReader(
                Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
            return Integer.parseInt(reader.readLine().trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    public String peers() {
        return peers;
    }

    public int size() {
        return members.size();
    }

    public ServerProcess member(int index) {
        return members.get(index);
    }

    public String id(int index) {
        return ids.get(index);
    }

    public String commandEndpoint(int index) {
        return commandEndpoints.get(index);
    }

    public List<String> commandEndpoints() {
        return List.copyOf(commandEndpoints);
    }

    /**
     * Builds every client the group makes (its own checks included) with these options too, e.g. the CURVE keys
     * of a group started with {@code --curve-secret-key-file}:
     * {@code group.clientOptions(b -> b.curveServerKeyFile(server).curveKeyPairFile(mine))}.
     */
    public ServerGroup clientOptions(UnaryOperator<RewindClient.Builder> options) {
        this.clientOptions = options;
        return this;
    }

    /** A client of every member: appends follow the leader. */
    public RewindClient client() {
        return clientOptions.apply(RewindClient.builder()).commandEndpoints(commandEndpoints.toArray(new String[0]))
                .requestTimeout(Duration.ofSeconds(20)).build();
    }

    /** A client of one member only, which waits longer than a member waits for a read's position (5 s). */
    public RewindClient clientOf(int index) {
        return clientOptions.apply(RewindClient.builder()).commandEndpoint(commandEndpoints.get(index))
                .requestTimeout(Duration.ofSeconds(10)).build();
    }

    public boolean alive(int index) {
        return members.get(index).process().isAlive();
    }

    /** What a live member says about itself, or null when it does not answer. */
    public ServerInfo info(int index) {
        try (RewindClient client = clientOptions.apply(RewindClient.builder()).commandEndpoint(commandEndpoints.get(index))
                .requestTimeout(Duration.ofSeconds(2)).build()) {
            return client.serverInfo();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Waits until the live members agree on one leader among them, and returns its index. A member
     * left out (paused) is not asked.
     */
    public int awaitLeader(Duration timeout, int... leftOut) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String seen = "";
        while (System.nanoTime() < deadline) {
            List<Integer> asked = new ArrayList<>();
            List<ServerInfo> infos = new ArrayList<>();
            for (int i = 0; i < size(); i++) {
                int index = i;
                if (alive(i) && java.util.Arrays.stream(leftOut).noneMatch(o -> o == index)) {
                    asked.add(i);
                    infos.add(info(i));
                }
            }
            seen = infos.toString();
            List<Integer> leaders = new ArrayList<>();
            for (int i = 0; i < infos.size(); i++) {
                if (infos.get(i) != null && infos.get(i).role().equals("leader")) {
                    leaders.add(asked.get(i));
                }
            }
            if (leaders.size() == 1) {
                String leaderId = ids.get(leaders.get(0));
                long term = infos.get(asked.indexOf(leaders.get(0))).term();
                boolean agreed = infos.stream().allMatch(info -> info != null && info.leaderId().equals(leaderId)
                        && info.term() == term);
                if (agreed) {
                    return leaders.get(0);
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        throw new IllegalStateException("the group agreed on no leader within " + timeout + "; last seen: " + seen);
    }

    /**
     * Waits until the live members agree on a leader and every one of them has caught up with it (to within
     * 1,000 positions, while appends go on), and returns the leader's index: a group as healthy as it gets,
     * e.g. before a failover is timed.
     */
    public int awaitCaughtUpLeader(Duration timeout) {
        int leader = awaitLeader(timeout);
        ServerInfo info = info(leader);
        if (info != null) {
            awaitApplied(info.headPosition() - 1_000, timeout);
        }
        return awaitLeader(timeout);
    }

    /** Waits until every live member has applied the log up to the position. */
    public void awaitApplied(long position, Duration timeout) {
        awaitCondition(() -> {
            for (int i = 0; i < size(); i++) {
                ServerInfo info = alive(i) ? info(i) : null;
                if (alive(i) && (info == null || info.appliedPosition() < position)) {
                    return false;
                }
            }
            return true;
        }, timeout, () -> "members applied up to position " + position);
    }

    /** Waits until the condition holds, polling every 50 ms; fails naming what was awaited. */
    public static void awaitCondition(BooleanSupplier condition, Duration timeout, Supplier<String> what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not within " + timeout + ": " + what.get());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    /** Every event of a member's global log, in order. */
    public List<RecordedEvent> log(int index) {
        try (RewindClient client = clientOptions.apply(RewindClient.builder()).commandEndpoint(commandEndpoints.get(index))
                .requestTimeout(Duration.ofSeconds(30)).build()) {
            return client.readAll(ReadOptions.forwards()).collect(Collectors.toList());
        }
    }

    @Override
    public void close() {
        for (ServerProcess member : members) {
            if (member.process().isAlive()) {
                member.resume();
            }
            member.close();
        }
    }
}
