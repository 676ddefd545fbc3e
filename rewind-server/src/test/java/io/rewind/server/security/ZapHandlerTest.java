package io.rewind.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.SocketType;
import org.zeromq.ZCert;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import zmq.Msg;
import zmq.io.Metadata;

/** The ZAP handler against real JeroMQ CURVE sockets over TCP, and the JeroMQ behaviour it exists for. */
class ZapHandlerTest {
    @TempDir
    Path tmp;

    private final ZContext context = new ZContext(1);
    private final ZCert server = new ZCert();
    private final List<AutoCloseable> closing = new ArrayList<>();

    /** Sockets with a monitor: stopped before the context closes them (see the client's Connection). */
    private final List<ZMQ.Socket> monitored = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        monitored.forEach(socket -> socket.monitor(null, 0));
        for (AutoCloseable c : closing) {
            c.close();
        }
        context.close();
    }

    @Test
    void withoutAZapHandlerJeroMqLetsEveryKeyIn() {
        // JeroMQ 0.6.0 (as libzmq) skips authentication when nothing is bound at inproc://zeromq.zap.01: any
        // client key completes the CURVE handshake. This is why the server binds its handler first and halts
        // if it dies.
        ZMQ.Socket router = curveRouter("rewind");

        ZMQ.Socket stranger = client(new ZCert(), router.getLastEndpoint());
        stranger.connect(router.getLastEndpoint());
        stranger.send("hello");

        assertThat(router.recv()).as("routing id").isNotNull();
        assertThat(router.recvStr()).isEqualTo("hello");
    }

    @Test
    void onlyListedKeysConnectAndTheirMessagesCarryTheKey() throws Exception {
        ZCert known = new ZCert();
        AccessControl access = access("app " + known.getPublicKeyAsZ85() + " read=order- write=order-");
        closing.add(ZapHandler.start(context, access));
        ZMQ.Socket router = curveRouter(ZapHandler.COMMANDS);

        ZMQ.Socket stranger = client(new ZCert(), router.getLastEndpoint());
        ZMQ.Socket monitor = monitor(stranger);
        stranger.connect(router.getLastEndpoint());
        stranger.send("from a stranger");
        assertThat(awaitHandshakeFailure(monitor)).isEqualTo(zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);

        ZMQ.Socket friend = client(known, router.getLastEndpoint());
        friend.connect(router.getLastEndpoint());
        friend.send("from a friend");
        assertThat(router.recv()).as("routing id").isNotNull();
        Msg body = router.recvMsg(0);
        assertThat(new String(body.data())).isEqualTo("from a friend");
        assertThat(body.getMetadata().get(Metadata.USER_ID)).isEqualTo(known.getPublicKeyAsZ85());
        router.setReceiveTimeOut(200);
        assertThat(router.recv()).as("nothing from the stranger").isNull();
    }

    @Test
    void theFeedDomainTakesOnlyKeysThatReadEverything() throws Exception {
        ZCert reader = new ZCert();
        ZCert limited = new ZCert();
        AccessControl access = access("reader " + reader.getPublicKeyAsZ85() + " read=*",
                "limited " + limited.getPublicKeyAsZ85() + " read=order- write=*");
        closing.add(ZapHandler.start(context, access));
        ZMQ.Socket router = curveRouter(ZapHandler.FEED);

        ZMQ.Socket refused = client(limited, router.getLastEndpoint());
        ZMQ.Socket monitor = monitor(refused);
        refused.connect(router.getLastEndpoint());
        assertThat(awaitHandshakeFailure(monitor)).isEqualTo(zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);

        ZMQ.Socket allowed = client(reader, router.getLastEndpoint());
        allowed.connect(router.getLastEndpoint());
        allowed.send("subscribed");
        assertThat(router.recv()).isNotNull();
        assertThat(router.recvStr()).isEqualTo("subscribed");
    }

    private AccessControl access(String... lines) throws Exception {
        Path file = tmp.resolve("authorized_keys");
        Files.write(file, List.of(lines));
        AccessControl access = AccessControl.watch(file);
        closing.add(access);
        return access;
    }

    private ZMQ.Socket curveRouter(String domain) {
        ZMQ.Socket router = context.createSocket(SocketType.ROUTER);
        router.setZAPDomain(domain);
        router.setCurveServer(true);
        router.setCurveSecretKey(server.getSecretKey());
        router.setReceiveTimeOut(5_000);
        router.bind("tcp://127.0.0.1:*");
        return router;
    }

    /** A CURVE DEALER with this key, not connected yet: a monitor must be attached before. */
    private ZMQ.Socket client(ZCert key, String endpoint) {
        ZMQ.Socket dealer = context.createSocket(SocketType.DEALER);
        dealer.setCurveServerKey(server.getPublicKey());
        dealer.setCurvePublicKey(key.getPublicKey());
        dealer.setCurveSecretKey(key.getSecretKey());
        dealer.setLinger(0);
        dealer.setHandshakeIvl(1_000);
        return dealer;
    }

    private int monitorCount;

    private ZMQ.Socket monitor(ZMQ.Socket socket) {
        String address = "inproc://zap-test-monitor-" + monitorCount++;
        monitored.add(socket);
        socket.monitor(address, zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
        ZMQ.Socket pair = context.createSocket(SocketType.PAIR);
        pair.setReceiveTimeOut(5_000);
        pair.connect(address);
        return pair;
    }

    private static int awaitHandshakeFailure(ZMQ.Socket monitor) {
        ZMQ.Event event = ZMQ.Event.recv(monitor);
        assertThat(event).as("a handshake event within 5 s").isNotNull();
        return event.getEvent();
    }
}
