package dev.panopt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.panopt.internal.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The fast vocab.json reader gives exactly the strict parser's table, and leaves everything else
 * (malformed or unusual input) to the strict parser by returning null; the token table's piece and
 * concatenation lookups agree with whole-string lookups.
 */
class VocabScannerTest {
    static final Path DIR = Path.of(System.getProperty("panopt.fixtures", "../conformance/fixtures")).resolve("tokenizer");

    static void assertSameAsStrict(String json) {
        TokenTable fast = VocabScanner.scan(json);
        assertNotNull(fast, json);
        Map<String, Object> strict = Json.asObject(Json.parse(json), "vocab");
        assertEquals(strict.size(), fast.size());
        for (Map.Entry<String, Object> e : strict.entrySet()) {
            assertEquals(((Long) e.getValue()).intValue(), fast.get(e.getKey()), e.getKey());
        }
    }

    @Test
    void theBundledVocabularyReadsAsTheStrictParserReadsIt() throws IOException {
        assertSameAsStrict(Files.readString(DIR.resolve("vocab.json")));
    }

    @Test
    void escapesAndWhitespaceAreJson() {
        assertSameAsStrict("{\"a\":0,\"\\\"q\\\"\": 1 ,\n\t\"\\\\\\/\\b\\f\\n\\r\\t\": 2, \"\\u0120x\\uD83D\\uDE00\": 3,"
                + " \"\\ud800\": 4, \"Ġ\": 10000000 }\r\n");
    }

    @Test
    void anythingElseIsLeftToTheStrictParser() {
        for (String bad : new String[] {"", "[]", "{}", "{\"a\": 0", "{\"a\": 0,}", "{\"a\": 0} x", "{\"a\": -1}",
                "{\"a\": 01}", "{\"a\": 1.0}", "{\"a\": 1e2}", "{\"a\": \"1\"}", "{\"a\": 1, \"a\": 2}", "{\"\": 1}",
                "{\"a\" 1}", "{\"a\": 10000001}", "{\"a\": 99999999999999999999}", "{\"\\x\": 1}", "{\"\\u12\": 1}",
                "{\"\\u١٢٣٤\": 1}", "{\"a\nb\": 1}", "{'a': 1}", "{\"a\": null}", "{\"a\": 1 /* c */}"}) {
            assertNull(VocabScanner.scan(bad), bad);
        }
    }

    @Test
    void pieceAndConcatenationLookupsAgreeWithWholeStrings() {
        TokenTable t = new TokenTable(4);
        String[] words = {"Ġthe", "Ġ", "the", "th", "e", "ĠtheĠ", "x"};
        for (int i = 0; i < words.length; i++) {
            assertEquals(-1, t.put(words[i], i));
        }
        assertEquals(words.length - 1, t.maxValue());
        String s = "..Ġ the..";
        assertEquals(1, t.get(s, 2, 3));
        assertEquals(2, t.get(s, 4, 7));
        assertEquals(0, t.get(TokenTable.concatHash(TokenTable.hash(s, 2, 3), TokenTable.hash(s, 4, 7), 3), s, 2, 3, 4, 7));
        assertEquals(-1, t.get(s, 2, 5));
        assertEquals("Ġthe".hashCode(), TokenTable.concatHash("Ġ".hashCode(), "the".hashCode(), 3));
        assertEquals(0, t.put("Ġthe", 6), "put returns the previous id");
        assertEquals(6, t.get("Ġthe"));
    }
}
