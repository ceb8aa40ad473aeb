package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.EmbeddingOptions.Pooling;
import dev.panopt.tokenizer.OptTokenizer;
import dev.panopt.tokenizer.PaddingSide;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link OptModel#encode}: pooling over the mask only, against the plain last hidden state; normalization. */
class EmbeddingsTest {
    static OptModel tiny;
    static OptModel big;
    static OptTokenizer tok;

    @BeforeAll
    static void load() throws Exception {
        tiny = OptModel.fromPretrained(GenerationTest.FIXTURES.resolve("cases/postln-proj-tiny"));
        big = OptModel.fromPretrained(GenerationTest.BIG);
        tok = OptTokenizer.fromPretrained(GenerationTest.FIXTURES.resolve("tokenizer"));
    }

    @AfterAll
    static void close() {
        tiny.close();
        big.close();
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int j = 0; j < expected.length; j++) {
            int k = j;
            assertTrue(Math.abs(actual[j] - expected[j]) <= 2e-4 + 2e-4 * Math.abs(expected[j]),
                    () -> what + " [" + k + "]: expected " + expected[k] + ", got " + actual[k]);
        }
    }

    static final int[] ROW = {2, 17, 250, 31, 999};

    /** The pooled vector of ROW computed by hand from an unpadded forward. */
    static float[] byHand(Pooling pooling) {
        try (BaseModelOutput out = tiny.forward(ROW)) {
            FloatTensor h = out.lastHiddenState();
            int dim = (int) h.size(2);
            if (pooling == Pooling.LAST_TOKEN) {
                return h.row(0, ROW.length - 1);
            }
            double[] acc = new double[dim];
            for (int t = 0; t < ROW.length; t++) {
                float[] r = h.row(0, t);
                for (int j = 0; j < dim; j++) {
                    acc[j] += r[j];
                }
            }
            float[] v = new float[dim];
            for (int j = 0; j < dim; j++) {
                v[j] = (float) (acc[j] / ROW.length);
            }
            return v;
        }
    }

    @Test
    void paddingOnEitherSideDoesNotChangeARowsEmbedding() {
        // ROW alone, then right- and left-padded next to a longer row; the pad positions hold ordinary
        // ids (not the pad id) to show that only the mask decides what is pooled.
        int[][] ids = {{2, 17, 250, 31, 999, 40, 41, 42}, {2, 17, 250, 31, 999, 5, 6, 7}, {5, 6, 7, 2, 17, 250, 31, 999}};
        int[][] mask = {{1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 0, 0, 0}, {0, 0, 0, 1, 1, 1, 1, 1}};
        for (Pooling p : Pooling.values()) {
            EmbeddingOptions o = EmbeddingOptions.builder().pooling(p).build();
            float[] want = byHand(p);
            float[] alone = tiny.encode(new int[][] {ROW}, null, o)[0];
            assertEquals(tiny.config().wordEmbedProjDim(), alone.length, "project_out's width");
            assertClose(want, alone, p + " alone");
            for (int batch : new int[] {1, 2, 3}) {
                float[][] e = tiny.encode(ids, mask, o.toBuilder().batchSize(batch).build());
                assertClose(want, e[1], p + " right-padded, batch " + batch);
                assertClose(want, e[2], p + " left-padded, batch " + batch);
            }
        }
    }

    @Test
    void textsGetTheSameEmbeddingWhateverTheBatch() {
        List<String> texts = List.of("A man is eating food.", "A man is eating a piece of bread.", "Hi",
                "The girl is carrying a baby, and the boy is riding a horse far away.");
        for (Pooling p : Pooling.values()) {
            EmbeddingOptions o = EmbeddingOptions.builder().pooling(p).batchSize(1).build();
            float[][] one = big.encode(tok, texts, o);
            for (PaddingSide side : PaddingSide.values()) {
                float[][] batched = big.encode(tok, texts, o.toBuilder().batchSize(4).paddingSide(side).build());
                for (int i = 0; i < texts.size(); i++) {
                    assertClose(one[i], batched[i], p + " " + side + " text " + i);
                }
            }
            assertClose(one[2], big.encode(tok, "Hi", o), p + " single text");
        }
    }

    @Test
    void normalizedEmbeddingsHaveUnitNormAndTheSameDirection() {
        List<String> texts = List.of("A man is eating food.", "Hi");
        float[][] raw = big.encode(tok, texts);
        float[][] unit = big.encode(tok, texts, EmbeddingOptions.builder().normalizeEmbeddings(true).build());
        for (int i = 0; i < texts.size(); i++) {
            double norm = 0;
            for (float x : raw[i]) {
                norm += x * x;
            }
            norm = Math.sqrt(norm);
            double unitNorm = 0;
            float[] scaled = new float[raw[i].length];
            for (int j = 0; j < raw[i].length; j++) {
                unitNorm += unit[i][j] * unit[i][j];
                scaled[j] = (float) (raw[i][j] / norm);
            }
            assertEquals(1.0, unitNorm, 1e-5);
            assertClose(scaled, unit[i], "text " + i);
        }
    }

    @Test
    void badMasksAreRejected() {
        EmbeddingOptions o = EmbeddingOptions.DEFAULT;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tiny.encode(new int[][] {{2, 5}, {2, 6}}, new int[][] {{1, 1}, {0, 0}}, o));
        assertEquals("attention_mask[1] has no 1: the row has nothing to pool", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tiny.encode(new int[][] {{2, 5}}, new int[][] {{1, 1, 1}}, o));
        assertTrue(e.getMessage().startsWith("attention_mask must be [1, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tiny.encode(new int[][] {{2, 5}, {2, 1000}}, null, o));
        assertTrue(e.getMessage().startsWith("input_ids[1][1] = 1000"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> big.encode(tok, List.of("x", ""), o.toBuilder().addSpecialTokens(false).build()));
        assertTrue(e.getMessage().startsWith("texts[1] encodes to no token"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EmbeddingOptions.builder().batchSize(0).build());
    }
}
