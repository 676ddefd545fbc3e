package io.rewind.it;

import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/** Raw ZeroMQ client sockets for tests that speak the protocols without the Rewind client. */
final class TestSockets {
    private TestSockets() {}

    /**
     * A client socket with a 10 s receive timeout and JeroMQ's handshake stall worked around (a 1 s
     * handshake interval, as the Rewind client sets; see its Connection).
     */
    static ZMQ.Socket client(ZContext context, SocketType type) {
        ZMQ.Socket socket = context.createSocket(type);
        socket.setHandshakeIvl(1_000);
        socket.setReceiveTimeOut(10_000);
        return socket;
    }
}
