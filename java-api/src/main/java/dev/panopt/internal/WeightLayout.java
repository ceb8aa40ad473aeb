package dev.panopt.internal;

import dev.panopt.OptConfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The decoder tensors an {@link OptConfig} requires, exactly the set Hugging Face's
 * {@code OPTDecoder} creates (transformers 4.38), with the {@code PANOPT_T_*} kinds of panopt.h.
 * Heads ({@code lm_head}, {@code score}, {@code qa_outputs}) are not part of the decoder.
 *
 * <p>Stateless; thread-safe.
 */
public final class WeightLayout {
    // PANOPT_T_* codes of native/include/panopt.h (ABI version 1).
    public static final int T_EMBED_TOKENS = 0;
    public static final int T_EMBED_POSITIONS = 1;
    public static final int T_PROJECT_IN = 2;
    public static final int T_PROJECT_OUT = 3;
    public static final int T_FINAL_LN_WEIGHT = 4;
    public static final int T_FINAL_LN_BIAS = 5;
    public static final int T_HEAD_WEIGHT = 6;
    public static final int T_HEAD_BIAS = 7;
    public static final int T_Q_WEIGHT = 16;
    public static final int T_Q_BIAS = 17;
    public static final int T_K_WEIGHT = 18;
    public static final int T_K_BIAS = 19;
    public static final int T_V_WEIGHT = 20;
    public static final int T_V_BIAS = 21;
    public static final int T_O_WEIGHT = 22;
    public static final int T_O_BIAS = 23;
    public static final int T_ATTN_LN_WEIGHT = 24;
    public static final int T_ATTN_LN_BIAS = 25;
    public static final int T_FC1_WEIGHT = 26;
    public static final int T_FC1_BIAS = 27;
    public static final int T_FC2_WEIGHT = 28;
    public static final int T_FC2_BIAS = 29;
    public static final int T_FFN_LN_WEIGHT = 30;
    public static final int T_FFN_LN_BIAS = 31;

    private WeightLayout() {}

    /** Every decoder tensor {@code c} requires, model-level first, then layer by layer; unmodifiable. */
    public static List<WeightSpec> decoderWeights(OptConfig c) {
        long h = c.hiddenSize(), p = c.wordEmbedProjDim(), f = c.ffnDim();
        boolean bias = c.enableBias(), affine = c.layerNormElementwiseAffine();
        List<WeightSpec> out = new ArrayList<>();
        out.add(new WeightSpec("decoder.embed_tokens.weight", new long[] {c.vocabSize(), p}, T_EMBED_TOKENS, -1));
        out.add(new WeightSpec("decoder.embed_positions.weight", new long[] {c.maxPositionEmbeddings() + 2L, h},
                T_EMBED_POSITIONS, -1));
        if (c.hasProjection()) {
            // nn.Linear(proj, hidden, bias=False) and nn.Linear(hidden, proj, bias=False): [out, in].
            out.add(new WeightSpec("decoder.project_in.weight", new long[] {h, p}, T_PROJECT_IN, -1));
            out.add(new WeightSpec("decoder.project_out.weight", new long[] {p, h}, T_PROJECT_OUT, -1));
        }
        if (c.hasFinalLayerNorm() && affine) {
            out.add(new WeightSpec("decoder.final_layer_norm.weight", new long[] {h}, T_FINAL_LN_WEIGHT, -1));
            out.add(new WeightSpec("decoder.final_layer_norm.bias", new long[] {h}, T_FINAL_LN_BIAS, -1));
        }
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String l = "decoder.layers." + i + ".";
            linear(out, l + "self_attn.q_proj", h, h, T_Q_WEIGHT, bias, i);
            linear(out, l + "self_attn.k_proj", h, h, T_K_WEIGHT, bias, i);
            linear(out, l + "self_attn.v_proj", h, h, T_V_WEIGHT, bias, i);
            linear(out, l + "self_attn.out_proj", h, h, T_O_WEIGHT, bias, i);
            if (affine) {
                out.add(new WeightSpec(l + "self_attn_layer_norm.weight", new long[] {h}, T_ATTN_LN_WEIGHT, i));
                out.add(new WeightSpec(l + "self_attn_layer_norm.bias", new long[] {h}, T_ATTN_LN_BIAS, i));
            }
            linear(out, l + "fc1", f, h, T_FC1_WEIGHT, bias, i);
            linear(out, l + "fc2", h, f, T_FC2_WEIGHT, bias, i);
            if (affine) {
                out.add(new WeightSpec(l + "final_layer_norm.weight", new long[] {h}, T_FFN_LN_WEIGHT, i));
                out.add(new WeightSpec(l + "final_layer_norm.bias", new long[] {h}, T_FFN_LN_BIAS, i));
            }
        }
        return Collections.unmodifiableList(out);
    }

    /** A Linear's weight [out, in] and, with bias, its bias [out] (bias kind = weight kind + 1). */
    private static void linear(List<WeightSpec> out, String prefix, long outF, long inF, int kind, boolean bias, int layer) {
        out.add(new WeightSpec(prefix + ".weight", new long[] {outF, inF}, kind, layer));
        if (bias) {
            out.add(new WeightSpec(prefix + ".bias", new long[] {outF}, kind + 1, layer));
        }
    }
}
