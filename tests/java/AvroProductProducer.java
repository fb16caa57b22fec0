// Produces the same product events twice, for tests/check_avro_pipeline.c:
// once as Avro in the Confluent wire format, written by the Apache Avro Java
// library (org.apache.avro 1.12.2, scripts/avro/pom.xml), and once as plain
// JSON (Jackson, which Avro depends on), so that ragbatch's readings of the
// two can be compared.
//
// The Avro topic is what Confluent's KafkaAvroSerializer writes (that
// serializer is not on Maven Central): the schema is registered under
// TOPIC-value through the registry's REST API (POST
// /subjects/{subject}/versions, no schemaType, Avro being the default) and
// each value is the magic byte 0, the 4-byte big-endian id the registry
// gave, then the body from Avro's own BinaryEncoder and GenericDatumWriter.
// Keys are the product ids, as StringSerializer writes them.
//
//   java -cp "$(scripts/avro-java.sh classpath)" AvroProductProducer.java \
//       BOOTSTRAP REGISTRY_URL SCHEMA.avsc AVRO_TOPIC JSON_TOPIC COUNT
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class AvroProductProducer {
    static int register(String registry, String subject, Schema schema) throws Exception {
        ObjectMapper json = new ObjectMapper();
        String body = json.writeValueAsString(Map.of("schema", schema.toString()));
        String base = registry.replaceAll("/+$", "");
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/subjects/" + subject + "/versions"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        HttpResponse<String> resp = HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("\"id\"\\s*:\\s*(\\d+)").matcher(resp.body());
        if (resp.statusCode() != 200 || !m.find())
            throw new IllegalStateException("registering " + subject + ": HTTP " + resp.statusCode() + " " + resp.body());
        return Integer.parseInt(m.group(1));
    }

    // What KafkaAvroSerializer.serialize writes for a GenericRecord.
    static byte[] wire(int id, Schema schema, GenericRecord rec) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(rec, enc);
        enc.flush();
        return out.toByteArray();
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], registry = args[1];
        Schema schema = new Schema.Parser().parse(new File(args[2]));
        String avroTopic = args[3], jsonTopic = args[4];
        int count = Integer.parseInt(args[5]);
        int id = register(registry, avroTopic + "-value", schema);
        Schema eventType = schema.getField("event_type").schema();
        DateTimeFormatter rfc3339 = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
        ObjectMapper json = new ObjectMapper();

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
                    String type = round == 3 ? "deleted" : round == 2 ? "updated" : "created";
                    long millis = Instant.parse("2026-12-01T10:00:00Z").toEpochMilli()
                            + round * 60_000L + i * 1000L + (i % 4) * 125;
                    // An integral price now and then: JSON writes 20.0, and so must the reader.
                    double price = i % 7 == 0 ? 20.0 + round : 10.5 + i + round * 0.25;
                    String desc = "A sturdy thing, number " + i + ", \"quoted\" \u00e9 \u6f22\u5b57";
                    List<String> tags = List.of("t" + (i % 4), "sale");
                    Map<String, String> attrs = Map.of("color", i % 2 == 0 ? "red" : "blue");

                    GenericRecord rec = new GenericData.Record(schema);
                    rec.put("product_id", "p-" + i);
                    rec.put("event_type", new GenericData.EnumSymbol(eventType, type));
                    rec.put("event_time", millis);
                    rec.put("version", (long) round);
                    rec.put("name", "Item " + i);
                    rec.put("description", desc);
                    rec.put("brand", brands[i % 3]);
                    rec.put("category", categories[i % 3]);
                    rec.put("price", price);
                    rec.put("currency", "EUR");
                    rec.put("tags", tags);
                    rec.put("in_stock", i % 2 == 0);
                    rec.put("attributes", attrs);
                    producer.send(new ProducerRecord<>(avroTopic, "p-" + i, wire(id, schema, rec))).get();

                    Map<String, Object> ev = new LinkedHashMap<>();
                    ev.put("product_id", "p-" + i);
                    ev.put("event_type", type);
                    ev.put("event_time", rfc3339.format(Instant.ofEpochMilli(millis)));
                    ev.put("version", (long) round);
                    ev.put("name", "Item " + i);
                    ev.put("description", desc);
                    ev.put("brand", brands[i % 3]);
                    ev.put("category", categories[i % 3]);
                    ev.put("price", price);
                    ev.put("currency", "EUR");
                    ev.put("tags", tags);
                    ev.put("in_stock", i % 2 == 0);
                    ev.put("attributes", attrs);
                    byte[] plain = json.writeValueAsString(ev).getBytes(StandardCharsets.UTF_8);
                    producer.send(new ProducerRecord<>(jsonTopic, "p-" + i, plain)).get();
                }
            }
        }
        System.out.println("schema id " + id);
    }
}
