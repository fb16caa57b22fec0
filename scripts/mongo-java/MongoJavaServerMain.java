// The second MongoDB-wire test server: mongo-java-server's in-memory
// backend bound to HOST:PORT. The library has no main class of its own.
//
//   java -cp 'libs/*:classes' MongoJavaServerMain HOST PORT CONTROL_SOCKET
//
// Prints one line when it listens. SIGTERM (or SIGINT) closes the listener
// and every client connection, then the JVM exits; the data, kept only in
// memory, is gone. A bad argument or a port already taken exits with
// status 2 or 1 and a message naming it.
//
// CONTROL_SOCKET is a Unix socket path (scripts/mongo-java.sh down / up).
// A line "down" closes the listener and every client connection but keeps
// the data; "up" listens on HOST:PORT again. Clients see what they see when
// a MongoDB server stops (connection reset, then refused) and find their
// documents when it returns: FerretDB keeps its data on disk across a
// stop, and the outage tests rely on that of a real server. Each command is
// answered with one line, "ok ..." or "error ...".
import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

public final class MongoJavaServerMain {
    private final String host;
    private final int port;
    private final MemoryBackend backend = new MemoryBackend();
    // MongoServer.shutdownNow() also closes its backend; the listener is
    // replaced on "up", so the one it gets ignores close() and the data
    // outlives it. The real close is in stop().
    private final MongoBackend keptBackend;
    private MongoServer server; // null while down; guarded by this

    private MongoJavaServerMain(String host, int port) {
        this.host = host;
        this.port = port;
        this.keptBackend = (MongoBackend) Proxy.newProxyInstance(
                MongoBackend.class.getClassLoader(), new Class<?>[] {MongoBackend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("close") && method.getParameterCount() == 0) {
                        return null;
                    }
                    try {
                        return method.invoke(backend, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private synchronized void up() throws Exception {
        if (server != null) {
            return;
        }
        MongoServer s = new MongoServer(keptBackend);
        try {
            s.bind(host, port);
        } catch (Exception e) {
            // Netty rethrows the checked BindException undeclared, hence Exception.
            s.shutdownNow();
            throw e;
        }
        server = s;
    }

    private synchronized void down() {
        if (server != null) {
            server.shutdownNow();
            server = null;
        }
    }

    private synchronized void stop() {
        down();
        backend.close();
    }

    private String command(String line) {
        try {
            switch (line.trim()) {
                case "down":
                    down();
                    return "ok down";
                case "up":
                    up();
                    return "ok up";
                default:
                    return "error unknown command '" + line.trim() + "' (want down or up)";
            }
        } catch (Exception e) {
            return "error " + e;
        }
    }

    // One command per connection, answered with one line.
    private void serveControl(ServerSocketChannel control) {
        while (true) {
            try (SocketChannel c = control.accept()) {
                BufferedReader in = new BufferedReader(
                        new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
                String line = in.readLine();
                String reply = command(line == null ? "" : line) + "\n";
                OutputStream out = Channels.newOutputStream(c);
                out.write(reply.getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                if (!control.isOpen()) {
                    return;
                }
                System.err.println("MongoJavaServerMain: control socket: " + e);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: MongoJavaServerMain HOST PORT CONTROL_SOCKET");
            System.exit(2);
        }
        int port;
        try {
            port = Integer.parseInt(args[1]);
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            System.err.println("MongoJavaServerMain: PORT '" + args[1] + "' is not a port number");
            System.exit(2);
        }
        MongoJavaServerMain main = new MongoJavaServerMain(args[0], port);

        Path controlPath = Path.of(args[2]);
        Files.deleteIfExists(controlPath); // left by a killed predecessor
        ServerSocketChannel control = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        control.bind(UnixDomainSocketAddress.of(controlPath));

        try {
            main.up();
        } catch (Exception e) {
            System.err.println("MongoJavaServerMain: cannot listen on " + args[0] + ":" + port
                    + ": " + e.getMessage());
            System.exit(1);
        }

        // The JVM runs shutdown hooks on SIGTERM/SIGINT; main waits for the
        // hook so that nothing else keeps the process alive after it.
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                control.close();
                Files.deleteIfExists(controlPath);
            } catch (IOException e) {
                System.err.println("MongoJavaServerMain: closing the control socket: " + e);
            }
            main.stop();
            stopped.countDown();
        }, "shutdown"));
        Thread controlThread = new Thread(() -> main.serveControl(control), "control");
        controlThread.setDaemon(true);
        controlThread.start();

        System.out.println("mongo-java-server listening on " + args[0] + ":" + port);
        System.out.flush();
        stopped.await();
    }
}
