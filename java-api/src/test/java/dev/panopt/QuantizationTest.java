package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.Quantization.TensorClass;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The presets' policies, llama.cpp's layer rule and fallbacks, the builder and the class names. */
class QuantizationTest {
    private static List<Integer> moreBitsLayers(int n) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (Quantization.moreBitsLayer(i, n)) {
                out.add(i);
            }
        }
        return out;
    }

    @Test
    void moreBitsLayersAreLlamaCppUseMoreBits() {
        // use_more_bits(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2, worked by hand:
        assertEquals(List.of(1), moreBitsLayers(2));                        // n/8 = 0, 7n/8 = 1
        assertEquals(List.of(0, 3, 6, 9, 10, 11), moreBitsLayers(12));      // OPT-125m: n/8 = 1, 7n/8 = 10
        assertEquals(List.of(0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31), moreBitsLayers(32));
        assertThrows(IllegalArgumentException.class, () -> Quantization.moreBitsLayer(12, 12));
        assertThrows(IllegalArgumentException.class, () -> Quantization.moreBitsLayer(-1, 12));
    }

    @Test
    void q4KMGivesVProjAndFc2Q6KOnMoreBitsLayersAndTheHeadQ6K() {
        Quantization q = Quantization.Q4_K_M;
        for (int i = 0; i < 12; i++) {
            DType more = Quantization.moreBitsLayer(i, 12) ? DType.Q6_K : DType.Q4_K;
            assertEquals(Optional.of(more), q.requestedType(TensorClass.V_PROJ, i, 12), "v_proj " + i);
            assertEquals(Optional.of(more), q.requestedType(TensorClass.FC2, i, 12), "fc2 " + i);
            for (TensorClass c : List.of(TensorClass.Q_PROJ, TensorClass.K_PROJ, TensorClass.OUT_PROJ, TensorClass.FC1)) {
                assertEquals(Optional.of(DType.Q4_K), q.requestedType(c, i, 12), c + " " + i);
            }
        }
        assertEquals(Optional.of(DType.Q6_K), q.requestedType(TensorClass.LM_HEAD, -1, 12));
        assertEquals(Optional.of(DType.Q6_K), q.requestedType(TensorClass.PROJECT_IN, -1, 12));
        assertEquals(Optional.of(DType.Q4_K), q.requestedType(TensorClass.EMBED_TOKENS, -1, 12));
        assertEquals(Optional.empty(), q.requestedType(TensorClass.EMBED_POSITIONS, -1, 12));
        assertEquals(Optional.empty(), q.requestedType(TensorClass.SCORE, -1, 12));
        assertEquals(Optional.empty(), q.requestedType(TensorClass.QA_OUTPUTS, -1, 12));
        assertEquals(Optional.of(DType.Q5_K), Quantization.Q5_K_M.requestedType(TensorClass.FC2, 1, 12));
        assertEquals(Optional.of(DType.Q6_K), Quantization.Q5_K_M.requestedType(TensorClass.FC2, 0, 12));
    }

    @Test
    void legacyPresetsKeepTheHeadAtQ6KExceptQ8_0() {
        for (Quantization q : List.of(Quantization.Q4_0, Quantization.Q4_1, Quantization.Q5_0, Quantization.Q5_1)) {
            DType base = DType.valueOf(q.name());
            assertEquals(Optional.of(base), q.requestedType(TensorClass.FC2, 0, 12), q.name());
            assertEquals(Optional.of(base), q.requestedType(TensorClass.V_PROJ, 11, 12), q.name());
            assertEquals(Optional.of(DType.Q6_K), q.requestedType(TensorClass.LM_HEAD, -1, 12), q.name());
        }
        assertEquals(Optional.of(DType.Q8_0), Quantization.Q8_0.requestedType(TensorClass.LM_HEAD, -1, 12));
        assertEquals(Optional.of(DType.Q6_K), Quantization.Q6_K.requestedType(TensorClass.FC1, 3, 12));
    }

    @Test
    void floatPresetsConvertEveryClassAndNoneKeepsAll() {
        for (TensorClass c : TensorClass.values()) {
            int layer = c.perLayer() ? 0 : -1;
            assertEquals(Optional.of(DType.F16), Quantization.F16.requestedType(c, layer, 2), c.name());
            assertEquals(Optional.of(DType.BF16), Quantization.BF16.requestedType(c, layer, 2), c.name());
            assertEquals(Optional.empty(), Quantization.NONE.requestedType(c, layer, 2), c.name());
        }
        assertTrue(Quantization.NONE.keepsEverything());
        assertFalse(Quantization.F16.keepsEverything());
    }

    @Test
    void fallbackFollowsLlamaCppThenF16() {
        assertEquals(DType.Q4_K, Quantization.fallback(DType.Q4_K, 768));
        assertEquals(DType.Q5_0, Quantization.fallback(DType.Q4_K, 64));
        assertEquals(DType.Q5_1, Quantization.fallback(DType.Q5_K, 96));
        assertEquals(DType.Q8_0, Quantization.fallback(DType.Q6_K, 32));
        assertEquals(DType.Q8_0, Quantization.fallback(DType.Q8_K, 160));
        assertEquals(DType.F16, Quantization.fallback(DType.Q6_K, 48));   // Q8_0 cannot take 48 either
        assertEquals(DType.F16, Quantization.fallback(DType.Q4_K, 100));
        for (DType t : List.of(DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q8_0, DType.Q8_1)) {
            assertEquals(t, Quantization.fallback(t, 64), t.name());
            assertEquals(DType.F16, Quantization.fallback(t, 48), t.name());
        }
        assertEquals(DType.BF16, Quantization.fallback(DType.BF16, 7));
        assertThrows(IllegalArgumentException.class, () -> Quantization.fallback(DType.I8, 32));
        assertThrows(IllegalArgumentException.class, () -> Quantization.fallback(DType.Q8_0, 0));
    }

    @Test
    void typeForAppliesThePolicyTheSourceAndTheFallback() {
        Quantization q = Quantization.Q4_K_M;
        assertEquals(DType.Q4_K, q.typeFor(TensorClass.FC1, DType.F16, 3072, 768, 1, 12));
        assertEquals(DType.Q6_K, q.typeFor(TensorClass.FC2, DType.F16, 768, 3072, 0, 12));
        assertEquals(DType.Q5_0, q.typeFor(TensorClass.FC1, DType.F32, 256, 64, 1, 12));
        assertEquals(DType.BF16, q.typeFor(TensorClass.EMBED_POSITIONS, DType.BF16, 2050, 768, -1, 12));
        assertEquals(DType.F16, q.typeFor(TensorClass.LM_HEAD, DType.F32, 1000, 48, -1, 12));
        assertThrows(IllegalArgumentException.class, () -> q.typeFor(TensorClass.FC1, DType.F32, 0, 64, 1, 12));
        assertThrows(IllegalArgumentException.class, () -> q.typeFor(TensorClass.FC1, DType.F32, 8, 64, 12, 12));
        assertThrows(IllegalArgumentException.class, () -> q.typeFor(TensorClass.LM_HEAD, DType.F32, 8, 64, 0, 12));
    }

    @Test
    void builderChangesClassesAndNamesTheResult() {
        Quantization q = Quantization.builder(Quantization.Q4_K_M).type(TensorClass.LM_HEAD, DType.Q8_0)
                .keep(TensorClass.EMBED_TOKENS).type(TensorClass.FC1, DType.Q4_0, DType.Q8_0).build();
        assertEquals("Q4_K_M+EMBED_TOKENS=keep+FC1=Q4_0/Q8_0+LM_HEAD=Q8_0", q.name());
        assertEquals(Optional.of(DType.Q8_0), q.requestedType(TensorClass.LM_HEAD, -1, 12));
        assertEquals(Optional.empty(), q.requestedType(TensorClass.EMBED_TOKENS, -1, 12));
        assertEquals(Optional.of(DType.Q8_0), q.requestedType(TensorClass.FC1, 0, 12));
        assertEquals(Optional.of(DType.Q4_0), q.requestedType(TensorClass.FC1, 1, 12));
        assertEquals(Optional.of(DType.Q6_K), q.requestedType(TensorClass.V_PROJ, 0, 12)); // unchanged
        assertNotEquals(Quantization.Q4_K_M, q);
        assertEquals(q, Quantization.Q4_K_M.toBuilder().type(TensorClass.LM_HEAD, DType.Q8_0).keep(TensorClass.EMBED_TOKENS)
                .type(TensorClass.FC1, DType.Q4_0, DType.Q8_0).build());
        assertEquals(Quantization.Q8_0, Quantization.Q8_0.toBuilder().build());
        assertThrows(IllegalArgumentException.class,
                () -> Quantization.builder(Quantization.NONE).type(TensorClass.LM_HEAD, DType.Q4_0, DType.Q8_0));
        assertThrows(IllegalArgumentException.class,
                () -> Quantization.builder(Quantization.NONE).type(TensorClass.FC1, DType.F64));
    }

    @Test
    void presetsByNameIgnoringCase() {
        assertSame(Quantization.Q4_K_M, Quantization.named("q4_k_m"));
        assertSame(Quantization.NONE, Quantization.named("none"));
        assertEquals(12, Quantization.presets().size());
        for (Quantization q : Quantization.presets()) {
            assertSame(q, Quantization.named(q.name()));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Quantization.named("Q3_K_S"));
        assertTrue(e.getMessage().contains("Q4_K_M") && e.getMessage().contains("Q3_K_S"), e.getMessage());
    }

    @Test
    void classesByHuggingFaceName() {
        assertEquals(Optional.of(TensorClass.V_PROJ), TensorClass.of("model.decoder.layers.11.self_attn.v_proj.weight"));
        assertEquals(Optional.of(TensorClass.FC2), TensorClass.of("decoder.layers.0.fc2.weight"));
        assertEquals(Optional.of(TensorClass.EMBED_TOKENS), TensorClass.of("decoder.embed_tokens.weight"));
        assertEquals(Optional.of(TensorClass.LM_HEAD), TensorClass.of("lm_head.weight"));
        assertEquals(Optional.of(TensorClass.QA_OUTPUTS), TensorClass.of("qa_outputs.weight"));
        assertEquals(Optional.empty(), TensorClass.of("decoder.layers.0.fc2.bias"));
        assertEquals(Optional.empty(), TensorClass.of("decoder.layers.x.fc2.weight"));
        assertEquals(Optional.empty(), TensorClass.of("decoder.layers..fc2.weight"));
        assertEquals(Optional.empty(), TensorClass.of("decoder.final_layer_norm.weight"));
        assertTrue(TensorClass.FC1.perLayer());
        assertFalse(TensorClass.LM_HEAD.perLayer());
    }
}
