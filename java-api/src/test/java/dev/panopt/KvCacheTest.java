package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Incremental decoding with the session cache against full forwards. */
class KvCacheTest {
    static final Path CASES = Path.of(System.getProperty("panopt.fixtures", "../conformance/fixtures")).resolve("cases");
    static final ForwardOptions CACHED = ForwardOptions.builder().useCache(true).build();

    static void assertClose(float[] expected, float[] got, String what) {
        assertEquals(expected.length, got.length, what);
        for (int i = 0; i < got.length; i++) {
            float tol = 2e-4f + 2e-4f * Math.abs(expected[i]);
            int at = i;
            assertTrue(Math.abs(expected[i] - got[i]) <= tol, () -> what + " at " + at + ": " + got[at] + " vs " + expected[at]);
        }
    }

    /** Token by token with the cache == one forward over the whole sequence, for pre- and post-LN. */
    @Test
    void incrementalDecodingEqualsAFullForward() throws Exception {
        for (String c : new String[] {"preln-tiny", "postln-proj-tiny"}) {
            try (OptForCausalLM m = OptForCausalLM.fromPretrained(CASES.resolve(c))) {
                // row 1 left-padded: positions must continue from its real tokens.
                int[][] ids = {{2, 11, 12, 13, 14, 15, 16, 17}, {1, 1, 2, 21, 22, 23, 24, 25}};
                int[][] mask = {{1, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1, 1, 1}};
                float[] full;
                try (CausalLMOutput o = m.forward(ids, mask)) {
                    full = o.logits().toFloatArray();
                }
                int vocab = m.config().vocabSize();
                int prefix = 3;
                try (Session s = m.newSession()) {
                    int[][] first = {java.util.Arrays.copyOf(ids[0], prefix), java.util.Arrays.copyOf(ids[1], prefix)};
                    int[][] firstMask = {java.util.Arrays.copyOf(mask[0], prefix), java.util.Arrays.copyOf(mask[1], prefix)};
                    try (CausalLMOutput o = m.forward(ForwardRequest.inputIds(first).attentionMask(firstMask).session(s).options(CACHED).build())) {
                        for (int b = 0; b < 2; b++) {
                            for (int t = 0; t < prefix; t++) {
                                if (mask[b][t] == 1) {
                                    assertClose(slice(full, b, t, 8, vocab), o.logits().row(b, t), c + " prefix");
                                }
                            }
                        }
                    }
                    for (int t = prefix; t < 8; t++) {
                        int[][] step = {{ids[0][t]}, {ids[1][t]}};
                        int[][] stepMask = {java.util.Arrays.copyOf(mask[0], t + 1), java.util.Arrays.copyOf(mask[1], t + 1)};
                        try (CausalLMOutput o = m.forward(ForwardRequest.inputIds(step).attentionMask(stepMask).session(s).options(CACHED).build())) {
                            assertEquals(t, o.pastLength());
                            for (int b = 0; b < 2; b++) {
                                assertClose(slice(full, b, t, 8, vocab), o.logits().row(b, 0), c + " step " + t);
                            }
                        }
                    }
                    assertEquals(8, s.pastLength());
                    assertEquals(2, s.cachedBatch());
                }
            }
        }
    }

    @Test
    void forkCopiesTheCacheAndResetForgetsIt() throws Exception {
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(CASES.resolve("preln-tiny"));
             Session s = m.newSession()) {
            m.forward(ForwardRequest.inputIds(new int[][] {{2, 5, 6}}).session(s).options(CACHED).build()).close();
            try (Session f = s.fork()) {
                assertEquals(3, f.pastLength());
                float[] a;
                float[] b;
                try (CausalLMOutput o = m.forward(ForwardRequest.inputIds(new int[][] {{7}}).attentionMask(new int[][] {{1, 1, 1, 1}}).session(s).options(CACHED).build())) {
                    a = o.logits().toFloatArray();
                }
                try (CausalLMOutput o = m.forward(ForwardRequest.inputIds(new int[][] {{7}}).attentionMask(new int[][] {{1, 1, 1, 1}}).session(f).options(CACHED).build())) {
                    b = o.logits().toFloatArray();
                }
                assertClose(a, b, "fork");
                assertEquals(4, f.pastLength());
            }
            try (PastKeyValues pkv = s.pastKeyValues()) {
                assertEquals(2, pkv.numLayers());
                assertEquals(4, pkv.keys().get(0).size(2));
            }
            s.reset();
            assertEquals(0, s.pastLength());
        }
    }

    @Test
    void cacheMisuseIsRejectedWithoutChangingIt() throws Exception {
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(CASES.resolve("preln-tiny"));
             Session s = m.newSession(SessionOptions.builder().maxBatch(2).build())) {
            m.forward(ForwardRequest.inputIds(new int[][] {{2, 5}, {2, 6}}).session(s).options(CACHED).build()).close();
            // a different batch size than the cached one
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.forward(ForwardRequest.inputIds(new int[][] {{7}}).attentionMask(new int[][] {{1, 1, 1}}).session(s).options(CACHED).build()));
            assertTrue(e.getMessage().contains("caches 2 rows"), e.getMessage());
            // more rows than the session holds
            s.reset();
            assertThrows(IllegalArgumentException.class,
                    () -> m.forward(ForwardRequest.inputIds(new int[][] {{2}, {2}, {2}}).session(s).options(CACHED).build()));
            // a cache longer than max_position_embeddings cannot be configured
            assertThrows(IllegalArgumentException.class, () -> m.newSession(SessionOptions.builder()
                    .maxSequenceLength(m.config().maxPositionEmbeddings() + 1).build()));
            // and a full cache refuses more positions
            int max = m.config().maxPositionEmbeddings();
            int[][] ids = {new int[max]};
            java.util.Arrays.fill(ids[0], 5);
            m.forward(ForwardRequest.inputIds(ids).session(s).options(CACHED).build()).close();
            assertThrows(IllegalStateException.class,
                    () -> m.forward(ForwardRequest.inputIds(new int[][] {{5}}).attentionMask(new int[][] {filled(max + 1)}).session(s).options(CACHED).build()));
            assertEquals(max, s.pastLength());
        }
    }

    @Test
    void perHeadMaskIsAppliedToEveryLayer() throws Exception {
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(CASES.resolve("preln-tiny"))) {
            int[][] ids = {{2, 5, 6, 7}};
            float[] perHead = {1, 0, 1, 0.5f};
            ForwardOptions a = ForwardOptions.builder().headMask(perHead, 2).outputAttentions(true).build();
            ForwardOptions b = ForwardOptions.builder().headMask(new float[][] {perHead, perHead}).outputAttentions(true).build();
            try (CausalLMOutput x = m.forward(ForwardRequest.inputIds(ids).options(a).build()); CausalLMOutput y = m.forward(ForwardRequest.inputIds(ids).options(b).build())) {
                assertClose(x.logits().toFloatArray(), y.logits().toFloatArray(), "head mask forms");
                assertEquals(0f, x.attentions().get(1).get(0, 1, 3, 0));
            }
        }
    }

    /** reorderCache gathers cache rows in place (beam search): repeated, dropped and added rows, and its errors. */
    @Test
    void reorderingTheCacheGathersItsRows() throws Exception {
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(CASES.resolve("preln-tiny"));
             Session s = m.newSession(SessionOptions.builder().maxBatch(4).maxSequenceLength(16).build())) {
            assertThrows(IllegalStateException.class, () -> s.reorderCache(0), "an empty cache");
            int[][] ids = {{2, 11, 12}, {2, 21, 22}, {2, 31, 32}};
            try (CausalLMOutput o = m.forward(ForwardRequest.inputIds(ids).session(s).options(CACHED).build())) {
                assertEquals(3, o.logits().size(0));
            }
            float[][] before = new float[2 * m.config().numHiddenLayers()][];
            try (PastKeyValues p = s.pastKeyValues()) {
                for (int l = 0; l < p.numLayers(); l++) {
                    before[2 * l] = p.keys().get(l).toFloatArray();
                    before[2 * l + 1] = p.values().get(l).toFloatArray();
                }
            }
            int[] rows = {2, 0, 0, 1}; // old row 2, old row 0 twice, old row 1: one row more than cached
            s.reorderCache(rows);
            assertEquals(4, s.cachedBatch());
            assertEquals(3, s.pastLength());
            try (PastKeyValues p = s.pastKeyValues()) {
                int row = before[0].length / 3;
                for (int l = 0; l < 2 * p.numLayers(); l++) {
                    float[] after = (l % 2 == 0 ? p.keys() : p.values()).get(l / 2).toFloatArray();
                    for (int i = 0; i < rows.length; i++) {
                        assertArrayEquals(java.util.Arrays.copyOfRange(before[l], rows[i] * row, (rows[i] + 1) * row),
                                java.util.Arrays.copyOfRange(after, i * row, (i + 1) * row), "layer slot " + l + " row " + i);
                    }
                }
            }
            assertThrows(IllegalArgumentException.class, () -> s.reorderCache());
            assertThrows(IllegalArgumentException.class, () -> s.reorderCache(0, 4), "row 4 of 4");
            assertThrows(IllegalArgumentException.class, () -> s.reorderCache(-1));
            assertThrows(IllegalStateException.class, () -> s.reorderCache(0, 0, 0, 0, 0), "more rows than maxBatch");
            assertEquals(4, s.cachedBatch(), "failed calls change nothing");
        }
    }

    private static int[] filled(int n) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, 1);
        return a;
    }

    private static float[] slice(float[] logits, int b, int t, int seq, int vocab) {
        return java.util.Arrays.copyOfRange(logits, (b * seq + t) * vocab, (b * seq + t + 1) * vocab);
    }

    /**
     * F16 and Q8_0 caches: the stored keys/values of layer 0 (computed from identical inputs) are the
     * f32 ones rounded as each type rounds — F16 to within half an ulp (2^-11 relative), Q8_0 to
     * within half a step of its block scale d = max|x|/127 (plus d's own f16 rounding: 127 d 2^-11,
     * so 0.57 d in all) — and the logits of cached decoding stay close to the f32-cache ones.
     */
    @Test
    void compactCachesRoundAsTheirTypeAndKeepLogitsClose() throws Exception {
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(CASES.resolve("opt125m-shape-f16"))) {
            int[][] ids = {{2, 100, 200, 300, 400, 500, 600, 700}};
            float[][] ref = decode(m, ids, DType.F32);
            float[] refKeys = layer0(m, ids, DType.F32, true);
            float[] refValues = layer0(m, ids, DType.F32, false);
            int hd = m.config().headDim();
            for (DType t : new DType[] {DType.F16, DType.Q8_0}) {
                for (boolean keys : new boolean[] {true, false}) {
                    float[] exact = keys ? refKeys : refValues;
                    float[] got = layer0(m, ids, t, keys);
                    assertEquals(exact.length, got.length);
                    for (int b0 = 0; b0 < exact.length; b0 += hd) { // one head's row
                        for (int blk = b0; blk < b0 + hd; blk += 32) {
                            float amax = 0;
                            for (int i = blk; i < Math.min(blk + 32, b0 + hd); i++) {
                                amax = Math.max(amax, Math.abs(exact[i]));
                            }
                            for (int i = blk; i < Math.min(blk + 32, b0 + hd); i++) {
                                double tol = t == DType.F16 ? Math.abs(exact[i]) * 0x1p-11 : 0.57 * amax / 127;
                                int at = i;
                                assertTrue(Math.abs(got[i] - exact[i]) <= tol, () -> t + (keys ? " key " : " value ") + at
                                        + ": " + got[at] + " vs " + exact[at]);
                            }
                        }
                    }
                }
                // logits: per-element relative error e of keys and values moves each score by at most
                // e |q||k| and each context vector by e |v|; through two layers we allow 8 e of the row's
                // largest logit (e = 2^-11 for F16, 1/254 + 2^-11 for Q8_0).
                double e = t == DType.F16 ? 0x1p-11 : 1.0 / 254 + 0x1p-11;
                float[][] got = decode(m, ids, t);
                for (int r = 0; r < ref.length; r++) {
                    float mx = 0;
                    for (float v : ref[r]) {
                        mx = Math.max(mx, Math.abs(v));
                    }
                    for (int i = 0; i < ref[r].length; i++) {
                        int rr = r;
                        int at = i;
                        assertTrue(Math.abs(got[r][i] - ref[r][i]) <= 8 * e * mx, () -> t + " logits step " + rr + " at "
                                + at + ": " + got[rr][at] + " vs " + ref[rr][at]);
                    }
                }
            }
        }
    }

    /** Last-position logits of a prefix of 3 tokens, then of each following token fed one at a time. */
    static float[][] decode(OptForCausalLM m, int[][] ids, DType cacheType) {
        int n = ids[0].length;
        float[][] out = new float[n - 2][];
        try (Session s = m.newSession(SessionOptions.builder().maxBatch(1).maxSequenceLength(16).kvCacheType(cacheType)
                .build())) {
            try (CausalLMOutput o = m.forward(ForwardRequest.inputIds(new int[][] {java.util.Arrays.copyOf(ids[0], 3)})
                    .session(s).options(CACHED).build())) {
                out[0] = o.logits().row(0, 2);
            }
            for (int t = 3; t < n; t++) {
                try (CausalLMOutput o = m.forward(ForwardRequest.inputIds(new int[][] {{ids[0][t]}}).session(s)
                        .options(CACHED).build())) {
                    out[t - 2] = o.logits().row(0, 0);
                }
            }
        }
        return out;
    }

    /** Layer 0's cached keys (or values) after one cached forward over ids, read back as f32. */
    static float[] layer0(OptForCausalLM m, int[][] ids, DType cacheType, boolean keys) {
        try (Session s = m.newSession(SessionOptions.builder().maxBatch(1).maxSequenceLength(16).kvCacheType(cacheType)
                .build())) {
            m.forward(ForwardRequest.inputIds(ids).session(s).options(CACHED).build()).close();
            try (PastKeyValues p = s.pastKeyValues()) {
                return (keys ? p.keys() : p.values()).get(0).toFloatArray();
            }
        }
    }

    @Test
    void cacheTypesOutsideF32F16Q80AreRejected() {
        assertThrows(IllegalArgumentException.class, () -> SessionOptions.builder().kvCacheType(DType.Q4_0).build());
        assertThrows(IllegalArgumentException.class, () -> SessionOptions.builder().kvCacheType(DType.BF16).build());
        assertEquals(DType.F32, SessionOptions.DEFAULT.kvCacheType());
    }
}
