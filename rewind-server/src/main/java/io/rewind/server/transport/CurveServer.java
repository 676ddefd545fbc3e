package io.rewind.server.transport;

import org.zeromq.ZMQ;

/** Makes a socket the CURVE server side, with the server's secret key, its handshakes checked by the ZAP domain. */
record CurveServer(byte[] secretKey) {
    /** Applies CURVE to a socket before it binds; the domain tells the ZAP handler which keys it takes. */
    void apply(ZMQ.Socket socket, String zapDomain) {
        socket.setZAPDomain(zapDomain);
        socket.setCurveServer(true);
        socket.setCurveSecretKey(secretKey);
    }
}
