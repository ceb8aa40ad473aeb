package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.checkpoint.SafetensorsFile;
import dev.panopt.tokenizer.OptTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** generate(): HF's greedy ids, sampling determinism, every stopping rule, batches, streaming. */
class GenerationTest {
    static final Path FIXTURES = Path.of(System.getProperty("panopt.fixtures", "../conformance/fixtures"));
    static final Path BIG = FIXTURES.resolve("cases/opt125m-shape-f16");
    static OptForCausalLM lm;
    static OptTokenizer tok;

    @BeforeAll
    static void load() throws Exception {
        lm = OptForCausalLM.fromPretrained(BIG);
        tok = OptTokenizer.fromPretrained(FIXTURES.resolve("tokenizer"));
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    static int[] longs(SafetensorsFile f, String name) {
        return Arrays.stream(f.readLongs(name)).mapToInt(Math::toIntExact).toArray();
    }

    @Test
    void greedyReproducesTheReferenceIds() throws Exception {
        for (String c : new String[] {"preln-tiny", "postln-proj-tiny", "opt125m-shape-f16"}) {
            Path dir = FIXTURES.resolve("cases").resolve(c);
            try (OptForCausalLM m = OptForCausalLM.fromPretrained(dir);
                 SafetensorsFile exp = SafetensorsFile.open(dir.resolve("expected.safetensors"))) {
                int[] prompt = longs(exp, "greedy_prompt_ids");
                int[] want = longs(exp, "greedy_ids");
                // The reference runs without EOS stopping.
                GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(want.length).eosTokenIds().build();
                GenerationResult r = m.generate(new int[][] {prompt}, null, cfg);
                assertArrayEquals(want, r.tokens(0), c);
                assertEquals(FinishReason.MAX_NEW_TOKENS, r.reasons().get(0));
            }
        }
    }

    @Test
    void samplingIsReproducibleUnderASeed() {
        int[][] prompt = {tok.encode("The weather today")};
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(12).doSample(true).temperature(1.5).topK(0)
                .seed(1234).eosTokenIds().build();
        int[] a = lm.generate(prompt, null, cfg).tokens(0);
        int[] b = lm.generate(prompt, null, cfg).tokens(0);
        int[] c = lm.generate(prompt, null, cfg.toBuilder().seed(99).build()).tokens(0);
        int[] greedy = lm.generate(prompt, null, GenerationConfig.builder().maxNewTokens(12).eosTokenIds().build()).tokens(0);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c), "another seed should give another sample");
        assertFalse(Arrays.equals(a, greedy), "sampling at temperature 1.5 should leave the greedy path");
    }

    @Test
    void topKOneIsGreedy() {
        int[][] prompt = {tok.encode("Once upon a time")};
        GenerationConfig greedy = GenerationConfig.builder().maxNewTokens(8).eosTokenIds().build();
        GenerationConfig k1 = greedy.toBuilder().doSample(true).topK(1).seed(5).build();
        assertArrayEquals(lm.generate(prompt, null, greedy).tokens(0), lm.generate(prompt, null, k1).tokens(0));
    }

    @Test
    void eachStoppingRule() {
        int[][] prompt = {tok.encode("Hello, my dog is")};
        int[] free = lm.generate(prompt, null, GenerationConfig.builder().maxNewTokens(10).eosTokenIds().build()).tokens(0);
        // EOS: the third token made acts as EOS, so the row stops there, keeping it.
        GenerationResult eos = lm.generate(prompt, null,
                GenerationConfig.builder().maxNewTokens(10).eosTokenIds(free[2]).build());
        assertEquals(FinishReason.EOS, eos.reasons().get(0));
        assertEquals(free[2], eos.tokens(0)[eos.tokens(0).length - 1]);
        assertTrue(eos.tokens(0).length <= 3);
        // min_new_tokens bans EOS until reached.
        GenerationResult min = lm.generate(prompt, null,
                GenerationConfig.builder().maxNewTokens(10).minNewTokens(10).eosTokenIds(free[2]).build());
        assertEquals(10, min.tokens(0).length);
        for (int t : min.tokens(0)) {
            assertTrue(t != free[2], "EOS must be banned before min_new_tokens");
        }
        // an extra stop token
        GenerationResult stopTok = lm.generate(prompt, null,
                GenerationConfig.builder().maxNewTokens(10).eosTokenIds().stopTokenIds(free[1]).build());
        assertEquals(FinishReason.STOP_TOKEN, stopTok.reasons().get(0));
        int firstAt = free[0] == free[1] ? 1 : 2; // greedy output may repeat its first token
        assertEquals(firstAt, stopTok.tokens(0).length);
        // max_new_tokens
        GenerationResult max = lm.generate(prompt, null, GenerationConfig.builder().maxNewTokens(4).eosTokenIds().build());
        assertEquals(FinishReason.MAX_NEW_TOKENS, max.reasons().get(0));
        assertEquals(4, max.tokens(0).length);
        // a stop string: a piece of the free text ends the row once produced
        GenerationResult text = lm.generate(tok, List.of("Hello, my dog is"),
                GenerationConfig.builder().maxNewTokens(10).eosTokenIds().build());
        String whole = text.text(0);
        String stop = whole.substring(whole.length() / 2, whole.length() / 2 + 3);
        GenerationResult stopped = lm.generate(tok, List.of("Hello, my dog is"),
                GenerationConfig.builder().maxNewTokens(10).eosTokenIds().stopStrings(stop).build());
        assertEquals(FinishReason.STOP_STRING, stopped.reasons().get(0));
        assertTrue(stopped.text(0).contains(stop));
        assertTrue(whole.startsWith(stopped.text(0)));
        assertTrue(stopped.tokens(0).length < 10);
    }

    @Test
    void batchedRowsOfUnevenLengthMatchTheirSoloRuns() {
        List<String> prompts = List.of("Hi", "The history of the Roman empire is long and", "A cat");
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(6).eosTokenIds().build();
        GenerationResult batch = lm.generate(tok, prompts, cfg);
        for (int i = 0; i < prompts.size(); i++) {
            GenerationResult solo = lm.generate(tok, List.of(prompts.get(i)), cfg);
            assertArrayEquals(solo.tokens(0), batch.tokens(i), "row " + i);
            assertEquals(solo.text(0), batch.text(i));
        }
        // rows finish independently: stop row 1 early with its own second token as a stop id
        int stopId = batch.tokens(1)[1];
        GenerationResult uneven = lm.generate(tok, prompts, cfg.toBuilder().stopTokenIds(stopId).build());
        assertEquals(FinishReason.STOP_TOKEN, uneven.reasons().get(1));
        assertEquals(batch.tokens(1)[0] == stopId ? 1 : 2, uneven.tokens(1).length);
        assertArrayEquals(Arrays.copyOf(batch.tokens(0), uneven.tokens(0).length), uneven.tokens(0));
    }

    @Test
    void streamingEqualsTheNonStreamingResult() {
        List<String> prompts = List.of("Streaming works when", "Zürich 😀 and");
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(9).eosTokenIds().build();
        GenerationResult whole = lm.generate(tok, prompts, cfg);
        StringBuilder[] texts = {new StringBuilder(), new StringBuilder()};
        List<List<Integer>> ids = List.of(new ArrayList<>(), new ArrayList<>());
        lm.generate(tok, prompts, cfg, t -> {
            texts[t.row()].append(t.text());
            ids.get(t.row()).add(t.tokenId());
        });
        StringBuilder[] pulled = {new StringBuilder(), new StringBuilder()};
        try (TokenStream ts = lm.stream(tok, prompts, cfg)) {
            while (ts.hasNext()) {
                GeneratedToken t = ts.next();
                pulled[t.row()].append(t.text());
                assertTrue(validSurrogates(t.text()), "a delta split a character: " + t.text());
            }
        }
        for (int r = 0; r < 2; r++) {
            assertEquals(whole.text(r), texts[r].toString());
            assertEquals(whole.text(r), pulled[r].toString());
            assertArrayEquals(whole.tokens(r), ids.get(r).stream().mapToInt(Integer::intValue).toArray());
        }
    }

    @Test
    void resultAfterBreakingOutOrClosingIsTheResultSoFar() {
        List<String> prompts = List.of("Breaking out of", "A second row");
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(8).eosTokenIds().build();
        GenerationResult whole = lm.generate(tok, prompts, cfg);
        GenerationResult partial;
        try (TokenStream ts = lm.stream(tok, prompts, cfg)) {
            int pulled = 0;
            while (ts.hasNext()) {
                GeneratedToken t = ts.next();
                assertEquals(FinishReason.UNFINISHED, t.finish(), "not the row's last token");
                assertFalse(t.isLast());
                if (++pulled == 4) {
                    break;  // two steps of two rows
                }
            }
            partial = ts.result();
            ts.close();
            assertEquals(partial, ts.result(), "closing keeps the result so far");
            assertFalse(ts.hasNext());
        }
        for (int r = 0; r < 2; r++) {
            assertEquals(FinishReason.UNFINISHED, partial.reasons().get(r));
            assertEquals(FinishReason.UNFINISHED, partial.reason(r));
            assertArrayEquals(Arrays.copyOf(whole.tokens(r), 2), partial.tokens(r));
            assertTrue(whole.text(r).startsWith(partial.text(r)), partial.text(r));
        }
        // exhausted: complete, every row with its reason; the last token of a row says why it ended
        try (TokenStream ts = lm.stream(tok, prompts, cfg)) {
            List<GeneratedToken> last = ts.stream().filter(GeneratedToken::isLast).toList();
            assertEquals(2, last.size());
            last.forEach(t -> assertEquals(FinishReason.MAX_NEW_TOKENS, t.finish()));
            assertEquals(whole, ts.result());
        }
    }

    @Test
    void onePromptOverloadsEqualTheBatchOfOne() {
        GenerationConfig cfg = GenerationConfig.greedy(5);
        GenerationResult one = lm.generate(tok, "Hello, my dog is", cfg);
        GenerationResult batch = lm.generate(tok, List.of("Hello, my dog is"), cfg);
        assertEquals(batch, one, "value equality of results");
        assertEquals(batch.hashCode(), one.hashCode());
        assertEquals(batch.text(0), one.text());
        assertTrue(one.toString().contains(Arrays.toString(one.tokens(0))), one.toString());
        assertThrows(IllegalStateException.class, () -> lm.generate(tok, List.of("a", "b"), cfg).text());
        StringBuilder streamed = new StringBuilder();
        try (TokenStream ts = lm.stream(tok, "Hello, my dog is", cfg)) {
            ts.forEachRemaining(t -> streamed.append(t.text()));
        }
        assertEquals(one.text(), streamed.toString());
        StringBuilder called = new StringBuilder();
        lm.generate(tok, "Hello, my dog is", cfg, t -> called.append(t.text()));
        assertEquals(one.text(), called.toString());
    }

    @Test
    void aTokenizerLargerThanTheModelsVocabularyIsRejectedByName() throws Exception {
        try (OptForCausalLM small = OptForCausalLM.fromPretrained(FIXTURES.resolve("cases/preln-tiny"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> small.generate(tok, "Hello", GenerationConfig.greedy(2)));
            assertTrue(e.getMessage().contains("do not match") && e.getMessage().contains("50265")
                    && e.getMessage().contains("1000"), e.getMessage());
        }
    }

    private static boolean validSurrogates(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(++i))) {
                    return false;
                }
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    @Test
    void badGenerationRequestsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().maxNewTokens(0).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().temperature(0).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().topP(0).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().maxNewTokens(3).minNewTokens(4).build());
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(3).build();
        // right padding cannot be continued
        assertThrows(IllegalArgumentException.class,
                () -> lm.generate(new int[][] {{2, 100, 1}}, new int[][] {{1, 1, 0}}, cfg));
        // stop strings need text
        assertThrows(IllegalArgumentException.class, () -> lm.generate(new int[][] {{2, 100}}, null,
                GenerationConfig.builder().stopStrings("x").build()));
        // longer than the context
        assertThrows(IllegalArgumentException.class, () -> lm.generate(new int[][] {{2, 100}}, null,
                GenerationConfig.builder().maxNewTokens(lm.config().maxPositionEmbeddings()).build()));
    }

    @Test
    void processorsFollowHf() {
        float[] s = {2f, -2f, 1f, 0.5f};
        LogitsProcessing.repetitionPenalty(s, new int[] {0, 1, 0}, 3, 2.0);
        assertArrayEquals(new float[] {1f, -4f, 1f, 0.5f}, s);
        float[] n = {0, 0, 0, 0};
        // sequence 1 2 3 1 2: with n = 3 the prefix (1, 2) was followed by 3 -> 3 is banned
        LogitsProcessing.noRepeatNgram(n, new int[] {1, 2, 3, 1, 2}, 5, 3);
        assertEquals(Float.NEGATIVE_INFINITY, n[3]);
        assertEquals(0f, n[0]);
        // top-p keeps the smallest set whose mass exceeds p: here only the top token
        float[] t = {10f, 0f, 0f, 0f};
        LogitsWarping.topP(t, 0.5);
        assertArrayEquals(new float[] {10f, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, t);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(1);
        for (int i = 0; i < 50; i++) {
            assertEquals(0, LogitsWarping.sample(t, rnd));
        }
        // top-k samples only among the k best of random scores (negative ones included)
        float[] r = new float[1001];
        for (int i = 0; i < r.length; i++) {
            r[i] = (float) (rnd.nextGaussian() * 3);
        }
        float[] sorted = r.clone();
        Arrays.sort(sorted);
        float kth = sorted[r.length - 5];
        float[] warped = r.clone();
        LogitsWarping.temperature(warped, 3.0);
        LogitsWarping.topK(warped, 5);
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int i = 0; i < 2000; i++) {
            int tok = LogitsWarping.sample(warped, rnd);
            assertTrue(r[tok] >= kth, "token outside the top 5: " + r[tok]);
            seen.add(tok);
        }
        assertEquals(5, seen.size(), "at temperature 3 all of the top 5 should come up");
        // top-p over negative scores keeps the best token and drops the tail
        float[] neg = {-1f, -9f, -2f, -30f};
        LogitsWarping.topP(neg, 0.6);
        for (int i = 0; i < 100; i++) {
            int tok = LogitsWarping.sample(neg, rnd);
            assertTrue(tok == 0 || tok == 2, "token " + tok);
        }
    }
}
