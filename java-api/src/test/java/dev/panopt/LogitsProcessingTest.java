package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The logits processors and warpers against examples worked by hand from HF's definitions
 * (logits_process.py), and the pipeline's order.
 */
class LogitsProcessingTest {
    static final float NEG = Float.NEGATIVE_INFINITY;

    /** Logits whose softmax is exactly p. */
    static float[] logitsOf(double... p) {
        float[] s = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            s[i] = (float) Math.log(p[i]);
        }
        return s;
    }

    static boolean[] kept(float[] s) {
        boolean[] k = new boolean[s.length];
        for (int i = 0; i < s.length; i++) {
            k[i] = s[i] != NEG;
        }
        return k;
    }

    @Test
    void presenceAndFrequencyCountOnlyGeneratedTokens() {
        float[] s = {1, 1, 1, 1};
        // prompt [0, 0], generated [1, 2, 1]: token 1 twice, token 2 once, token 0 only in the prompt
        LogitsProcessing.presenceFrequency(s, new int[] {0, 0, 1, 2, 1}, 2, 5, 0.5, 0.25);
        assertArrayEquals(new float[] {1f, 1f - (2 * 0.25f + 0.5f), 1f - (0.25f + 0.5f), 1f}, s);
        float[] off = {1, 2};
        LogitsProcessing.presenceFrequency(off, new int[] {0, 1}, 0, 2, 0, 0);
        assertArrayEquals(new float[] {1, 2}, off);
    }

    @Test
    void badWordsBanSingleTokensAlwaysAndLongerWordsWhenTheirPrefixEndsTheRow() {
        float[] s = new float[10];
        List<int[]> words = List.of(new int[] {3}, new int[] {7, 4}, new int[] {6, 7, 2}, new int[] {9, 8},
                new int[] {1, 2, 3, 4, 5});
        LogitsProcessing.badWords(s, new int[] {5, 6, 7}, 3, words);
        // [3] always; [7,4]: the row ends with 7; [6,7,2]: ends with 6,7; [9,8] does not match;
        // [1..5] is longer than the row (skipped, as HF skips words longer than input_ids)
        assertArrayEquals(new boolean[] {true, true, false, false, false, true, true, true, true, true}, kept(s));
    }

    @Test
    void thePipelineRunsHfsProcessorsInOrderAndTheUsersLast() {
        List<int[]> seen = new ArrayList<>();
        List<float[]> before = new ArrayList<>();
        LogitsProcessor spy = (ids, scores) -> {
            seen.add(ids);
            before.add(scores.clone());
            scores[0] += 100;
        };
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(3).minNewTokens(2).repetitionPenalty(2.0)
                .badWordsIds(new int[] {2}, new int[] {5}).suppressTokens(4).forcedEosTokenId(3).logitsProcessors(spy)
                .build();
        LogitsPipeline p = new LogitsPipeline(cfg, Set.of(2), 6);
        float[] s = {1, 2, 3, 4, 5, 6};
        // row [0, 1, 1]: prompt [0], one new token; EOS 2 banned by min_new_tokens; [2] alone is
        // EOS so the bad-word list ignores it; 5 is a bad word; 4 suppressed; penalty on 0 and 1
        p.process(new int[] {0, 1, 1, 99}, 3, 1, s);
        assertArrayEquals(new int[] {0, 1, 1}, seen.get(0), "the processor sees the row's tokens so far");
        assertArrayEquals(new float[] {0.5f, 1f, NEG, 4f, NEG, NEG}, before.get(0));
        assertEquals(100.5f, s[0], "the user's processor has the last word");
        // the last step (max_new_tokens - 1 produced): only the forced EOS stays, at 0; then suppression
        float[] last = {1, 2, 3, 4, 5, 6};
        p.process(new int[] {0, 1, 1, 1}, 3, 2, last);
        assertArrayEquals(new float[] {NEG, NEG, NEG, 0f, NEG, NEG}, before.get(1));
        assertThrows(IllegalArgumentException.class,
                () -> new LogitsPipeline(GenerationConfig.builder().suppressTokens(6).build(), Set.of(2), 6));
        assertThrows(IllegalArgumentException.class,
                () -> new LogitsPipeline(GenerationConfig.builder().badWordsIds(new int[] {1, 9}).build(), Set.of(2), 6));
        assertThrows(IllegalArgumentException.class,
                () -> new LogitsPipeline(GenerationConfig.builder().forcedEosTokenId(6).build(), Set.of(2), 6));
    }

    @Test
    void temperatureAndTopK() {
        float[] s = {2, -4};
        LogitsWarping.temperature(s, 2.0);
        assertArrayEquals(new float[] {1, -2}, s);
        float[] k = {1, 3, 3, 2};
        LogitsWarping.topK(k, 2);
        assertArrayEquals(new float[] {NEG, 3, 3, NEG}, k);
        float[] ties = {3, 3, 3, 1};
        LogitsWarping.topK(ties, 1); // everything tied with the k-th stays
        assertArrayEquals(new float[] {3, 3, 3, NEG}, ties);
        float[] off = {1, 2};
        LogitsWarping.topK(off, 0);
        assertArrayEquals(new float[] {1, 2}, off);
    }

    @Test
    void topPMinPTypicalAndEpsilonOnWorkedExamples() {
        // top-p 0.75: ascending, 0.05 (cumulative 0.05) and 0.15 (0.20) are at most 0.25 and go
        float[] s = logitsOf(0.5, 0.3, 0.15, 0.05);
        LogitsWarping.topP(s, 0.75);
        assertArrayEquals(new boolean[] {true, true, false, false}, kept(s));
        // min-p 0.2: cut at 0.2 * 0.6 = 0.12
        float[] m = logitsOf(0.6, 0.3, 0.08, 0.02);
        LogitsWarping.minP(m, 0.2);
        assertArrayEquals(new boolean[] {true, true, false, false}, kept(m));
        // typical: p = (1/2, 1/4, 1/8, 1/8), entropy 1.75 ln 2; |-log p - H| = (0.75, 0.25, 1.25, 1.25) ln 2,
        // so the order is 1, 0, {2, 3} with cumulative mass 0.25, 0.75, 0.875, 1
        float[] t = logitsOf(0.5, 0.25, 0.125, 0.125);
        LogitsWarping.typical(t, 0.5); // one entry below 0.5: keep up to the second (token 0)
        assertArrayEquals(new boolean[] {true, true, false, false}, kept(t));
        float[] t2 = logitsOf(0.5, 0.25, 0.125, 0.125);
        LogitsWarping.typical(t2, 0.2); // none below 0.2: only the most typical, token 1, not the most likely
        assertArrayEquals(new boolean[] {false, true, false, false}, kept(t2));
        float[] t3 = logitsOf(0.5, 0.25, 0.125, 0.125);
        LogitsWarping.typical(t3, 0.8); // two below 0.8: the third in order ties with token 3, both stay
        assertArrayEquals(new boolean[] {true, true, true, true}, kept(t3));
        // epsilon 0.05 drops 0.02; 0.9 drops all but the best
        float[] e = logitsOf(0.6, 0.3, 0.08, 0.02);
        LogitsWarping.epsilon(e, 0.05);
        assertArrayEquals(new boolean[] {true, true, true, false}, kept(e));
        float[] e2 = logitsOf(0.6, 0.3, 0.08, 0.02);
        LogitsWarping.epsilon(e2, 0.9);
        assertArrayEquals(new boolean[] {true, false, false, false}, kept(e2));
        // the pipeline's order: temperature, top-k, top-p, min-p, typical, epsilon
        GenerationConfig cfg = GenerationConfig.builder().doSample(true).temperature(0.5).topK(3).topP(0.9).minP(0.3)
                .build();
        float[] w = logitsOf(0.4, 0.3, 0.2, 0.1);
        new LogitsPipeline(cfg, Set.of(), 4).warp(w);
        // T 0.5 squares the probabilities: (16, 9, 4, 1)/30; top-3 drops 1/30; top-p keeps all three
        // (4/29 > 0.1); min-p cuts at 0.3 * 16/29: 4/29 goes
        assertArrayEquals(new boolean[] {true, true, false, false}, kept(w));
        assertEquals(2 * Math.log(0.4), w[0], 1e-5);
    }

    @Test
    void samplingDrawsOnlyKeptTokensInProportion() {
        float[] s = logitsOf(0.7, 0.2, 0.1);
        s[2] = NEG;
        SplittableRandom rnd = new SplittableRandom(7);
        int[] n = new int[3];
        for (int i = 0; i < 20000; i++) {
            n[LogitsWarping.sample(s, rnd)]++;
        }
        assertEquals(0, n[2]);
        assertEquals(0.7 / 0.9, n[0] / 20000.0, 0.015);
    }

    @Test
    void logprobsAndTheBestEntries() {
        float[] s = {0f, (float) Math.log(3), NEG, (float) Math.log(3)};
        double lse = Logprobs.logSumExp(s);
        assertEquals(Math.log(7), lse, 1e-6);
        List<TokenLogprob> top = Logprobs.top(s, 5, lse);
        assertEquals(List.of(1, 3, 0), top.stream().map(TokenLogprob::tokenId).toList(), "ties to the lower id, no -inf");
        assertEquals(Math.log(3.0 / 7), top.get(0).logprob(), 1e-6);
        assertEquals(Double.NEGATIVE_INFINITY, Logprobs.logSumExp(new float[] {NEG, NEG}));
        float[] ls = {1f, 2f, 3f};
        Logprobs.logSoftmax(ls);
        double sum = 0;
        for (float x : ls) {
            sum += Math.exp(x);
        }
        assertEquals(1.0, sum, 1e-6);
        // topIndices equals a full sort (value descending, index ascending) on random rows with ties
        SplittableRandom rnd = new SplittableRandom(3);
        for (int it = 0; it < 200; it++) {
            float[] r = new float[1 + rnd.nextInt(97)];
            for (int i = 0; i < r.length; i++) {
                r[i] = rnd.nextInt(5) == 0 ? NEG : rnd.nextInt(13) - 6;
            }
            int n = rnd.nextInt(r.length + 3);
            Integer[] all = new Integer[r.length];
            for (int i = 0; i < r.length; i++) {
                all[i] = i;
            }
            Arrays.sort(all, Comparator.<Integer>comparingDouble(i -> -r[i]).thenComparingInt(i -> i));
            int[] want = Arrays.stream(all).mapToInt(Integer::intValue).limit(n).toArray();
            assertArrayEquals(want, Logprobs.topIndices(r, n, true), "with -inf");
            int[] finite = Arrays.stream(want).filter(i -> r[i] != NEG).toArray();
            assertArrayEquals(finite, Logprobs.topIndices(r, n, false), "without -inf");
        }
        assertTrue(Logprobs.topIndices(new float[] {1}, 0, true).length == 0);
    }
}
