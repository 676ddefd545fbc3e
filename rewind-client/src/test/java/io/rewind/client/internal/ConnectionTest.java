package io.rewind.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.client.ClientClosedException;
import io.rewind.client.RequestTimeoutException;
import io.rewind.client.ServerUnavailableException;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.ServerInfoRequest;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The connection's own guarantees, against an endpoint where no server listens. */
class ConnectionTest {

    private static String deadEndpoint() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return "tcp://127.0.0.1:" + socket.getLocalPort();
        }
    }

    private static Request.Builder info() {
        return Request.newBuilder().setServerInfo(ServerInfoRequest.getDefaultInstance());
    }

    private static Throwable failure(CompletableFuture<?> future) {
        try {
            future.orTimeout(10, TimeUnit.SECONDS).join();
            throw new AssertionError("the request succeeded");
        } catch (CompletionException e) {
            return e.getCause();
        }
    }

    @Test
    void aRequestWithoutReplyTimesOut() throws Exception {
        try (Connection connection = new Connection(deadEndpoint(), Duration.ofMillis(200))) {
            assertThat(failure(connection.send(info()))).isInstanceOf(RequestTimeoutException.class)
                    .hasMessageContaining("200 ms");
        }
    }

    @Test
    void closingFailsWhatIsPendingAndEverythingAfter() throws Exception {
        Connection connection = new Connection(deadEndpoint(), Duration.ofMinutes(1));
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            pending.add(connection.send(info()));
        }
        connection.close();

        for (CompletableFuture<?> future : pending) {
            assertThat(failure(future)).isInstanceOf(ClientClosedException.class);
        }
        assertThat(failure(connection.send(info()))).isInstanceOf(ClientClosedException.class);
    }

    @Test
    void theQueueToAnUnreachableServerIsBoundedAndTheExcessFailsAtOnce() throws Exception {
        try (Connection connection = new Connection(deadEndpoint(), Duration.ofMinutes(1))) {
            List<CompletableFuture<?>> futures = new ArrayList<>();
            for (int i = 0; i < 101_000; i++) {
                futures.add(connection.send(info()));
            }
            // The last request is past the bound: once it has failed, every earlier one has been tried.
            assertThat(failure(futures.get(futures.size() - 1))).isInstanceOf(ServerUnavailableException.class)
                    .hasMessageContaining("retry later");
            long unavailable = futures.stream().filter(CompletableFuture::isCompletedExceptionally).count();
            assertThat(unavailable).as("requests beyond the queue's bound").isBetween(500L, 1_000L);
        }
    }
}
