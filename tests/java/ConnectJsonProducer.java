// Produces product events serialised by Kafka Connect's own JsonConverter
// (connect-json, the jars of scripts/connect.sh), for tests/check_cdc.c: the
// same events once with schemas.enable=true (the {schema, payload} envelope)
// and once with schemas.enable=false, so that ragbatch's readings of the two
// can be compared.  Keys are the product ids, as StringConverter writes them.
//
//   java -cp '.cache/connect/libs/*' ConnectJsonProducer.java BOOTSTRAP TOPIC SCHEMAS COUNT
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;

public class ConnectJsonProducer {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], topic = args[1];
        boolean schemas = Boolean.parseBoolean(args[2]);
        int count = Integer.parseInt(args[3]);
        Schema product = SchemaBuilder.struct().name("ragbatch.product")
                .field("product_id", Schema.STRING_SCHEMA)
                .field("event_type", Schema.STRING_SCHEMA)
                .field("event_time", Schema.STRING_SCHEMA)
                .field("version", Schema.INT64_SCHEMA)
                .field("name", Schema.STRING_SCHEMA)
                .field("description", Schema.STRING_SCHEMA)
                .field("brand", Schema.STRING_SCHEMA)
                .field("category", Schema.STRING_SCHEMA)
                .field("price", Schema.FLOAT64_SCHEMA)
                .field("currency", Schema.STRING_SCHEMA)
                .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).build())
                .field("in_stock", Schema.BOOLEAN_SCHEMA)
                .field("attributes", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.STRING_SCHEMA).build())
                .build();
        JsonConverter converter = new JsonConverter();
        Map<String, Object> cc = new HashMap<>();
        cc.put("schemas.enable", String.valueOf(schemas));
        converter.configure(cc, false);

        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "all");
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            String[] brands = {"Kestrel", "Alder", "Nimbus"};
            String[] categories = {"kitchen", "outdoor", "lighting"};
            for (int round = 1; round <= 3; round++) {
                for (int i = 0; i < count; i++) {
                    // Every product once, every third again (a new price), every fifth deleted.
                    if (round == 2 && i % 3 != 0) continue;
                    if (round == 3 && i % 5 != 0) continue;
                    Struct s = new Struct(product)
                            .put("product_id", "p-" + i)
                            .put("event_type", round == 3 ? "deleted" : round == 2 ? "updated" : "created")
                            .put("event_time", String.format("2026-12-01T10:%02d:%02dZ", round, i % 60))
                            .put("version", (long) round)
                            .put("name", "Item " + i)
                            .put("description", "A sturdy thing, number " + i + ", \"quoted\" \u00e9")
                            .put("brand", brands[i % 3])
                            .put("category", categories[i % 3])
                            .put("price", 10.5 + i + round)
                            .put("currency", "EUR")
                            .put("tags", List.of("t" + (i % 4), "sale"))
                            .put("in_stock", i % 2 == 0)
                            .put("attributes", Map.of("color", i % 2 == 0 ? "red" : "blue"));
                    byte[] value = converter.fromConnectData(topic, product, s);
                    producer.send(new ProducerRecord<>(topic, "p-" + i, value)).get();
                }
            }
        }
    }
}
