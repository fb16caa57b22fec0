// Prints what java.util.Properties.load(Reader) reads from each file named
// on the command line, for tests/check_connect_formats.c to compare with
// src/config/properties.c: "FILE <path>", then one "<key hex>=<value hex>"
// line per property (UTF-8 bytes in hex), sorted by key, or "ERROR" when
// load throws.  Run as a single-file program: java PropertiesDump.java FILE...
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.TreeMap;

public class PropertiesDump {
    static String hex(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x & 0xff));
        return b.toString();
    }

    public static void main(String[] args) throws Exception {
        StringBuilder out = new StringBuilder();
        for (String f : args) {
            out.append("FILE ").append(f).append('\n');
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(Path.of(f), StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IllegalArgumentException e) {
                out.append("ERROR\n");
                continue;
            }
            TreeMap<String, String> sorted = new TreeMap<>();
            for (String k : p.stringPropertyNames()) sorted.put(k, p.getProperty(k));
            for (var e : sorted.entrySet())
                out.append(hex(e.getKey())).append('=').append(hex(e.getValue())).append('\n');
        }
        System.out.print(out);
    }
}
