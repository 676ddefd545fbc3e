package io.rewind.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A TCP proxy in front of a server that can flip one bit of what the server sends next: the last byte of its next
 * write, which for a small reply is inside the reply's CURVE box (so the box no longer opens).
 */
final class CorruptingProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final URI target;
    private final AtomicBoolean corruptNext = new AtomicBoolean();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    /** @param endpoint the server's tcp:// endpoint */
    CorruptingProxy(String endpoint) throws IOException {
        this.target = URI.create(endpoint);
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::accept, "proxy-accept");
        accept.setDaemon(true);
        accept.start();
    }

    String endpoint() {
        return "tcp://127.0.0.1:" + listener.getLocalPort();
    }

    /** The next bytes from the server reach the client with their last bit flipped. */
    void corruptNextReply() {
        corruptNext.set(true);
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(target.getHost(), target.getPort());
                sockets.add(client);
                sockets.add(server);
                pump(client.getInputStream(), server.getOutputStream(), false);
                pump(server.getInputStream(), client.getOutputStream(), true);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(InputStream in, OutputStream out, boolean fromServer) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[65536];
            try (in; out) {
                int read;
                while ((read = in.read(buffer)) > 0) {
                    if (fromServer && corruptNext.getAndSet(false)) {
                        buffer[read - 1] ^= 1;
                    }
                    out.write(buffer, 0, read);
                    out.flush();
                }
            } catch (IOException e) {
                // One side closed: so does the other.
            }
        }, fromServer ? "proxy-from-server" : "proxy-to-server");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
