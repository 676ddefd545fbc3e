package io.rewind.server.http;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import io.rewind.server.core.ErrorCode;
import io.rewind.server.storage.EventStorage;
import io.rewind.server.storage.RocksDbStorage;
import io.rewind.server.replication.ClusterView;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.IntSupplier;

/**
 * The server's metrics with Prometheus' Java metrics library, served as {@code /metrics} in the
 * Prometheus text format; made only with {@code --http-endpoint}. Counters and histograms are striped adders: an append costs a few
 * uncontended increments on the command thread. RocksDB's properties and the JVM's metrics (added only
 * when served) are read when scraped.
 */
public final class PrometheusMetrics implements ServerMetrics {
    private static final double[] LATENCY_SECONDS = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1,
            2, 5};
    private static final double[] GROUP_EVENTS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter appends = Counter.builder().name("rewind_appends_total")
            .help("Appends answered, by outcome: ok, duplicate (a retry answered with its original result) or the"
                    + " error code").labelNames("outcome").register(registry);
    private final Counter eventsAppended = Counter.builder().name("rewind_events_appended_total")
            .help("Events stored by appends").register(registry);
    private final Histogram appendLatency = Histogram.builder().name("rewind_append_latency_seconds")
            .help("From an append's receipt to its acknowledgement (after the sync)").unit(Unit.SECONDS)
            .classicOnly().classicUpperBounds(LATENCY_SECONDS).register(registry);
    private final Histogram groupEvents = Histogram.builder().name("rewind_commit_group_events")
            .help("Events written by one group commit").classicOnly().classicUpperBounds(GROUP_EVENTS)
            .register(registry);
    private final Histogram commitDuration = Histogram.builder().name("rewind_commit_duration_seconds")
            .help("One group commit's storage write, its sync included").unit(Unit.SECONDS).classicOnly()
            .classicUpperBounds(LATENCY_SECONDS).register(registry);
    private final Counter reads = Counter.builder().name("rewind_reads_total").help("Read requests answered")
            .register(registry);
    private final Counter eventsRead = Counter.builder().name("rewind_events_read_total")
            .help("Events returned by reads").register(registry);
    private final Counter published = Counter.builder().name("rewind_feed_events_published_total")
            .help("Events published on the live feed").register(registry);
    private final Counter legacyRequests = Counter.builder().name("rewind_legacy_requests_total")
            .help("Requests of the original Rewind protocol, by command").labelNames("command").register(registry);
    private final Counter refusals = Counter.builder().name("rewind_curve_refusals_total")
            .help("CURVE handshakes refused: an unlisted key, or a key without read=* on a feed, by endpoint")
            .labelNames("endpoint").register(registry);
    private final Counter denials = Counter.builder().name("rewind_permission_denied_total")
            .help("Requests answered PERMISSION_DENIED, by operation").labelNames("operation").register(registry);
    private final Counter undecodable = Counter.builder().name("rewind_raft_undecodable_entries_total")
            .help("Committed replicated log entries that did not decode, skipped as no-ops on every member")
            .register(registry);
    private final Counter keysReloadFailures = Counter.builder().name("rewind_authorized_keys_reload_failures_total")
            .help("Reads of --authorized-keys that failed to parse or could not be read (the file is then in error;"
                    + " see /health/ready)").register(registry);

    /** @param storage its RocksDB properties are exported when it is RocksDB */
    public PrometheusMetrics(EventStorage storage) {
        GaugeWithCallback.builder().name("rewind_head_position").help("Global position of the newest event")
                .callback(callback -> callback.call(storage.nextPosition() - 1)).register(registry);
        if (storage instanceof RocksDbStorage rocks) {
            rocksDbGauge(rocks, "rewind_rocksdb_live_sst_bytes", "Bytes of the live table files",
                    "rocksdb.live-sst-files-size");
            rocksDbGauge(rocks, "rewind_rocksdb_memtable_bytes", "Bytes of all memtables",
                    "rocksdb.cur-size-all-mem-tables");
            rocksDbGauge(rocks, "rewind_rocksdb_pending_compaction_bytes",
                    "Bytes compaction estimates it has to rewrite", "rocksdb.estimate-pending-compaction-bytes");
            rocksDbGauge(rocks, "rewind_rocksdb_background_errors", "Background errors since the store opened",
                    "rocksdb.background-errors");
            rocksDbGauge(rocks, "rewind_rocksdb_write_stopped", "1 while RocksDB stops writes (a write stall)",
                    "rocksdb.is-write-stopped");
            rocksDbGauge(rocks, "rewind_rocksdb_delayed_write_rate", "Bytes per second RocksDB slows writes to, 0"
                    + " when it does not", "rocksdb.actual-delayed-write-rate");
        }
    }

    /**
     * Adds the replicated group as this member sees it: its Raft term, the commit index, and whether it
     * leads (1) or knows a leader (1), read at each scrape.
     */
    public void includeReplication(ClusterView cluster) {
        GaugeWithCallback.builder().name("rewind_raft_term").help("The Raft term this member is in")
                .callback(callback -> callback.call(cluster.status().term())).register(registry);
        GaugeWithCallback.builder().name("rewind_raft_commit_index")
                .help("The newest Raft log index this member knows committed")
                .callback(callback -> callback.call(cluster.status().commitIndex())).register(registry);
        GaugeWithCallback.builder().name("rewind_raft_leader").help("1 while this member leads the group, else 0")
                .callback(callback -> callback.call(cluster.status().role().equals("leader") ? 1 : 0))
                .register(registry);
        GaugeWithCallback.builder().name("rewind_raft_leader_known")
                .help("1 while this member knows a leader, 0 during an election")
                .callback(callback -> callback.call(cluster.status().leaderId().isEmpty() ? 0 : 1)).register(registry);
    }

    /**
     * Adds the JVM's usual metrics (memory, GC, threads, ...): only when they are served, since
     * registering them costs start-up time every server would pay.
     */
    public void includeJvmMetrics() {
        JvmMetrics.builder().register(registry);
    }

    @Override
    public void watchQueue(IntSupplier queueDepth) {
        GaugeWithCallback.builder().name("rewind_append_queue_depth").help("Appends waiting to be committed")
                .callback(callback -> callback.call(queueDepth.getAsInt())).register(registry);
    }

    private void rocksDbGauge(RocksDbStorage rocks, String name, String help, String property) {
        GaugeWithCallback.builder().name(name).help(help + " (RocksDB's " + property + ")").callback(callback -> {
            OptionalLong value = rocks.longProperty(property);
            if (value.isPresent()) {
                callback.call(value.getAsLong());
            }
        }).register(registry);
    }

    @Override
    public void appended(ErrorCode error, boolean duplicate, int events, long nanos) {
        String outcome = error != null ? error.name().toLowerCase(Locale.ROOT) : duplicate ? "duplicate" : "ok";
        appends.labelValues(outcome).inc();
        if (error == null && !duplicate) {
            eventsAppended.inc(events);
        }
        appendLatency.observe(nanos / 1e9);
    }

    @Override
    public void committed(int events, long writeNanos) {
        groupEvents.observe(events);
        commitDuration.observe(writeNanos / 1e9);
    }

    @Override
    public void read(int events) {
        reads.inc();
        eventsRead.inc(events);
    }

    @Override
    public void published(int events) {
        published.inc(events);
    }

    @Override
    public void legacyRequest(String command) {
        legacyRequests.labelValues(command).inc();
    }

    @Override
    public void refused(String endpoint) {
        refusals.labelValues(endpoint).inc();
    }

    @Override
    public void denied(String operation) {
        denials.labelValues(operation).inc();
    }

    @Override
    public void undecodableEntry() {
        undecodable.inc();
    }

    @Override
    public void authorizedKeysReloadFailed() {
        keysReloadFailures.inc();
    }

    /** Writes every metric in the Prometheus text format. */
    void write(OutputStream out) throws IOException {
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
    }

    /** The text format's content type. */
    static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }
}
