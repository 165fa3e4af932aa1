// Ready waits until a Kafka broker serves metadata that lists at least one unfenced broker.
// scripts/kafka.sh runs it as a single-file Java program (java Ready.java) on the broker's own
// classpath, so the readiness check needs nothing beyond the jars the broker already uses.
//
// Usage: java -cp <kafka classpath> Ready.java <bootstrap> <timeout-seconds>
// Exit code 0 when ready, 1 on timeout.

import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;

public class Ready {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        String last = "no answer yet";
        try (Admin admin = Admin.create(props)) {
            while (System.nanoTime() < deadline) {
                try {
                    var nodes = admin.describeCluster().nodes().get(3, TimeUnit.SECONDS);
                    if (!nodes.isEmpty()) {
                        StringBuilder sb = new StringBuilder();
                        for (Node n : nodes) {
                            sb.append(' ').append(n.id()).append('@').append(n.host()).append(':').append(n.port());
                        }
                        System.out.println("kafka ready: brokers" + sb);
                        return;
                    }
                    last = "metadata lists no broker";
                } catch (Exception e) {
                    last = e.getClass().getSimpleName() + ": " + e.getMessage();
                }
                Thread.sleep(200);
            }
        }
        System.err.println("kafka not ready: " + last);
        System.exit(1);
    }
}
