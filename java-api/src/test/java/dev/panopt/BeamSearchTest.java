package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.GenerationConfig.EarlyStopping;
import dev.panopt.tokenizer.OptTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Beam search (HF's BeamSearchScorer semantics) by its invariants: one beam is greedy search;
 * every returned score is the length-penalised sum of its tokens' log-probabilities as a plain
 * forward computes them; results come best first; prompts of a batch do not affect each other;
 * later stopping never scores worse.
 */
class BeamSearchTest {
    static final Path TINY = GenerationTest.FIXTURES.resolve("cases/preln-tiny");
    static final int[][] PROMPTS = {{2, 17, 45, 9, 300}, {2, 5}, {2, 800, 801, 802, 5, 6, 7}};
    static OptForCausalLM lm;
    static int[] ends; // EOS ids the model actually produces early, so hypotheses finish at different lengths

    @BeforeAll
    static void load() throws Exception {
        lm = OptForCausalLM.fromPretrained(TINY);
        GenerationConfig g = GenerationConfig.builder().maxNewTokens(3).eosTokenIds().build();
        int[] a = lm.generate(new int[][] {PROMPTS[0]}, null, g).tokens(0);
        int[] b = lm.generate(new int[][] {PROMPTS[1]}, null, g).tokens(0);
        ends = a[1] == b[2] ? new int[] {a[1]} : new int[] {a[1], b[2]};
    }

    @AfterAll
    static void close() {
        lm.close();
    }

    /** The prompts left-padded into one batch. */
    static int[][][] batch(int[]... prompts) {
        int len = Arrays.stream(prompts).mapToInt(p -> p.length).max().orElseThrow();
        int[][] ids = new int[prompts.length][len];
        int[][] mask = new int[prompts.length][len];
        for (int i = 0; i < prompts.length; i++) {
            int pad = len - prompts[i].length;
            Arrays.fill(ids[i], 0, pad, 1);
            System.arraycopy(prompts[i], 0, ids[i], pad, prompts[i].length);
            Arrays.fill(mask[i], pad, len, 1);
        }
        return new int[][][] {ids, mask};
    }

    static GenerationResult generate(GenerationConfig cfg, int[]... prompts) {
        int[][][] b = batch(prompts);
        return lm.generate(b[0], b[1], cfg);
    }

    /** Each token's log-probability from one forward over prompt + tokens. */
    static double[] plainLogprobs(OptForCausalLM lm, int[] prompt, int[] tokens) {
        int[] all = new int[prompt.length + tokens.length];
        System.arraycopy(prompt, 0, all, 0, prompt.length);
        System.arraycopy(tokens, 0, all, prompt.length, tokens.length);
        int vocab = lm.config().vocabSize();
        try (CausalLMOutput o = lm.forward(all)) {
            float[] logits = o.logits().toFloatArray();
            double[] lp = new double[tokens.length];
            for (int i = 0; i < tokens.length; i++) {
                float[] row = Arrays.copyOfRange(logits, (prompt.length - 1 + i) * vocab, (prompt.length + i) * vocab);
                lp[i] = row[tokens[i]] - Logprobs.logSumExp(row);
            }
            return lp;
        }
    }

    static GenerationConfig.Builder beams(int k) {
        return GenerationConfig.builder().maxNewTokens(8).numBeams(k).eosTokenIds(ends);
    }

    @Test
    void eachScoreIsTheLengthPenalisedSumOfItsTokensLogprobsBestFirst() {
        int eosRows = 0;
        for (double lp : new double[] {1.0, 0.6, 2.0, -0.5}) {
            GenerationConfig cfg = beams(3).numReturnSequences(3).lengthPenalty(lp).build();
            GenerationResult r = generate(cfg, PROMPTS);
            assertEquals(PROMPTS.length * 3, r.tokens().size());
            for (int p = 0; p < PROMPTS.length; p++) {
                Set<String> distinct = new HashSet<>();
                for (int j = 0; j < 3; j++) {
                    int row = p * 3 + j;
                    int[] t = r.tokens(row);
                    String what = "lp " + lp + " prompt " + p + " hypothesis " + j + " " + Arrays.toString(t);
                    assertTrue(distinct.add(Arrays.toString(t)), "hypotheses differ: " + what);
                    if (r.reason(row) == FinishReason.EOS) {
                        eosRows++;
                        assertTrue(Arrays.stream(ends).anyMatch(e -> e == t[t.length - 1]), what);
                    } else {
                        assertEquals(FinishReason.MAX_NEW_TOKENS, r.reason(row), what);
                        assertEquals(8, t.length, what);
                    }
                    double[] got = r.logprobs(row);
                    double[] plain = plainLogprobs(lm, PROMPTS[p], t);
                    double sum = 0;
                    double plainSum = 0;
                    for (int i = 0; i < t.length; i++) {
                        assertEquals(plain[i], got[i], 1e-3, what + " token " + i);
                        sum += got[i];
                        plainSum += plain[i];
                    }
                    double score = r.sequenceScore(row).orElseThrow();
                    double norm = Math.pow(t.length, lp);
                    assertEquals(sum / norm, score, 1e-9 * Math.abs(score), what);
                    assertEquals(plainSum / norm, score, 2e-3, what);
                    if (j > 0) {
                        assertTrue(score <= r.sequenceScore(row - 1).orElseThrow(), "best first: " + what);
                    }
                }
            }
        }
        assertTrue(eosRows > 0, "some hypotheses should end with an EOS id");
    }

    @Test
    void oneBeamIsGreedySearch() {
        for (EarlyStopping e : new EarlyStopping[] {EarlyStopping.FALSE, EarlyStopping.TRUE}) {
            for (double lp : new double[] {1.0, 2.0}) {
                GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(10).eosTokenIds(ends).earlyStopping(e)
                        .lengthPenalty(lp).logprobs(true).build();
                for (int[] prompt : PROMPTS) {
                    GenerationResult greedy = lm.generate(new int[][] {prompt}, null, cfg);
                    GenerationResult beam;
                    try (Decoder d = new BeamSearch(new GenerationInputs(lm, new int[][] {prompt}, null, cfg, null), 1,
                            lm.defaultSessionOptions())) {
                        while (!d.isDone()) {
                            d.step();
                        }
                        beam = d.result();
                    }
                    String what = e + " lp " + lp + " " + Arrays.toString(prompt);
                    assertArrayEquals(greedy.tokens(0), beam.tokens(0), what);
                    assertEquals(greedy.reason(0), beam.reason(0), what);
                    assertArrayEquals(greedy.logprobs(0), beam.logprobs(0), 1e-5, what);
                }
            }
        }
    }

    @Test
    void promptsOfABatchAreIndependent() {
        GenerationConfig cfg = beams(3).numReturnSequences(2).build();
        GenerationResult all = generate(cfg, PROMPTS);
        for (int p = 0; p < PROMPTS.length; p++) {
            GenerationResult solo = generate(cfg, PROMPTS[p]);
            for (int j = 0; j < 2; j++) {
                assertArrayEquals(solo.tokens(j), all.tokens(p * 2 + j), "prompt " + p + " row " + j);
                assertEquals(solo.reason(j), all.reason(p * 2 + j));
                assertEquals(solo.sequenceScore(j).orElseThrow(), all.sequenceScore(p * 2 + j).orElseThrow(), 1e-4);
            }
        }
    }

    @Test
    void stoppingLaterNeverScoresWorse() {
        for (double lp : new double[] {1.0, 2.0}) {
            double[][] best = new double[3][];
            EarlyStopping[] order = {EarlyStopping.TRUE, EarlyStopping.FALSE, EarlyStopping.NEVER};
            for (int i = 0; i < 3; i++) {
                GenerationResult r = generate(beams(2).maxNewTokens(12).lengthPenalty(lp).earlyStopping(order[i]).build(),
                        PROMPTS);
                best[i] = new double[PROMPTS.length];
                for (int p = 0; p < PROMPTS.length; p++) {
                    best[i][p] = r.sequenceScore(p).orElseThrow();
                }
            }
            for (int p = 0; p < PROMPTS.length; p++) {
                assertTrue(best[0][p] <= best[1][p] + 1e-12 && best[1][p] <= best[2][p] + 1e-12,
                        "lp " + lp + " prompt " + p + ": True " + best[0][p] + ", False " + best[1][p] + ", never "
                                + best[2][p]);
            }
        }
    }

    @Test
    void processorsScoresAndLogitsFollowTheBeams() {
        GenerationConfig cfg = beams(3).numReturnSequences(3).noRepeatNgramSize(2).suppressTokens(ends[0] + 1)
                .topLogprobs(4).outputScores(true).outputLogits(true).build();
        GenerationResult r = generate(cfg, PROMPTS[0]);
        int vocab = lm.config().vocabSize();
        for (int j = 0; j < 3; j++) {
            int[] t = r.tokens(j);
            SequenceScores s = r.scores(j);
            int[] all = new int[PROMPTS[0].length + t.length];
            System.arraycopy(PROMPTS[0], 0, all, 0, PROMPTS[0].length);
            System.arraycopy(t, 0, all, PROMPTS[0].length, t.length);
            Set<Long> bigrams = new HashSet<>();
            for (int i = 0; i + 1 < all.length; i++) {
                assertTrue(bigrams.add((long) all[i] << 32 | all[i + 1]), "a repeated bigram in " + Arrays.toString(all));
            }
            assertEquals(t.length, s.scores().size());
            assertEquals(t.length, s.logits().size());
            assertEquals(t.length, s.topLogprobs().size());
            double sum = 0;
            try (CausalLMOutput o = lm.forward(all)) {
                float[] plain = o.logits().toFloatArray();
                for (int i = 0; i < t.length; i++) {
                    assertTrue(t[i] != ends[0] + 1, "a suppressed token");
                    float[] sc = s.scores().get(i);
                    assertEquals(sc[t[i]], s.logprobs()[i], 0.0, "the processed score of the token is its logprob");
                    assertEquals(Float.NEGATIVE_INFINITY, sc[ends[0] + 1]);
                    float[] lg = s.logits().get(i);
                    int at = (PROMPTS[0].length - 1 + i) * vocab;
                    for (int v = 0; v < vocab; v += 37) {
                        assertEquals(plain[at + v], lg[v], 2e-4 + 2e-4 * Math.abs(plain[at + v]), "raw logits");
                    }
                    List<TokenLogprob> top = s.topLogprobs().get(i);
                    assertEquals(4, top.size());
                    assertTrue(top.get(0).logprob() >= s.logprobs()[i]);
                    for (int k = 1; k < 4; k++) {
                        assertTrue(top.get(k).logprob() <= top.get(k - 1).logprob());
                    }
                    assertEquals(sc[top.get(0).tokenId()], top.get(0).logprob(), 0.0);
                    sum += s.logprobs()[i];
                }
            }
            assertEquals(sum / t.length, s.sequenceScore().orElseThrow(), 1e-9);
        }
    }

    @Test
    void tokensComeOutWhenTheSearchEndsAndCancellingKeepsTheBestSoFar() throws Exception {
        GenerationConfig cfg = beams(2).numReturnSequences(2).build();
        GenerationResult whole = generate(cfg, PROMPTS[0], PROMPTS[1]);
        int[][][] b = batch(PROMPTS[0], PROMPTS[1]);
        List<GeneratedToken> called = new ArrayList<>();
        assertEquals(whole, lm.generate(b[0], b[1], cfg, called::add));
        try (TokenStream ts = lm.stream(b[0], b[1], cfg)) {
            assertEquals(FinishReason.UNFINISHED, ts.result().reason(0), "before the search ends");
            List<GeneratedToken> pulled = ts.stream().toList();
            assertEquals(called, pulled);
            assertEquals(whole, ts.result());
            for (int row = 0; row < 4; row++) {
                int r = row;
                int[] ids = pulled.stream().filter(t -> t.row() == r).mapToInt(GeneratedToken::tokenId).toArray();
                assertArrayEquals(whole.tokens(row), ids);
                double[] lps = pulled.stream().filter(t -> t.row() == r).mapToDouble(GeneratedToken::logprob).toArray();
                assertArrayEquals(whole.logprobs(row), lps, 0.0);
            }
        }
        // a processor that cancels the stream during the third step (4 beam rows a step: no EOS, so
        // no prompt leaves early): the search ends after it, every open beam CANCELLED
        AtomicInteger calls = new AtomicInteger();
        TokenStream[] holder = new TokenStream[1];
        LogitsProcessor canceller = (ids, s) -> {
            if (calls.incrementAndGet() == 2 * 2 * 2 + 1) {
                holder[0].cancel();
            }
        };
        GenerationConfig cancelled = cfg.toBuilder().maxNewTokens(20).eosTokenIds().logitsProcessors(canceller).build();
        try (TokenStream ts = lm.stream(b[0], b[1], cancelled)) {
            holder[0] = ts;
            List<GeneratedToken> got = ts.stream().toList();
            GenerationResult r = ts.result();
            assertEquals(4 * 3, got.size());
            for (int row = 0; row < 4; row++) {
                assertEquals(FinishReason.CANCELLED, r.reason(row), r.toString());
                assertEquals(3, r.tokens(row).length, r.toString());
            }
            assertEquals(r.sequenceScore(0).orElseThrow(), Arrays.stream(r.logprobs(0)).sum() / 3, 1e-9);
        }
    }

    @Test
    void textsDecodeTheReturnedTokens() throws Exception {
        OptTokenizer tok = OptTokenizer.fromPretrained(GenerationTest.FIXTURES.resolve("tokenizer"));
        try (OptForCausalLM big = OptForCausalLM.fromPretrained(GenerationTest.BIG)) {
            GenerationResult r = big.generate(tok, List.of("Hello, my dog is", "The weather"),
                    GenerationConfig.builder().maxNewTokens(6).numBeams(3).numReturnSequences(2).build());
            assertEquals(4, r.texts().size());
            for (int row = 0; row < 4; row++) {
                assertEquals(tok.decode(r.tokens(row), true, false), r.text(row));
            }
        }
    }

    @Test
    void beamRequestsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().numBeams(0).build());
        assertThrows(IllegalArgumentException.class,
                () -> GenerationConfig.builder().numBeams(2).numReturnSequences(3).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().numBeams(2).doSample(true).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().numBeams(2).stopStrings("x").build());
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().numReturnSequences(2).build());
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.builder().lengthPenalty(Double.NaN).build());
    }
}
