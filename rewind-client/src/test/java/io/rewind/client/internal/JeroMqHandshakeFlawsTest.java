package io.rewind.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.zeromq.SocketType;
import org.zeromq.ZCert;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * What JeroMQ 0.6.0 tells a client about its handshakes, which {@link Connection} works around: no
 * event for a finished handshake, a mismatched mechanism reported only as a disconnection, and no
 * reconnection after either failure. Should a JeroMQ release fix them, these tests fail and the
 * workarounds can go.
 */
class JeroMqHandshakeFlawsTest {
    private static final int EVENTS = zmq.ZMQ.ZMQ_EVENT_CONNECTED | zmq.ZMQ.ZMQ_EVENT_DISCONNECTED
            | zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_PROTOCOL | zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_SUCCEEDED
            | zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
            | zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | zmq.ZMQ.ZMQ_EVENT_CONNECT_RETRIED;

    private final ZContext context = new ZContext(1);
    private final ZCert serverKey = new ZCert();
    private int monitors;

    /** Sockets with a monitor: stopped before the context closes them (see Connection). */
    private final List<ZMQ.Socket> monitored = new ArrayList<>();

    @AfterEach
    void close() {
        monitored.forEach(socket -> socket.monitor(null, 0));
        context.close();
    }

    @Test
    void aFinishedCurveHandshakeHasNoEvent() {
        ZMQ.Socket router = curveRouter();
        ZMQ.Socket dealer = context.createSocket(SocketType.DEALER);
        ZCert clientKey = new ZCert();
        dealer.setCurveServerKey(serverKey.getPublicKey());
        dealer.setCurvePublicKey(clientKey.getPublicKey());
        dealer.setCurveSecretKey(clientKey.getSecretKey());
        ZMQ.Socket monitor = monitor(dealer);
        dealer.connect(router.getLastEndpoint());
        dealer.send("hello");
        assertThat(router.recv()).isNotNull();
        assertThat(router.recvStr()).as("the handshake finished").isEqualTo("hello");

        List<Integer> events = drain(monitor, 300);
        assertThat(events).contains(zmq.ZMQ.ZMQ_EVENT_CONNECTED, zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_PROTOCOL)
                .doesNotContain(zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    }

    @Test
    void aMismatchedMechanismIsADisconnectionWithoutAHandshakeEventAndNoRetry() {
        ZMQ.Socket router = curveRouter();
        ZMQ.Socket plain = context.createSocket(SocketType.DEALER);
        plain.setReconnectIVL(100);
        ZMQ.Socket monitor = monitor(plain);
        plain.connect(router.getLastEndpoint());

        // libzmq reports HANDSHAKE_FAILED_PROTOCOL (ZMTP_MECHANISM_MISMATCH) and connects again after 100 ms.
        List<Integer> events = drain(monitor, 1_500);
        assertThat(events).containsExactly(zmq.ZMQ.ZMQ_EVENT_CONNECTED, zmq.ZMQ.ZMQ_EVENT_DISCONNECTED);
    }

    private ZMQ.Socket curveRouter() {
        ZMQ.Socket router = context.createSocket(SocketType.ROUTER);
        router.setCurveServer(true);
        router.setCurveSecretKey(serverKey.getSecretKey());
        router.setReceiveTimeOut(5_000);
        router.bind("tcp://127.0.0.1:*");
        return router;
    }

    private ZMQ.Socket monitor(ZMQ.Socket socket) {
        String address = "inproc://flaws-monitor-" + monitors++;
        monitored.add(socket);
        socket.monitor(address, EVENTS);
        ZMQ.Socket pair = context.createSocket(SocketType.PAIR);
        pair.connect(address);
        return pair;
    }

    /** Every event that comes within the time: the test is about what does not come. */
    private static List<Integer> drain(ZMQ.Socket monitor, int millis) {
        monitor.setReceiveTimeOut(millis);
        List<Integer> events = new ArrayList<>();
        ZMQ.Event event;
        while ((event = ZMQ.Event.recv(monitor)) != null) {
            events.add(event.getEvent());
        }
        return events;
    }
}
