// The second MongoDB-wire test server: mongo-java-server's in-memory
// backend bound to HOST:PORT. The library has no main class of its own.
//
//   java -cp 'libs/*:classes' MongoJavaServerMain HOST PORT
//
// Prints one line when it listens. SIGTERM (or SIGINT) closes the listener
// and every client connection, then the JVM exits; the data, kept only in
// memory, is gone. A bad argument or a port already taken exits with
// status 2 or 1 and a message naming it.
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.util.concurrent.CountDownLatch;

public final class MongoJavaServerMain {
    private MongoJavaServerMain() {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 2) {
            System.err.println("usage: MongoJavaServerMain HOST PORT");
            System.exit(2);
        }
        String host = args[0];
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

        MongoServer server = new MongoServer(new MemoryBackend());
        try {
            server.bind(host, port);
        } catch (Exception e) {
            // Netty rethrows the BindException unchecked-style, hence Exception.
            System.err.println("MongoJavaServerMain: cannot listen on " + host + ":" + port + ": " + e.getMessage());
            server.shutdownNow();
            System.exit(1);
        }

        // The JVM runs shutdown hooks on SIGTERM/SIGINT; main waits for the
        // hook so that nothing else keeps the process alive after it.
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdownNow();
            stopped.countDown();
        }, "shutdown"));
        System.out.println("mongo-java-server listening on " + host + ":" + port);
        System.out.flush();
        stopped.await();
    }
}
