package io.rewind.nacl;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * JeroMQ's CURVE sockets running on this cipher: a DEALER pipelines many messages to a ROUTER that echoes them, each
 * side in its own context (its own I/O thread), as a Rewind client and server do.
 *
 * <p>This caught what the byte-for-byte comparisons in {@link NaClTest} did not: on JDK 17 (17.0.15), once C2 had
 * compiled the cipher inside JeroMQ's I/O threads, now and then a box would not open (JeroMQ reports it as handshake
 * failure 0x11000001, ZMTP_CRYPTOGRAPHIC, and drops the connection): the receiver derived another Poly1305 key from
 * the same key and nonce than the sender had. Three runs in four failed within 20,000 messages; never with C1 alone
 * ({@code -XX:TieredStopAtLevel=1}), with {@code XSalsa20Poly1305.state} kept from the compiler, or on JDK 25. Keys
 * and nonces no longer go through small byte arrays written and read by a byte-array view; this test guards it.
 */
class JeroMqCurveTest {
    private static final int MESSAGES = 20_000;

    @Test
    void twentyThousandPipelinedMessagesEachWayOpenIntact() throws Exception {
        ZMQ.Curve.KeyPair serverKeys = ZMQ.Curve.generateKeyPair();
        ZMQ.Curve.KeyPair clientKeys = ZMQ.Curve.generateKeyPair();
        List<Integer> failures = new ArrayList<>();
        try (ZContext serverContext = new ZContext(); ZContext clientContext = new ZContext()) {
            ZMQ.Socket router = serverContext.createSocket(SocketType.ROUTER);
            router.setCurveServer(true);
            router.setCurveSecretKey(ZMQ.Curve.z85Decode(serverKeys.secretKey));
            router.setSndHWM(0);
            router.setRcvHWM(0);
            int port = router.bindToRandomPort("tcp://127.0.0.1");
            AtomicBoolean running = new AtomicBoolean(true);
            Thread echo = new Thread(() -> {
                router.setReceiveTimeOut(100);
                while (running.get()) {
                    byte[] peer = router.recv();
                    if (peer != null) {
                        byte[] body = router.recv();
                        router.sendMore(peer);
                        router.send(body);
                    }
                }
            }, "curve-echo");
            echo.start();
            try {
                ZMQ.Socket dealer = clientContext.createSocket(SocketType.DEALER);
                dealer.setCurveServerKey(ZMQ.Curve.z85Decode(serverKeys.publicKey));
                dealer.setCurvePublicKey(ZMQ.Curve.z85Decode(clientKeys.publicKey));
                dealer.setCurveSecretKey(ZMQ.Curve.z85Decode(clientKeys.secretKey));
                dealer.setSndHWM(0);
                dealer.setRcvHWM(0);
                // JeroMQ's handshake sometimes stalls; a handshake interval makes it try again.
                dealer.setHandshakeIvl(1_000);
                dealer.setReconnectIVL(100);
                String monitor = "inproc://curve-test-monitor";
                dealer.monitor(monitor, zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
                ZMQ.Socket events = clientContext.createSocket(SocketType.PAIR);
                events.connect(monitor);
                dealer.connect("tcp://127.0.0.1:" + port);

                for (int i = 0; i < MESSAGES; i++) {
                    dealer.send(message(i), 0);
                }
                dealer.setReceiveTimeOut(200);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                int received = 0;
                while (received < MESSAGES && failures.isEmpty() && System.nanoTime() < deadline) {
                    byte[] reply = dealer.recv();
                    if (reply != null) {
                        assertThat(reply).as("reply %d", received).isEqualTo(message(received));
                        received++;
                    }
                    ZMQ.Event event;
                    while ((event = ZMQ.Event.recv(events, ZMQ.DONTWAIT)) != null) {
                        failures.add((Integer) event.getValue());
                    }
                }
                assertThat(failures).as("ZeroMQ protocol errors (0x11000001 = a box that did not open)")
                        .extracting(Integer::toHexString).isEmpty();
                assertThat(received).isEqualTo(MESSAGES);
            } finally {
                running.set(false);
                echo.join();
            }
        }
    }

    /** 200 bytes, the message's number in the first four: a typical small request or reply. */
    private static byte[] message(int i) {
        return ByteBuffer.allocate(200).putInt(i).putInt(196, ~i).array();
    }
}
