package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.tokenizer.OptTokenizer;
import dev.panopt.tokenizer.PaddingSide;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link OptForCausalLM#score} and {@link OptForCausalLM#scoreContinuations}: agreement with a plain
 * forward, independence from batching and padding side, context + continuation against the
 * concatenation, the greedy flag against generation, and the harness's encoding (the shared
 * references' losses are checked in conformance/).
 */
class ScoringTest {
    static final Path FIXTURES = GenerationTest.FIXTURES;
    static OptForCausalLM tiny;
    static OptForCausalLM big;
    static OptTokenizer tok;

    @BeforeAll
    static void load() throws Exception {
        tiny = OptForCausalLM.fromPretrained(FIXTURES.resolve("cases/preln-tiny"));
        big = OptForCausalLM.fromPretrained(GenerationTest.BIG);
        tok = OptTokenizer.fromPretrained(FIXTURES.resolve("tokenizer"));
    }

    @AfterAll
    static void close() {
        tiny.close();
        big.close();
    }

    /** The float32 tolerance of the shared references: |a - b| <= 2e-4 + 2e-4 |b|. */
    static void assertClose(double expected, double actual, String what) {
        assertTrue(Math.abs(actual - expected) <= 2e-4 + 2e-4 * Math.abs(expected),
                () -> what + ": expected " + expected + ", got " + actual);
    }

    /** Rows of random ids (never the pad id 1) with lengths 2, 3, ..., so batches need padding. */
    static int[][] randomRows(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] rows = new int[n][];
        for (int i = 0; i < n; i++) {
            rows[i] = new int[2 + (i * 5) % 11];
            rows[i][0] = 2;
            for (int t = 1; t < rows[i].length; t++) {
                rows[i][t] = 4 + r.nextInt(996);
            }
        }
        return rows;
    }

    @Test
    void logprobsAreTheLogSoftmaxOfAPlainForwardAndTheirMeanIsMinusTheLoss() {
        int[][] rows = randomRows(5, 11);
        List<SequenceScore> scores = tiny.score(rows, ScoreOptions.builder().batchSize(3).build());
        for (int i = 0; i < rows.length; i++) {
            int[] row = rows[i];
            SequenceScore s = scores.get(i);
            assertArrayEquals(row, s.tokenIds());
            assertEquals(row.length - 1, s.numScoredTokens());
            try (CausalLMOutput out = tiny.forward(ForwardRequest.inputIds(row).labels(new int[][] {row}).build())) {
                for (int t = 1; t < row.length; t++) {
                    float[] logits = out.logits().row(0, t - 1);
                    double lse = 0;
                    double max = Double.NEGATIVE_INFINITY;
                    for (float v : logits) {
                        max = Math.max(max, v);
                    }
                    for (float v : logits) {
                        lse += Math.exp(v - max);
                    }
                    double want = logits[row[t]] - (Math.log(lse) + max);
                    assertClose(want, s.tokenLogprobs()[t - 1], "row " + i + " token " + t);
                }
                double loss = out.loss().orElseThrow();
                double n = row.length - 1;
                assertEquals(-loss, s.mean(), 1e-5 + 1e-5 * loss, "row " + i + " mean vs HF loss");
                assertEquals(-loss * n, s.sum(), n * (1e-5 + 1e-5 * loss), "row " + i + " sum vs HF loss");
                assertEquals(Math.exp(-s.mean()), s.perplexity(), 1e-12 * s.perplexity());
                double sumOfFloats = 0;
                for (float lp : s.tokenLogprobs()) {
                    sumOfFloats += lp;
                }
                assertEquals(s.sum(), sumOfFloats, 1e-5 * n);
            }
        }
    }

    @Test
    void batchingAndPaddingSideDoNotChangeAnyResult() {
        int[][] rows = randomRows(9, 5);
        List<SequenceScore> one = tiny.score(rows, ScoreOptions.builder().batchSize(1).build());
        for (int batch : new int[] {2, 4, 9}) {
            for (PaddingSide side : PaddingSide.values()) {
                List<SequenceScore> got = tiny.score(rows, ScoreOptions.builder().batchSize(batch).paddingSide(side).build());
                for (int i = 0; i < rows.length; i++) {
                    assertArrayEquals(one.get(i).tokenIds(), got.get(i).tokenIds());
                    float[] a = one.get(i).tokenLogprobs();
                    float[] b = got.get(i).tokenLogprobs();
                    for (int t = 0; t < a.length; t++) {
                        assertClose(a[t], b[t], "batch " + batch + " " + side + " row " + i + " token " + t);
                    }
                    assertClose(one.get(i).sum(), got.get(i).sum(), "sum, batch " + batch + " " + side + " row " + i);
                }
            }
        }
    }

    @Test
    void textBatchesGiveEveryTextItsOwnResult() {
        List<String> texts = List.of("Hello, my dog is cute", "Hi", "The history of the Roman empire is long and varied.",
                "Once upon a time there was a small village by the sea, and everyone in it knew everyone else.");
        List<SequenceScore> batched = big.score(tok, texts, ScoreOptions.builder().batchSize(4).paddingSide(PaddingSide.LEFT)
                .build());
        for (int i = 0; i < texts.size(); i++) {
            SequenceScore alone = big.score(tok, texts.get(i));
            assertArrayEquals(tok.encode(texts.get(i)), alone.tokenIds());
            assertArrayEquals(alone.tokenIds(), batched.get(i).tokenIds());
            for (int t = 0; t < alone.numScoredTokens(); t++) {
                assertClose(alone.tokenLogprobs()[t], batched.get(i).tokenLogprobs()[t], "text " + i + " token " + t);
            }
        }
        // Without the BOS the text's first token is context only.
        SequenceScore noBos = big.score(tok, texts.subList(0, 1), ScoreOptions.builder().addSpecialTokens(false).build())
                .get(0);
        assertArrayEquals(tok.encode(texts.get(0), false), noBos.tokenIds());
    }

    @Test
    void continuationAgreesWithScoringTheConcatenation() {
        int[][] rows = randomRows(6, 23);
        int[][] ctx = new int[rows.length][];
        int[][] cont = new int[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            int cut = Math.max(1, rows[i].length / 2);
            ctx[i] = Arrays.copyOf(rows[i], cut);
            cont[i] = Arrays.copyOfRange(rows[i], cut, rows[i].length);
        }
        ScoreOptions o = ScoreOptions.builder().batchSize(4).paddingSide(PaddingSide.LEFT).build();
        List<ContinuationScore> pairs = tiny.scoreContinuations(ctx, cont, o);
        List<SequenceScore> whole = tiny.score(rows, ScoreOptions.builder().batchSize(1).build());
        for (int i = 0; i < rows.length; i++) {
            ContinuationScore p = pairs.get(i);
            assertArrayEquals(ctx[i], p.contextIds());
            assertArrayEquals(cont[i], p.continuationIds());
            float[] all = whole.get(i).tokenLogprobs();
            double tail = 0;
            for (int k = 0; k < cont[i].length; k++) {
                float w = all[all.length - cont[i].length + k];
                assertClose(w, p.tokenLogprobs()[k], "pair " + i + " token " + k);
                tail += w;
            }
            assertClose(tail, p.logLikelihood(), "pair " + i + " log-likelihood");
        }
    }

    @Test
    void textContinuationsAreThoseOfTheConcatenatedText() {
        String context = "The capital of France is";
        List<String> choices = List.of(" Paris", " London and not Paris", "!");
        List<ContinuationScore> s = big.scoreContinuations(tok, java.util.Collections.nCopies(3, context), choices);
        for (int i = 0; i < choices.size(); i++) {
            int[] whole = tok.encode(context + choices.get(i));
            int[] ctx = tok.encode(context);
            assertArrayEquals(ctx, s.get(i).contextIds());
            assertArrayEquals(Arrays.copyOfRange(whole, ctx.length, whole.length), s.get(i).continuationIds());
            SequenceScore full = big.score(tok, context + choices.get(i));
            float[] lp = full.tokenLogprobs();
            int n = s.get(i).continuationIds().length;
            for (int k = 0; k < n; k++) {
                assertClose(lp[lp.length - n + k], s.get(i).tokenLogprobs()[k], "choice " + i + " token " + k);
            }
        }
    }

    @Test
    void isGreedyExactlyWhenGenerationWouldProduceTheContinuation() {
        int[] prompt = tok.encode("In a shocking finding, scientists");
        int[] greedy = big.generate(new int[][] {prompt}, null, GenerationConfig.builder().maxNewTokens(5).eosTokenIds()
                .build()).tokens(0);
        int[] other = greedy.clone();
        other[4] = other[4] == 100 ? 101 : 100;
        List<ContinuationScore> s = big.scoreContinuations(new int[][] {prompt, prompt}, new int[][] {greedy, other},
                ScoreOptions.DEFAULT);
        assertTrue(s.get(0).isGreedy());
        assertFalse(s.get(1).isGreedy());
        assertClose(s.get(0).tokenLogprobs()[0], s.get(1).tokenLogprobs()[0], "shared first token");
        assertTrue(s.get(0).tokenLogprobs()[4] > s.get(1).tokenLogprobs()[4], "the greedy token is the likelier one");
    }

    @Test
    void pairsAreEncodedAsLmEvaluationHarnessDoes() {
        int[][] p = Scoring.encodePair(tok, "Hello ", "world", false);
        assertArrayEquals(tok.encode("Hello", false), p[0], "trailing space leaves the context");
        int[] whole = tok.encode("Hello world", false);
        assertArrayEquals(Arrays.copyOfRange(whole, p[0].length, whole.length), p[1]);
        assertArrayEquals(new int[] {tok.bosTokenId()}, Scoring.encodePair(tok, "", "world", false)[0], "empty context");
        assertArrayEquals(tok.encode("world", false), Scoring.encodePair(tok, "", "world", true)[1]);
        assertArrayEquals(new int[] {tok.bosTokenId()}, Scoring.encodePair(tok, " \u00a0\t", "x", false)[0],
                "a whitespace-only context is the BOS");
        assertArrayEquals(tok.encode("Hello"), Scoring.encodePair(tok, "Hello\n\n", "world", true)[0]);
        assertTrue(Scoring.isPythonSpace('\u0085') && Scoring.isPythonSpace('\u00a0') && Scoring.isPythonSpace('\u3000'));
        assertFalse(Scoring.isPythonSpace('\u200b') || Scoring.isPythonSpace('x'));
    }

    @Test
    void badInputsAreRejectedNamingTheirIndex() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> big.score(tok, List.of("a long enough text", "Hello"), ScoreOptions.builder().addSpecialTokens(false)
                        .build()));
        assertTrue(e.getMessage().startsWith("texts[1] encodes to 1 token(s)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tiny.score(new int[][] {{2, 5}, {2, 1000}}, ScoreOptions.DEFAULT));
        assertEquals("tokenIds[1][1] = 1000 is outside the vocabulary [0, 1000)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tiny.score(new int[][] {{2}}, ScoreOptions.DEFAULT));
        assertTrue(e.getMessage().startsWith("tokenIds[0] has 1 id(s)"), e.getMessage());
        int max = tiny.config().maxPositionEmbeddings();
        int[] longest = new int[max + 1];
        assertEquals(max, tiny.score(new int[][] {longest}, ScoreOptions.DEFAULT).get(0).numScoredTokens());
        e = assertThrows(IllegalArgumentException.class, () -> tiny.score(new int[][] {{2, 3}, new int[max + 2]},
                ScoreOptions.DEFAULT));
        assertTrue(e.getMessage().startsWith("tokenIds[1] has " + (max + 2) + " tokens; at most max_position_embeddings + 1"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tiny.scoreContinuations(new int[][] {{2}},
                new int[][] {{3}, {4}}, ScoreOptions.DEFAULT));
        assertTrue(e.getMessage().contains("they go in pairs"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tiny.scoreContinuations(new int[][] {{2}}, new int[][] {{}},
                ScoreOptions.DEFAULT));
        assertTrue(e.getMessage().startsWith("continuationIds[0] is empty"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> big.scoreContinuations(tok, List.of("Hi"), List.of("")));
        assertEquals("continuations[0] adds no token to its context", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tiny.score(tok, List.of("hello world")));
        assertTrue(e.getMessage().startsWith("the tokenizer and the model do not match"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ScoreOptions.builder().batchSize(0).build());
        assertEquals(List.of(), tiny.score(new int[0][], ScoreOptions.DEFAULT));
    }

    @Test
    void resultsAreValuesWithCopiedArrays() {
        int[] ids = {2, 7, 9};
        float[] lp = {-1.5f, -2.5f};
        SequenceScore a = new SequenceScore(ids, lp, -4, -2, Math.exp(2));
        ids[1] = 8;
        lp[0] = 0;
        SequenceScore b = new SequenceScore(new int[] {2, 7, 9}, new float[] {-1.5f, -2.5f}, -4, -2, Math.exp(2));
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals(a.toString(), b.toString());
        a.tokenIds()[0] = 99;
        a.tokenLogprobs()[0] = 99;
        assertEquals(b, a);
        assertNotEquals(b, new SequenceScore(new int[] {2, 7, 9}, new float[] {-1.5f, -2.0f}, -4, -2, Math.exp(2)));
        assertThrows(IllegalArgumentException.class, () -> new SequenceScore(new int[] {2, 7}, new float[2], 0, 0, 1));
        ContinuationScore c = new ContinuationScore(new int[] {2}, new int[] {5, 6}, new float[] {-1, -2}, -3, true);
        assertEquals(c, new ContinuationScore(new int[] {2}, new int[] {5, 6}, new float[] {-1, -2}, -3, true));
        assertNotEquals(c, new ContinuationScore(new int[] {2}, new int[] {5, 6}, new float[] {-1, -2}, -3, false));
        assertThrows(IllegalArgumentException.class, () -> new ContinuationScore(new int[0], new int[] {5}, new float[1], 0,
                false));
    }
}
