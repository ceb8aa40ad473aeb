package dev.panopt.tokenizer;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.panopt.fuzz.Fuzz;
import dev.panopt.internal.Json;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Differential fuzzing of the fast {@code vocab.json} reader ({@link VocabScanner}) against the strict
 * JSON parser, as its Javadoc promises: it never throws, and whatever it accepts the strict parser
 * accepts too, as a flat object of the same keys and ids (non-negative, at most 10,000,000).
 */
class VocabScannerFuzzTest {
    @FuzzTest
    @DictionaryEntries({"{\"", "\": ", ", \"", "\\u0120", "\\ud83d\\ude00", "\\ud800", "\\\"", "\\\\", "\\/", "\\n",
            "10000000", "10000001", "2147483648", "-1", "1e3", "1.0", "01", "}", "{}"})
    void vocabJson(byte[] data) {
        String text = new String(data, StandardCharsets.UTF_8);
        Fuzz.expect(data.length, () -> {
            TokenTable table = VocabScanner.scan(text);
            if (table == null) {
                return; // the strict reader decides
            }
            Object parsed;
            try {
                parsed = Json.parse(text);
            } catch (Json.ParseException e) {
                throw new AssertionError("the scanner accepted what the strict parser rejects: " + e.getMessage());
            }
            if (!(parsed instanceof Map<?, ?> m) || m.isEmpty() || m.size() != table.size()) {
                throw new AssertionError("the scanner's table differs from " + Json.typeName(parsed));
            }
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getValue() instanceof Long id) || id < 0 || id > 10_000_000 || table.get((String) e.getKey()) != id) {
                    throw new AssertionError("token " + Json.write(e.getKey()) + ": strict " + e.getValue() + ", scanner "
                            + table.get((String) e.getKey()));
                }
            }
        });
    }
}
