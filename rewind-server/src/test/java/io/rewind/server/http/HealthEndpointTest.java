package io.rewind.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rewind.server.storage.InMemoryStorage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class HealthEndpointTest {
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(HealthEndpoint endpoint, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://" + endpoint.boundAddress() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void readyIs503UntilTheServerSaysSoAndAgainFromTheStartOfShutdownWhileLiveStays200() throws Exception {
        try (HealthEndpoint endpoint = HealthEndpoint.start("127.0.0.1", 0)) {
            assertThat(get(endpoint, "/health/ready").statusCode()).isEqualTo(503);
            assertThat(get(endpoint, "/health/ready").body()).isEqualTo("starting\n");
            assertThat(get(endpoint, "/health/live").statusCode()).isEqualTo(200);

            endpoint.ready();
            assertThat(get(endpoint, "/health/ready").statusCode()).isEqualTo(200);

            endpoint.stopping();
            HttpResponse<String> stopping = get(endpoint, "/health/ready");
            assertThat(stopping.statusCode()).isEqualTo(503);
            assertThat(stopping.body()).isEqualTo("stopping\n");
            assertThat(get(endpoint, "/health/live").statusCode()).isEqualTo(200);

            assertThat(get(endpoint, "/metrics").statusCode()).as("no metrics before the store is open").isEqualTo(503);
            PrometheusMetrics metrics = new PrometheusMetrics(new InMemoryStorage());
            metrics.read(3);
            endpoint.serveMetrics(metrics);
            HttpResponse<String> scrape = get(endpoint, "/metrics");
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(scrape.headers().firstValue("Content-Type")).contains(PrometheusMetrics.contentType());
            assertThat(scrape.body()).contains("rewind_events_read_total 3.0").contains("# HELP rewind_reads_total");
            assertThat(get(endpoint, "/elsewhere").statusCode()).isEqualTo(404);
            HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://"
                    + endpoint.boundAddress() + "/health/live")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
        }
    }

    @Test
    void aMemberOfAGroupIsReadyOnlyWhileItKnowsALeader() throws Exception {
        try (HealthEndpoint endpoint = HealthEndpoint.start("127.0.0.1", 0)) {
            java.util.concurrent.atomic.AtomicReference<String> leader = new java.util.concurrent.atomic.AtomicReference<>();
            endpoint.ready(() -> leader.get() == null ? "no leader is known to member 'n1'" : null);
            HttpResponse<String> electing = get(endpoint, "/health/ready");
            assertThat(electing.statusCode()).isEqualTo(503);
            assertThat(electing.body()).isEqualTo("not ready: no leader is known to member 'n1'\n");

            leader.set("n2");
            assertThat(get(endpoint, "/health/ready").statusCode()).isEqualTo(200);
            leader.set(null);
            assertThat(get(endpoint, "/health/ready").statusCode()).as("an election again").isEqualTo(503);
            endpoint.stopping();
            leader.set("n2");
            assertThat(get(endpoint, "/health/ready").body()).isEqualTo("stopping\n");
        }
    }

    @Test
    void aWarningRidesOnTheReadyAnswerWithoutTakingTheServerOutOfService() throws Exception {
        try (HealthEndpoint endpoint = HealthEndpoint.start("127.0.0.1", 0)) {
            java.util.concurrent.atomic.AtomicReference<String> warning = new java.util.concurrent.atomic.AtomicReference<>();
            endpoint.warnWhen(warning::get);
            endpoint.ready();
            assertThat(get(endpoint, "/health/ready").body()).isEqualTo("ready\n");
            warning.set("the authorized keys file does not parse: line 3");
            HttpResponse<String> warned = get(endpoint, "/health/ready");
            assertThat(warned.statusCode()).isEqualTo(200);
            assertThat(warned.body()).isEqualTo("ready; warning: the authorized keys file does not parse: line 3\n");
            warning.set(null);
            assertThat(get(endpoint, "/health/ready").body()).isEqualTo("ready\n");
        }
    }

    @Test
    void aTakenPortIsNamedWithTheOption() {
        try (HealthEndpoint first = HealthEndpoint.start("127.0.0.1", 0)) {
            int port = Integer.parseInt(first.boundAddress().substring(first.boundAddress().lastIndexOf(':') + 1));
            assertThatThrownBy(() -> HealthEndpoint.start("127.0.0.1", port)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("--http-endpoint 127.0.0.1:" + port);
        }
    }
}
