// Runs a Neo4j Community server from the jars Maven fetched, for `gracegraph db start`.
//
// Usage: java -cp 'lib/*' Launcher <home> <settings.properties>
// Settings are Neo4j's own names (server.bolt.listen_address=..., written by graph_service/neo4j_local),
// so the Python side stays the only place that decides them. Prints "READY <bolt uri>" once the default
// database answers, then waits; SIGTERM shuts the database down cleanly through the shutdown hook.

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;

public class Launcher {
    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length != 2) {
            System.err.println("usage: Launcher <home> <settings.properties>");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        Path settings = Path.of(args[1]).toAbsolutePath();
        Properties props = new Properties();
        try (FileInputStream in = new FileInputStream(settings.toFile())) {
            props.load(in);
        }
        DatabaseManagementService dbms =
                new DatabaseManagementServiceBuilder(home).loadPropertiesFromFile(settings).build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("STOPPING");
            System.out.flush();
            dbms.shutdown();
            stopped.countDown();
        }));
        GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        while (!db.isAvailable(1000)) {
            System.out.println("WAITING");
        }
        System.out.println("READY bolt://" + props.getProperty("server.bolt.listen_address"));
        System.out.flush();
        stopped.await();
    }
}
