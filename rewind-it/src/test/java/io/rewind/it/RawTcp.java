package io.rewind.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Raw TCP peers that speak just enough ZMTP 3 to attack a ZeroMQ endpoint below the protocol. */
final class RawTcp {
    private RawTcp() {}

    /** A ZMTP 3.0 greeting for the NULL mechanism. */
    static byte[] greeting() {
        byte[] greeting = new byte[64];
        greeting[0] = (byte) 0xff;
        greeting[9] = 0x7f;
        greeting[10] = 3;
        byte[] mechanism = "NULL".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(mechanism, 0, greeting, 12, mechanism.length);
        return greeting;
    }

    /** A READY command announcing the given socket type. */
    static byte[] ready(String socketType) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(5);
        body.writeBytes("READY".getBytes(StandardCharsets.US_ASCII));
        byte[] name = "Socket-Type".getBytes(StandardCharsets.US_ASCII);
        body.write(name.length);
        body.writeBytes(name);
        byte[] value = socketType.getBytes(StandardCharsets.US_ASCII);
        body.writeBytes(ByteBuffer.allocate(4).putInt(value.length).array());
        body.writeBytes(value);
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write(0x04);
        frame.write(body.size());
        frame.writeBytes(body.toByteArray());
        return frame.toByteArray();
    }

    /** After a normal handshake, one long frame whose 64-bit size is negative: 17 bytes with its payload. */
    static byte[] negativeFrameSize() {
        return ByteBuffer.allocate(17).put((byte) 0x02).putLong(-16L).putLong(0x4142434445464748L).array();
    }

    /** The bytes of a handshake as {@code socketType} followed by {@code attack}. */
    static byte[] afterHandshake(String socketType, byte[] attack) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(greeting());
        out.writeBytes(ready(socketType));
        out.writeBytes(attack);
        return out.toByteArray();
    }

    /** Connects to a tcp:// endpoint, writes the bytes, reads whatever comes for a moment, and hangs up. */
    static void send(String endpoint, byte[] bytes) throws IOException {
        URI uri = URI.create(endpoint);
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 2_000);
            socket.setSoTimeout(100);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(bytes);
                out.flush();
            } catch (IOException e) {
                // The server may hang up first, which is what a defended endpoint should do.
            }
            InputStream in = socket.getInputStream();
            try {
                in.read(new byte[4096]);
            } catch (SocketTimeoutException | java.net.SocketException e) {
                // Nothing to read, or already closed.
            }
        }
    }
}
