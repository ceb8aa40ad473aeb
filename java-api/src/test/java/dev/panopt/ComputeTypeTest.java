package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@link SessionOptions#computeType()}: BF16 allows bf16 products in prompt passes (within the stated
 * bound of the f32 results, the same top-1), never in decode-shaped passes. Whether this machine has bf16
 * products at all is the native forward test's to assert; here the bound holds either way.
 */
class ComputeTypeTest {
    static final Path CASES = KvCacheTest.CASES;
    static final ForwardOptions CACHED = KvCacheTest.CACHED;

    @Test
    void computeTypesOtherThanF32AndBf16AreRejected() {
        assertThrows(IllegalArgumentException.class, () -> SessionOptions.builder().computeType(DType.F16).build());
        assertThrows(IllegalArgumentException.class, () -> SessionOptions.builder().computeType(DType.Q8_0).build());
        assertThrows(NullPointerException.class, () -> SessionOptions.builder().computeType(null));
        assertEquals(DType.F32, SessionOptions.DEFAULT.computeType());
        SessionOptions o = SessionOptions.builder().computeType(DType.BF16).kvCacheType(DType.F16).build();
        assertEquals(o, o.toBuilder().build());
    }

    @Test
    void bf16PromptStaysWithinItsBoundAndStepsStayF32() throws Exception {
        try (OptForCausalLM m = OptForCausalLM.fromPretrained(CASES.resolve("opt125m-shape-f16"))) {
            int[][] prompt = {{2, 100, 2000, 31, 7, 50000, 9, 12}};
            int[][] steps = {{2}, {100}, {2000}, {31}, {7}, {50000}, {9}, {12}};
            float[][] p = new float[2][], s = new float[2][];
            for (int i = 0; i < 2; i++) {
                DType t = i == 0 ? DType.F32 : DType.BF16;
                try (Session session = m.newSession(SessionOptions.builder().maxBatch(8).maxSequenceLength(8).computeType(t).build())) {
                    try (CausalLMOutput o = m.forward(ForwardRequest.inputIds(prompt).session(session).options(CACHED).build())) {
                        p[i] = o.logits().toFloatArray();
                    }
                    session.reset();
                    try (CausalLMOutput o = m.forward(ForwardRequest.inputIds(steps).session(session).options(CACHED).build())) {
                        s[i] = o.logits().toFloatArray();
                    }
                }
            }
            assertArrayEquals(s[0], s[1], "one position per row: f32 products in both sessions");
            int vocab = m.config().vocabSize();
            for (int r = 0; r < prompt[0].length; r++) {
                float mx = 0, d = 0;
                int a0 = 0, a1 = 0;
                for (int v = 0; v < vocab; v++) {
                    int i = r * vocab + v;
                    mx = Math.max(mx, Math.abs(p[0][i]));
                    d = Math.max(d, Math.abs(p[0][i] - p[1][i]));
                    a0 = p[0][i] > p[0][r * vocab + a0] ? v : a0;
                    a1 = p[1][i] > p[1][r * vocab + a1] ? v : a1;
                }
                int row = r;
                float rel = d / mx;
                assertTrue(rel <= 0.03f, () -> "position " + row + ": bf16 logits " + rel + " of the row's max from f32 (bound 0.03)");
                assertEquals(a0, a1, "top-1 at position " + r);
            }
        }
    }
}
