package io.rewind.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.client.ClientClosedException;
import io.rewind.protocol.v1.Request;
import io.rewind.protocol.v1.Response;
import io.rewind.protocol.v1.ServerInfoRequest;
import io.rewind.protocol.v1.ServerInfoResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/** The shared I/O loop, against a ROUTER that answers every request with a server-info reply. */
class IoLoopTest {
    private ZContext serverContext;
    private Thread server;
    private String endpoint;

    @BeforeEach
    void startEchoServer() throws Exception {
        serverContext = new ZContext(1);
        ZMQ.Socket router = serverContext.createSocket(SocketType.ROUTER);
        router.bind("tcp://127.0.0.1:*");
        endpoint = router.getLastEndpoint();
        router.setReceiveTimeOut(100);
        server = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    byte[] id = router.recv();
                    if (id == null) {
                        continue;
                    }
                    router.recv();
                    Request request = Request.parseFrom(router.recv());
                    router.sendMore(id);
                    router.sendMore(new byte[0]);
                    router.send(Response.newBuilder().setRequestId(request.getRequestId())
                            .setServerInfo(ServerInfoResponse.newBuilder().setVersion("echo")).build().toByteArray());
                }
            } catch (Exception e) {
                // The context closed: the test is over.
            }
        }, "echo-server");
        server.start();
    }

    @AfterEach
    void stopEchoServer() throws Exception {
        server.interrupt();
        server.join(5_000);
        serverContext.close();
    }

    private static Request.Builder info() {
        return Request.newBuilder().setServerInfo(ServerInfoRequest.getDefaultInstance());
    }

    private static long ioThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("rewind-client-io") && t.isAlive()).count();
    }

    private static void awaitNoIoThread() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ioThreads() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(ioThreads()).as("I/O threads left after every connection closed").isZero();
    }

    @Test
    void connectionsShareOneThreadWhichEndsWithTheLastAndStartsAgainWithTheNext() throws Exception {
        List<Connection> connections = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            connections.add(new Connection(endpoint, Duration.ofSeconds(10)));
        }
        for (Connection connection : connections) {
            assertThat(connection.send(info()).get(10, TimeUnit.SECONDS).getServerInfo().getVersion())
                    .isEqualTo("echo");
        }
        assertThat(ioThreads()).isEqualTo(1);

        connections.forEach(Connection::close);
        awaitNoIoThread();

        try (Connection again = new Connection(endpoint, Duration.ofSeconds(10))) {
            assertThat(again.send(info()).get(10, TimeUnit.SECONDS).hasServerInfo()).isTrue();
        }
    }

    @Test
    void aRequestSentFromAReplyCallbackGoesOut() throws Exception {
        try (Connection connection = new Connection(endpoint, Duration.ofSeconds(10))) {
            AtomicInteger replies = new AtomicInteger();
            CountDownLatch chainDone = new CountDownLatch(1);
            Runnable[] next = new Runnable[1];
            next[0] = () -> connection.send(info()).thenRun(() -> {
                if (replies.incrementAndGet() < 1_000) {
                    next[0].run();
                } else {
                    chainDone.countDown();
                }
            });
            next[0].run();
            assertThat(chainDone.await(30, TimeUnit.SECONDS)).as("1,000 chained round trips").isTrue();
        }
    }

    @Test
    void closingAConnectionInItsOwnCallbackFailsItsRestAndSparesTheOthers() throws Exception {
        Connection doomed = new Connection(endpoint, Duration.ofMinutes(1));
        try (Connection bystander = new Connection(endpoint, Duration.ofSeconds(10))) {
            CompletableFuture<Response> first = doomed.send(info());
            CompletableFuture<Void> closedInCallback = first.thenRun(doomed::close);
            closedInCallback.get(10, TimeUnit.SECONDS);

            CompletableFuture<Response> afterClose = doomed.send(info());
            try {
                afterClose.join();
                throw new AssertionError("a request on a closed connection succeeded");
            } catch (CompletionException e) {
                assertThat(e.getCause()).isInstanceOf(ClientClosedException.class);
            }
            assertThat(bystander.send(info()).get(10, TimeUnit.SECONDS).hasServerInfo()).isTrue();
        }
    }
}
