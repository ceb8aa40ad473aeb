package dev.panopt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.checkpoint.CheckpointException;
import dev.panopt.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/** OPT's tokenizer against the reference cases of conformance/fixtures/tokenizer, plus its own API. */
class OptTokenizerTest {
    static final Path DIR = Path.of(System.getProperty("panopt.fixtures", "../conformance/fixtures"))
            .resolve("tokenizer");
    static OptTokenizer tok;
    static List<Map<String, Object>> cases;
    static List<Map<String, Object>> decodeCases;

    @BeforeAll
    static void load() throws IOException {
        tok = OptTokenizer.fromFiles(DIR.resolve("vocab.json"), DIR.resolve("merges.txt"));
        cases = jsonl(DIR.resolve("cases.jsonl"));
        decodeCases = jsonl(DIR.resolve("decode_cases.jsonl"));
        assertEquals(63, cases.size());
        assertEquals(21, decodeCases.size());
    }

    static List<Map<String, Object>> jsonl(Path f) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                out.add(Json.asObject(Json.parse(line), "line"));
            }
        }
        return out;
    }

    static int[] ints(Object list) {
        return Json.asArray(list, "ids").stream().mapToInt(o -> (int) (long) (Long) o).toArray();
    }

    static String str(Map<String, Object> m, String key) {
        return (String) m.get(key);
    }

    @TestFactory
    Stream<DynamicTest> everyEncodeCase() {
        return cases.stream().map(c -> DynamicTest.dynamicTest(Json.write(c.get("text")), () -> {
            String text = str(c, "text");
            int[] ids = ints(c.get("ids"));
            assertArrayEquals(ids, tok.encode(text), "ids");
            Encoding e = tok.encodeWithOffsets(text, true);
            assertArrayEquals(ids, e.ids(), "ids with offsets");
            String[] tokens = Json.asArray(c.get("tokens"), "tokens").toArray(String[]::new);
            assertArrayEquals(tokens, e.tokens(), "tokens");
            assertEquals(str(c, "decoded"), tok.decode(ids), "decoded");
            assertEquals(str(c, "decoded"), tok.decode(ids, false, false), "decoded");
            assertEquals(str(c, "decoded_skip_special"), tok.decode(ids, true, false), "decoded_skip_special");
            assertEquals(str(c, "decoded_hf_default"), tok.decode(ids, false, true), "decoded_hf_default");
            int[] noBos = tok.encode(text, false);
            assertArrayEquals(Arrays.copyOfRange(ids, 1, ids.length), noBos, "without special tokens");
            checkOffsets(text, e, 1);
            checkStream(ids, false, str(c, "decoded"));
            checkStream(ids, true, str(c, "decoded_skip_special"));
        }));
    }

    @TestFactory
    Stream<DynamicTest> everyDecodeCase() {
        return decodeCases.stream().map(c -> DynamicTest.dynamicTest(str(c, "description") + " skip="
                + c.get("skip_special_tokens") + " clean=" + c.get("clean_up_tokenization_spaces"), () -> {
            int[] ids = ints(c.get("ids"));
            boolean skip = (Boolean) c.get("skip_special_tokens");
            boolean clean = (Boolean) c.get("clean_up_tokenization_spaces");
            assertEquals(str(c, "decoded"), tok.decode(ids, skip, clean));
            if (!clean) {
                checkStream(ids, skip, str(c, "decoded"));
            }
        }));
    }

    /**
     * Offsets are within the text, monotone, leave no gap, and every group of tokens whose spans
     * overlap (the byte-level pieces of one character) decodes to exactly the text of the group's span.
     */
    static void checkOffsets(String text, Encoding e, int first) {
        int n = e.ids().length;
        assertEquals(n, e.startOffsets().length);
        assertEquals(n, e.endOffsets().length);
        if (first == 1) {
            assertEquals(0, e.startOffsets()[0]);
            assertEquals(0, e.endOffsets()[0]);
        }
        int i = first;
        int covered = 0;
        while (i < n) {
            int gs = e.startOffsets()[i];
            int ge = e.endOffsets()[i];
            assertEquals(covered, gs, "gap or overlap before token " + i);
            int j = i + 1;
            while (j < n && e.startOffsets()[j] < ge) {
                assertTrue(e.startOffsets()[j] >= e.startOffsets()[j - 1], "starts go back at token " + j);
                ge = Math.max(ge, e.endOffsets()[j]);
                j++;
            }
            assertTrue(gs < ge && ge <= text.length(), "span " + gs + ".." + ge);
            int[] group = Arrays.copyOfRange(e.ids(), i, j);
            assertEquals(text.substring(gs, ge), tok.decode(group), "tokens " + i + ".." + j + " vs their span");
            covered = ge;
            i = j;
        }
        assertEquals(text.length(), covered, "the spans cover the text");
    }

    static void checkStream(int[] ids, boolean skip, String expected) {
        OptTokenizer.StreamDecoder d = tok.newStreamDecoder(skip);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            String part = d.push(id);
            for (int k = 0; k < part.length(); k++) {
                assertFalse(Character.isHighSurrogate(part.charAt(part.length() - 1)), "split surrogate pair");
            }
            sb.append(part);
        }
        sb.append(d.finish());
        assertEquals(expected, sb.toString(), "stream decoder");
        assertEquals(tok.decode(ids, skip, false), sb.toString());
    }

    @Test
    void accessors() {
        assertEquals(50265, tok.vocabSize());
        assertEquals(2, tok.bosTokenId());
        assertEquals(2, tok.eosTokenId());
        assertEquals(1, tok.padTokenId());
        assertEquals(2, tok.unkTokenId());
        assertTrue(tok.addBosToken());
        assertEquals("Ġworld", tok.idToToken(232).orElseThrow());
        assertEquals(232, tok.tokenToId("Ġworld").orElseThrow());
        assertTrue(tok.idToToken(50265).isEmpty());
        assertTrue(tok.idToToken(-1).isEmpty());
        assertTrue(tok.tokenToId("no such token").isEmpty());
        assertEquals(Set.of(1, 2), tok.specialTokenIds());
        assertEquals(50264, tok.tokenToId("<mask>").orElseThrow());
    }

    @Test
    void badArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {5, 50265}));
        assertTrue(e.getMessage().contains("50265"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {-3}));
        assertThrows(IllegalArgumentException.class, () -> tok.newStreamDecoder(false).push(99999));
        NullPointerException npe = assertThrows(NullPointerException.class, () -> tok.encode(null));
        assertTrue(npe.getMessage().contains("text"));
        assertThrows(NullPointerException.class, () -> tok.encodeWithOffsets(null, true));
        assertThrows(NullPointerException.class, () -> tok.encodePair("a", null));
        assertThrows(NullPointerException.class, () -> tok.encodeBatch(Arrays.asList("a", null), EncodeOptions.defaults()));
    }

    @Test
    void offsetsOfMultiByteCharacters() {
        String text = "a😀b é";
        Encoding e = tok.encodeWithOffsets(text, false);
        // 😀 is two byte-level tokens: both map to the surrogate pair's span [1, 3)
        assertArrayEquals(new int[] {102, 18636, 7471, 428, 7935}, e.ids());
        assertArrayEquals(new int[] {0, 1, 1, 3, 4}, e.startOffsets());
        assertArrayEquals(new int[] {1, 3, 3, 4, 6}, e.endOffsets());
        checkOffsets(text, e, 0);
        Encoding s = tok.encodeWithOffsets("Hello </s> world", true);
        assertArrayEquals(new int[] {2, 31414, 1437, 2, 232}, s.ids());
        assertArrayEquals(new int[] {0, 0, 5, 6, 10}, s.startOffsets());
        assertArrayEquals(new int[] {0, 5, 6, 10, 16}, s.endOffsets());
    }

    @Test
    void unpairedSurrogateEncodesAsReplacementCharacter() {
        assertArrayEquals(tok.encode("a\uFFFDb"), tok.encode("a\uD800b"));
        assertArrayEquals(tok.encode("a\uFFFD"), tok.encode("a\uDC00"));
        Encoding e = tok.encodeWithOffsets("x\uD83D", false);
        assertEquals("x\uFFFD", tok.decode(e.ids()));
        assertEquals(0, e.startOffsets()[0]);
        assertEquals(1, e.endOffsets()[0]);
        for (int i = 1; i < e.length(); i++) {
            assertEquals(1, e.startOffsets()[i]);
            assertEquals(2, e.endOffsets()[i]);
        }
    }

    @Test
    void longWordsAndRepeats() {
        String word = "abc".repeat(200);
        int[] once = tok.encode(word, false);
        assertEquals(word, tok.decode(once));
        int[] twice = tok.encode(word + " " + word, false);
        assertEquals(word + " " + word, tok.decode(twice));
        // cached and uncached paths agree
        assertArrayEquals(tok.encode("Hello world", false), tok.encode("Hello world", false));
    }

    @Test
    void roundTripsArbitraryText() {
        java.util.Random r = new java.util.Random(7);
        String alphabet = "aZ9 \t\n\r'sé中😀\u00A0\u2028\u0301!?.,-_~\u0000\u001F\u3000ß";
        for (int n = 0; n < 300; n++) {
            StringBuilder sb = new StringBuilder();
            int len = r.nextInt(30);
            for (int k = 0; k < len; k++) {
                int cp = alphabet.codePointAt(alphabet.offsetByCodePoints(0,
                        r.nextInt(alphabet.codePointCount(0, alphabet.length()))));
                sb.appendCodePoint(cp);
            }
            String text = sb.toString();
            int[] ids = tok.encode(text);
            assertEquals("</s>" + text, tok.decode(ids), text);
            checkOffsets(text, tok.encodeWithOffsets(text, true), 1);
            checkStream(ids, true, text);
        }
    }

    @Test
    void streamDecoderHoldsBackIncompleteCharacters() {
        OptTokenizer.StreamDecoder d = tok.newStreamDecoder(false);
        assertEquals("", d.push(18636)); // first half of 😀
        assertEquals("😀", d.push(7471));
        assertEquals("", d.push(18636));
        assertEquals("\uFFFD", d.finish());
        // reusable after finish
        assertEquals("Hello", d.push(31414));
        assertEquals(" world", d.push(232));
        assertEquals("", d.finish());
        OptTokenizer.StreamDecoder skip = tok.newStreamDecoder(true);
        assertEquals("", skip.push(2));
        assertEquals("Hello", skip.push(31414));
        assertEquals("", skip.push(1));
    }

    @Test
    void batchPaddingAndTruncation() {
        List<String> texts = List.of("Hello world!", "A photo of a cat", "");
        BatchEncoding right = tok.encodeBatch(texts, EncodeOptions.builder()
                .padding(EncodeOptions.Padding.LONGEST).build());
        assertArrayEquals(new int[] {2, 31414, 232, 328, 1, 1}, right.inputIds()[0]);
        assertArrayEquals(new int[] {1, 1, 1, 1, 0, 0}, right.attentionMask()[0]);
        assertArrayEquals(new int[] {2, 250, 1345, 9, 10, 4758}, right.inputIds()[1]);
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1}, right.attentionMask()[1]);
        assertArrayEquals(new int[] {2, 1, 1, 1, 1, 1}, right.inputIds()[2]);
        assertArrayEquals(new int[] {0, 0, 5, 11, 0, 0}, right.startOffsets()[0]);
        assertArrayEquals(new int[] {0, 5, 11, 12, 0, 0}, right.endOffsets()[0]);

        BatchEncoding left = tok.encodeBatch(texts, EncodeOptions.builder().padding(EncodeOptions.Padding.LONGEST)
                .paddingSide(PaddingSide.LEFT).padToMultipleOf(4).build());
        assertArrayEquals(new int[] {1, 1, 1, 1, 2, 31414, 232, 328}, left.inputIds()[0]);
        assertArrayEquals(new int[] {0, 0, 0, 0, 1, 1, 1, 1}, left.attentionMask()[0]);
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 5, 11}, left.startOffsets()[0]);
        assertArrayEquals(new int[] {1, 1, 2, 250, 1345, 9, 10, 4758}, left.inputIds()[1]);

        BatchEncoding trunc = tok.encodeBatch(texts, EncodeOptions.builder().padding(EncodeOptions.Padding.MAX_LENGTH)
                .maxLength(3).truncation(true).build());
        assertArrayEquals(new int[] {2, 31414, 232}, trunc.inputIds()[0]);
        assertArrayEquals(new int[] {2, 250, 1345}, trunc.inputIds()[1]);
        assertArrayEquals(new int[] {2, 1, 1}, trunc.inputIds()[2]);
        assertArrayEquals(new int[] {1, 0, 0}, trunc.attentionMask()[2]);

        BatchEncoding ragged = tok.encodeBatch(texts, EncodeOptions.builder().addSpecialTokens(false).build());
        assertArrayEquals(new int[] {31414, 232, 328}, ragged.inputIds()[0]);
        assertEquals(0, ragged.inputIds()[2].length);

        BatchEncoding noTrunc = tok.encodeBatch(texts, EncodeOptions.builder().padding(EncodeOptions.Padding.MAX_LENGTH)
                .maxLength(5).build());
        assertEquals(6, noTrunc.inputIds()[1].length); // longer than max_length, not truncated
        assertEquals(5, noTrunc.inputIds()[0].length);
        assertThrows(IllegalArgumentException.class,
                () -> EncodeOptions.builder().padding(EncodeOptions.Padding.MAX_LENGTH).build());
    }

    @Test
    void pairEncoding() {
        PairEncoding p = tok.encodePair("Who?", "Hello world");
        assertArrayEquals(new int[] {2, 12375, 116, 2, 31414, 232}, p.ids());
        assertArrayEquals(new int[] {-1, 0, 0, -1, 1, 1}, p.sequenceIds());
        assertArrayEquals(new int[] {0, 0, 3, 0, 0, 5}, p.startOffsets());
        assertArrayEquals(new int[] {0, 3, 4, 0, 5, 11}, p.endOffsets());
        assertEquals("Ġworld", p.tokens()[5]);
        PairEncoding plain = tok.encodePair("Who?", "Hello world", false);
        assertArrayEquals(new int[] {12375, 116, 31414, 232}, plain.ids());
        assertArrayEquals(new int[] {0, 0, 1, 1}, plain.sequenceIds());
    }

    @Test
    void concurrentEncodingAgrees() throws Exception {
        List<String> texts = cases.stream().map(c -> str(c, "text")).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> fs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                fs.add(pool.submit(() -> {
                    for (int rep = 0; rep < 20; rep++) {
                        for (int i = 0; i < texts.size(); i++) {
                            if (!Arrays.equals(ints(cases.get(i).get("ids")), tok.encode(texts.get(i)))) {
                                return false;
                            }
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : fs) {
                assertTrue(f.get());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void tokenizerJsonGivesTheSameIds(@TempDir Path dir) throws IOException {
        Map<String, Object> vocab = Json.asObject(Json.parse(Files.readString(DIR.resolve("vocab.json"))), "v");
        List<Object> merges = new ArrayList<>();
        boolean pairs = false;
        for (String line : Files.readAllLines(DIR.resolve("merges.txt"), StandardCharsets.UTF_8)) {
            if (line.startsWith("#version") || line.isEmpty()) {
                continue;
            }
            // alternate the two accepted spellings
            merges.add(pairs ? List.of(line.split(" ")) : line);
            pairs = !pairs;
        }
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("vocab", vocab);
        model.put("merges", merges);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("added_tokens", List.of(added(1, "<pad>"), added(2, "</s>")));
        root.put("model", model);
        Files.writeString(dir.resolve("tokenizer.json"), Json.write(root));
        Files.writeString(dir.resolve("special_tokens_map.json"), """
                {"bos_token": {"content": "</s>", "lstrip": false, "normalized": true, "rstrip": false,
                 "single_word": false}, "eos_token": "</s>", "unk_token": "</s>", "pad_token": "<pad>"}""");
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"add_bos_token": true, "add_prefix_space": false, "errors": "replace",
                 "tokenizer_class": "GPT2Tokenizer", "model_max_length": 1000000000000000019884624838656}""");
        OptTokenizer t = OptTokenizer.fromPretrained(dir);
        assertEquals(50265, t.vocabSize());
        assertEquals(Set.of(1, 2), t.specialTokenIds());
        for (Map<String, Object> c : cases) {
            assertArrayEquals(ints(c.get("ids")), t.encode(str(c, "text")), str(c, "text"));
            assertEquals(str(c, "decoded_skip_special"), t.decode(ints(c.get("ids")), true, false));
        }
        // add_bos_token=false
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_bos_token\": false}");
        OptTokenizer noBos = OptTokenizer.fromPretrained(dir);
        assertFalse(noBos.addBosToken());
        assertArrayEquals(new int[] {31414, 232, 328}, noBos.encode("Hello world!"));
    }

    private static Map<String, Object> added(int id, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", (long) id);
        m.put("content", content);
        m.put("single_word", false);
        m.put("lstrip", false);
        m.put("rstrip", false);
        m.put("normalized", true);
        m.put("special", true);
        return m;
    }

    @Test
    void fromPretrainedWithVocabAndMergesAndConfig(@TempDir Path dir) throws IOException {
        Files.copy(DIR.resolve("vocab.json"), dir.resolve("vocab.json"));
        Files.copy(DIR.resolve("merges.txt"), dir.resolve("merges.txt"));
        OptTokenizer plain = OptTokenizer.fromPretrained(dir);
        assertArrayEquals(new int[] {2, 31414, 1437, 2, 232}, plain.encode("Hello </s> world"));
        // a config that makes <mask> special (as an added token with rstrip) and names <unk> as unk
        Files.writeString(dir.resolve("special_tokens_map.json"),
                "{\"unk_token\": \"<unk>\", \"mask_token\": {\"content\": \"<mask>\", \"lstrip\": true}}");
        OptTokenizer t = OptTokenizer.fromPretrained(dir);
        assertEquals(3, t.unkTokenId());
        assertEquals(Set.of(2, 3, 1, 50264), t.specialTokenIds());
        assertArrayEquals(new int[] {2, 31414, 50264, 232}, t.encode("Hello <mask> world"));
        assertEquals("Hello world", t.decode(t.encode("Hello <mask> world"), true, false));
    }

    @Test
    void malformedFilesAreCheckpointExceptions(@TempDir Path dir) throws IOException {
        Path vocab = dir.resolve("vocab.json");
        Path merges = dir.resolve("merges.txt");
        Files.copy(DIR.resolve("merges.txt"), merges);
        Files.writeString(vocab, "{\"a\": 0, \"b\": ");
        expectBad(vocab, () -> OptTokenizer.fromFiles(vocab, merges));
        Files.writeString(vocab, "{\"a\": \"zero\"}");
        expectBad(vocab, () -> OptTokenizer.fromFiles(vocab, merges));
        Files.writeString(vocab, "[1, 2]");
        expectBad(vocab, () -> OptTokenizer.fromFiles(vocab, merges));
        Files.writeString(vocab, "{\"a\": -1}");
        expectBad(vocab, () -> OptTokenizer.fromFiles(vocab, merges));
        Files.write(vocab, new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'});
        expectBad(vocab, () -> OptTokenizer.fromFiles(vocab, merges));
        Files.copy(DIR.resolve("vocab.json"), vocab, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(merges, "#version: 0.2\nĠ t\nthree parts here\n");
        CheckpointException e = expectBad(merges, () -> OptTokenizer.fromFiles(vocab, merges));
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
        expectBad(dir.resolve("missing.txt"), () -> OptTokenizer.fromFiles(vocab, dir.resolve("missing.txt")));
        Files.writeString(merges, "#version: 0.2\nĠ t\n");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_bos_token\": \"yes\"}");
        expectBad(dir.resolve("tokenizer_config.json"), () -> OptTokenizer.fromPretrained(dir));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"pad_token\": {\"lstrip\": false}}");
        expectBad(dir.resolve("tokenizer_config.json"), () -> OptTokenizer.fromPretrained(dir));
        Files.delete(dir.resolve("tokenizer_config.json"));
        Files.delete(vocab);
        expectBad(dir, () -> OptTokenizer.fromPretrained(dir));
        Path tj = dir.resolve("tokenizer.json");
        Files.writeString(tj, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a\"]}}");
        expectBad(tj, () -> OptTokenizer.fromPretrained(dir));
        Files.writeString(tj, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}, \"merges\": []}}");
        expectBad(tj, () -> OptTokenizer.fromPretrained(dir));
        Files.writeString(tj, "{\"model\": {\"vocab\": {\"a\": 0}}}");
        expectBad(tj, () -> OptTokenizer.fromPretrained(dir));
    }

    @Test
    void addedTokenIdsOutOfRangeAreRejectedNamingFileAndId(@TempDir Path dir) throws IOException {
        // Ids 0..3 in the vocabulary; each file below lists one or two added tokens.
        String vocabJson = "{\"a\": 0, \"b\": 1, \"</s>\": 2, \"<pad>\": 3}";
        String huge = "2147483646";
        Path tj = dir.resolve("tokenizer.json");
        Files.writeString(tj, "{\"model\": {\"type\": \"BPE\", \"vocab\": " + vocabJson
                + ", \"merges\": [\"a b\"]}, \"added_tokens\": [{\"id\": " + huge + ", \"content\": \"<x>\"}]}");
        CheckpointException e = expectBad(tj, () -> OptTokenizer.fromPretrained(dir));
        assertTrue(e.getMessage().contains(huge), e.getMessage());
        Files.delete(tj);

        Files.writeString(dir.resolve("vocab.json"), vocabJson);
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b\n");
        Path config = dir.resolve("tokenizer_config.json");
        Files.writeString(config, "{\"added_tokens_decoder\": {\"" + huge + "\": {\"content\": \"<x>\"}}}");
        e = expectBad(config, () -> OptTokenizer.fromPretrained(dir));
        assertTrue(e.getMessage().contains(huge), e.getMessage());
        Files.delete(config);

        Path added = dir.resolve("added_tokens.json");
        Files.writeString(added, "{\"<x>\": " + huge + "}");
        e = expectBad(added, () -> OptTokenizer.fromPretrained(dir));
        assertTrue(e.getMessage().contains(huge), e.getMessage());
        Files.writeString(added, "{\"<x>\": -1}");
        expectBad(added, () -> OptTokenizer.fromPretrained(dir));
        // two entries can take ids 4 and 5, not 6: the id table has no room for gaps the files cannot fill
        Files.writeString(added, "{\"<x>\": 4, \"<y>\": 6}");
        e = expectBad(added, () -> OptTokenizer.fromPretrained(dir));
        assertTrue(e.getMessage().contains("<y>") && e.getMessage().contains(" 6"), e.getMessage());
        Files.writeString(added, "{\"<x>\": 4, \"<y>\": 5}");
        OptTokenizer t = OptTokenizer.fromPretrained(dir);
        assertEquals(5, t.tokenToId("<y>").orElseThrow());
        assertArrayEquals(new int[] {2, 0, 5, 1}, t.encode("a<y>b"));
    }

    @Test
    void aDirectoryWithoutTokenizerFilesNamesEveryFileLookedFor(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0}");
        CheckpointException e = expectBad(dir, () -> OptTokenizer.fromPretrained(dir));
        String m = e.getMessage();
        assertTrue(m.contains("vocab.json (found)") && m.contains("merges.txt (absent)")
                && m.contains("tokenizer.json (absent)"), m);
        assertTrue(m.contains("conformance/fixtures/tokenizer"), "points to the bundled tokenizer: " + m);
    }

    @Test
    void encodingsAreValues() {
        Encoding a = tok.encodeWithOffsets("Hello world", true);
        Encoding b = tok.encodeWithOffsets("Hello world", true);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertTrue(a.toString().contains("[2, 31414, 232]"), a.toString());
        assertTrue(!a.equals(tok.encodeWithOffsets("Hello world", false)));
        assertEquals(tok.encodePair("a", "b"), tok.encodePair("a", "b"));
        assertEquals(tok.encodePair("a", "b").hashCode(), tok.encodePair("a", "b").hashCode());
        BatchEncoding x = tok.encodeBatch(List.of("a b", "c"), EncodeOptions.defaults());
        assertEquals(x, tok.encodeBatch(List.of("a b", "c"), EncodeOptions.defaults()));
        assertEquals(x.hashCode(), tok.encodeBatch(List.of("a b", "c"), EncodeOptions.defaults()).hashCode());
        assertTrue(x.toString().contains(Arrays.deepToString(x.inputIds())), x.toString());
    }

    interface Load {
        OptTokenizer load() throws IOException;
    }

    private static CheckpointException expectBad(Path file, Load l) {
        CheckpointException e = assertThrows(CheckpointException.class, l::load);
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        return e;
    }
}
