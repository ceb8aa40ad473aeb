package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Greedy search and sampling: per-token log-probabilities, top alternatives, processed scores and
 * raw logits (HF's output_scores / output_logits), several samples per prompt, and the newer
 * processors and warpers end to end.
 */
class GenerationScoresTest {
    static final int[] PROMPT = BeamSearchTest.PROMPTS[0];
    static OptForCausalLM lm;

    @BeforeAll
    static void load() throws Exception {
        lm = OptForCausalLM.fromPretrained(BeamSearchTest.TINY);
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    static GenerationConfig.Builder cfg(int n) {
        return GenerationConfig.builder().maxNewTokens(n).eosTokenIds();
    }

    static GenerationResult run(GenerationConfig c, int[]... prompts) {
        int[][][] b = BeamSearchTest.batch(prompts);
        return lm.generate(b[0], b[1], c);
    }

    @Test
    void greedyLogprobsAlternativesScoresAndLogitsAgreeWithAPlainForward() {
        GenerationConfig c = cfg(8).topLogprobs(3).outputScores(true).outputLogits(true).build();
        assertTrue(c.logprobs(), "top_logprobs implies logprobs");
        List<GeneratedToken> streamed = new ArrayList<>();
        int[][][] b = BeamSearchTest.batch(PROMPT);
        GenerationResult r = lm.generate(b[0], b[1], c, streamed::add);
        int[] t = r.tokens(0);
        SequenceScores s = r.scores(0);
        double[] plain = BeamSearchTest.plainLogprobs(lm, PROMPT, t);
        assertTrue(s.sequenceScore().isEmpty(), "only beam search scores sequences");
        for (int i = 0; i < t.length; i++) {
            assertEquals(plain[i], s.logprobs()[i], 1e-3);
            List<TokenLogprob> top = s.topLogprobs().get(i);
            assertEquals(3, top.size());
            assertEquals(t[i], top.get(0).tokenId(), "greedy takes the best");
            assertEquals(s.logprobs()[i], top.get(0).logprob(), 0.0);
            assertTrue(top.get(1).logprob() <= top.get(0).logprob() && top.get(2).logprob() <= top.get(1).logprob());
            assertArrayEquals(s.logits().get(i), s.scores().get(i), "no processor: the scores are the logits");
            assertEquals(t[i], LogitsWarping.argmax(s.scores().get(i)));
            GeneratedToken g = streamed.get(i);
            assertEquals(s.logprobs()[i], g.logprob(), 0.0);
            assertEquals(top, g.topLogprobs());
        }
        // a processor shows in the scores, not in the logits
        GenerationResult p = run(cfg(8).repetitionPenalty(3.0).outputScores(true).outputLogits(true).build(), PROMPT);
        float[] sc = p.scores(0).scores().get(0);
        float[] lg = p.scores(0).logits().get(0);
        int seen = PROMPT[1];
        assertEquals(lg[seen] < 0 ? lg[seen] * 3 : lg[seen] / 3, sc[seen], 1e-6);
        // nothing asked, nothing kept
        GenerationResult none = run(cfg(4).build(), PROMPT);
        assertEquals(0, none.logprobs(0).length);
        assertTrue(none.scores(0).scores().isEmpty() && none.scores(0).logits().isEmpty());
        try (TokenStream ts = lm.stream(new int[][] {PROMPT}, null, cfg(2).build())) {
            GeneratedToken g = ts.next();
            assertTrue(Double.isNaN(g.logprob()) && g.topLogprobs().isEmpty());
        }
    }

    @Test
    void samplesPerPromptAreDrawnFromTheWarpedScores() {
        GenerationConfig c = cfg(10).doSample(true).temperature(0.8).topK(6).numReturnSequences(3).seed(42).logprobs(true)
                .outputScores(true).outputLogits(true).build();
        GenerationResult r = run(c, PROMPT, BeamSearchTest.PROMPTS[1]);
        assertEquals(6, r.tokens().size());
        assertEquals(r, run(c, PROMPT, BeamSearchTest.PROMPTS[1]), "seeded: reproducible");
        for (int p = 0; p < 2; p++) {
            Set<String> rows = new HashSet<>();
            for (int j = 0; j < 3; j++) {
                int row = p * 3 + j;
                rows.add(Arrays.toString(r.tokens(row)));
                SequenceScores s = r.scores(row);
                // every copy starts from its prompt's logits
                assertArrayEquals(r.scores(p * 3).logits().get(0), s.logits().get(0));
                for (int i = 0; i < r.tokens(row).length; i++) {
                    int tok = r.tokens(row)[i];
                    float[] want = s.logits().get(i);
                    LogitsWarping.temperature(want, 0.8);
                    LogitsWarping.topK(want, 6);
                    float[] sc = s.scores().get(i);
                    assertArrayEquals(want, sc, "the scores are the warped logits");
                    assertTrue(sc[tok] != Float.NEGATIVE_INFINITY, "a filtered token was drawn");
                    assertEquals(sc[tok] - Logprobs.logSumExp(sc), s.logprobs()[i], 1e-12);
                }
            }
            assertTrue(rows.size() > 1, "samples of one prompt should differ");
        }
        // min-p, typical-p and epsilon cutoff are wired in HF's order after top-k and top-p
        GenerationConfig w = cfg(10).doSample(true).topK(0).topP(0.95).minP(0.05).typicalP(0.9).epsilonCutoff(0.001)
                .seed(3).outputScores(true).outputLogits(true).build();
        GenerationResult wr = run(w, PROMPT);
        for (int i = 0; i < wr.tokens(0).length; i++) {
            float[] want = wr.scores(0).logits().get(i);
            LogitsWarping.topP(want, 0.95);
            LogitsWarping.minP(want, 0.05);
            LogitsWarping.typical(want, 0.9);
            LogitsWarping.epsilon(want, 0.001);
            assertArrayEquals(want, wr.scores(0).scores().get(i));
            assertTrue(want[wr.tokens(0)[i]] != Float.NEGATIVE_INFINITY);
        }
    }

    @Test
    void bansSuppressionForcedEosAndPenaltiesEndToEnd() {
        int[] free = run(cfg(20).build(), PROMPT).tokens(0);
        // bad words: a single token never comes; a pair never completes
        int[] noSingle = run(cfg(20).badWordsIds(new int[] {free[1]}).build(), PROMPT).tokens(0);
        assertTrue(Arrays.stream(noSingle).noneMatch(t -> t == free[1]));
        int[] noPair = run(cfg(20).badWordsIds(new int[] {free[0], free[1]}).build(), PROMPT).tokens(0);
        for (int i = 0; i + 1 < noPair.length; i++) {
            assertFalse(noPair[i] == free[0] && noPair[i + 1] == free[1], Arrays.toString(noPair));
        }
        assertEquals(free[0], noPair[0]);
        // suppressed tokens never come
        int[] suppressed = run(cfg(20).suppressTokens(free[0], free[2]).build(), PROMPT).tokens(0);
        assertTrue(Arrays.stream(suppressed).noneMatch(t -> t == free[0] || t == free[2]));
        // forced EOS: the last possible token is the EOS id, with probability 1
        int eos = 3;
        assertTrue(Arrays.stream(free).noneMatch(t -> t == eos));
        GenerationResult forced = run(cfg(6).eosTokenIds(eos).forcedEosTokenId(eos).logprobs(true).build(), PROMPT);
        assertArrayEquals(Arrays.copyOf(free, 5), Arrays.copyOf(forced.tokens(0), 5));
        assertEquals(eos, forced.tokens(0)[5]);
        assertEquals(FinishReason.EOS, forced.reason(0));
        assertEquals(0.0, forced.logprobs(0)[5]);
        // presence and frequency penalties: the free run repeats tokens, heavily penalised runs do not
        assertTrue(Arrays.stream(free).distinct().count() < free.length, "the free run should repeat");
        for (GenerationConfig pen : List.of(cfg(20).presencePenalty(1e4).build(), cfg(20).frequencyPenalty(1e4).build())) {
            int[] t = run(pen, PROMPT).tokens(0);
            assertEquals(t.length, Arrays.stream(t).distinct().count(), Arrays.toString(t));
        }
        // a negative presence penalty makes the first token repeat forever
        int[] loop = run(cfg(8).presencePenalty(-1e4).build(), PROMPT).tokens(0);
        assertTrue(Arrays.stream(loop).allMatch(t -> t == free[0]), Arrays.toString(loop));
    }

    @Test
    void newOptionsAreCheckedAndSurviveToBuilder() {
        List<Runnable> bad = List.of(() -> cfg(2).minP(1.5).build(), () -> cfg(2).typicalP(0).build(),
                () -> cfg(2).epsilonCutoff(1).build(), () -> cfg(2).presencePenalty(Double.NaN).build(),
                () -> cfg(2).frequencyPenalty(Double.POSITIVE_INFINITY).build(), () -> cfg(2).badWordsIds(new int[0]).build(),
                () -> cfg(2).badWordsIds(new int[] {3, -1}).build(), () -> cfg(2).suppressTokens(-1).build(),
                () -> cfg(2).forcedEosTokenId(-2).build(), () -> cfg(2).topLogprobs(-1).build());
        for (Runnable r : bad) {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, r::run);
        }
        GenerationConfig c = cfg(5).doSample(true).minP(0.1).typicalP(0.9).epsilonCutoff(0.01).presencePenalty(0.5)
                .frequencyPenalty(-0.25).badWordsIds(new int[] {1, 2}, new int[] {7}).suppressTokens(9, 8)
                .forcedEosTokenId(2).numReturnSequences(3).topLogprobs(2).outputScores(true).outputLogits(true)
                .logitsProcessors((ids, s) -> { }).build();
        GenerationConfig copy = c.toBuilder().build();
        assertEquals(c.toString(), copy.toString());
        assertEquals(c.logitsProcessors(), copy.logitsProcessors());
        assertArrayEquals(new int[] {1, 2}, copy.badWordsIds().get(0));
        GenerationConfig b = cfg(5).numBeams(3).lengthPenalty(0.7).earlyStopping(GenerationConfig.EarlyStopping.NEVER)
                .numReturnSequences(2).build();
        assertEquals(b.toString(), b.toBuilder().build().toString());
        assertTrue(b.toString().contains("num_beams=3") && b.toString().contains("early_stopping=NEVER"), b.toString());
    }

    @Test
    void aUserProcessorSeesEachRowAndDecides() {
        List<int[]> seen = new ArrayList<>();
        LogitsProcessor evenOnly = (ids, scores) -> {
            seen.add(ids);
            for (int t = 1; t < scores.length; t += 2) {
                scores[t] = Float.NEGATIVE_INFINITY;
            }
        };
        Consumer<int[]> checkEven = t -> assertTrue(Arrays.stream(t).allMatch(x -> x % 2 == 0), Arrays.toString(t));
        GenerationResult r = run(cfg(6).logitsProcessors(evenOnly).build(), PROMPT);
        checkEven.accept(r.tokens(0));
        assertEquals(6, seen.size());
        for (int i = 0; i < 6; i++) {
            int[] want = new int[PROMPT.length + i];
            System.arraycopy(PROMPT, 0, want, 0, PROMPT.length);
            System.arraycopy(r.tokens(0), 0, want, PROMPT.length, i);
            assertArrayEquals(want, seen.get(i), "step " + i);
        }
        checkEven.accept(run(cfg(6).doSample(true).seed(1).logitsProcessors(evenOnly).build(), PROMPT).tokens(0));
        GenerationResult beams = run(cfg(6).numBeams(2).numReturnSequences(2).logitsProcessors(evenOnly).build(), PROMPT);
        checkEven.accept(beams.tokens(0));
        checkEven.accept(beams.tokens(1));
    }
}
