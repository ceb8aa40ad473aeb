package dev.panopt.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void parsesAllValueKinds() {
        Object v = Json.parse(" {\"a\": [1, -2.5e1, true, false, null, \"x\\u00e9\\n\\\"\"], \"b\": {}, \"c\": 0} ");
        Map<String, Object> m = Json.asObject(v, "root");
        assertInstanceOf(LinkedHashMap.class, m);
        assertEquals(List.of("a", "b", "c"), List.copyOf(m.keySet()));
        List<Object> a = Json.asArray(m.get("a"), "a");
        assertEquals(1L, a.get(0));
        assertEquals(-25.0, a.get(1));
        assertEquals(Boolean.TRUE, a.get(2));
        assertEquals(Boolean.FALSE, a.get(3));
        assertNull(a.get(4));
        assertEquals("x\u00e9\n\"", a.get(5));
        assertEquals(Map.of(), m.get("b"));
        assertEquals(0L, m.get("c"));
    }

    @Test
    void bigIntegersBecomeDoubles() {
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertInstanceOf(Double.class, Json.parse("9223372036854775808"));
        assertInstanceOf(Double.class, Json.parse("1.0"));
    }

    @Test
    void numbersBeyondADoubleAreRejected() {
        // Found by ConfigFuzzTest: 0.1e4000 parsed as Infinity, which Json.write cannot write back.
        for (String n : List.of("0.1e4000", "-1e400", "1" + "0".repeat(400))) {
            assertTrue(assertThrows(Json.ParseException.class, () -> Json.parse("[" + n + "]")).getMessage()
                    .contains("number out of range"), n);
        }
        assertEquals(1e308, Json.parse("1e308"));
        assertEquals(0.0, Json.parse("1e-400"));
    }

    @Test
    void surrogatePairsAndLoneSurrogates() {
        assertEquals("\uD83D\uDE00", Json.parse("\"\\ud83d\\ude00\""));
        assertEquals("\uD800", Json.parse("\"\\ud800\""));
    }

    @Test
    void rejectsMalformedInputWithOffset() {
        for (String bad : List.of("", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "+1", "NaN",
                "Infinity", "'a'", "\"a", "\"\\x\"", "\"\\u12\"", "\"a\u0001\"", "tru", "nul", "{a:1}", "[1 2]",
                "{\"a\" 1}", "1 2", "// c\n1", "[1]]")) {
            Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse(bad), bad);
            assertTrue(e.getMessage().contains("offset"), e.getMessage());
        }
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse("[1, 2, x]"));
        assertEquals(7, e.offset());
    }

    @Test
    void rejectsDuplicateKeys() {
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse("{\"a\":1,\"b\":2,\"a\":3}"));
        assertTrue(e.getMessage().contains("duplicate key \"a\""), e.getMessage());
    }

    @Test
    void depthLimit() {
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        Json.parse(ok);
        String deep = "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1);
        assertThrows(Json.ParseException.class, () -> Json.parse(deep));
        String veryDeep = "{\"a\":".repeat(100_000);
        assertThrows(Json.ParseException.class, () -> Json.parse(veryDeep));
    }

    @Test
    void writeRoundTrips() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "q\"\\\n\t\u0001é\uD83D\uDE00");
        m.put("l", List.of(1L, -2L, 1.5, 1e-5, true, false));
        m.put("n", null);
        m.put("o", Map.of("x", List.of()));
        for (boolean pretty : new boolean[] {false, true}) {
            assertEquals(m, Json.parse(Json.write(m, pretty)));
        }
        assertEquals("{\"a\":[1,2]}", Json.write(Map.of("a", List.of(1L, 2L))));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
    }

    @Test
    void largeDocumentIsFast() {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < 50_000; i++) {
            sb.append(i == 0 ? "" : ", ").append("\"\\u0120tok").append(i).append("\": ").append(i);
        }
        String doc = sb.append('}').toString();
        long t0 = System.nanoTime();
        Map<String, Object> m = Json.asObject(Json.parse(doc), "vocab");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(50_000, m.size());
        assertEquals(49_999L, m.get("\u0120tok49999"));
        assertTrue(ms < 2000, "parse took " + ms + " ms");
    }

    @Test
    void typedHelpersNameTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.asLong("abc", "hidden_size"));
        assertTrue(e.getMessage().contains("hidden_size") && e.getMessage().contains("string"), e.getMessage());
    }
}
