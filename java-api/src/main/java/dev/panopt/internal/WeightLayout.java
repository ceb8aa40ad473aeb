package dev.panopt.internal;

import dev.panopt.OptConfig;
import dev.panopt.bindings.PanoptH;

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
    private WeightLayout() {}

    /** Every decoder tensor {@code c} requires, model-level first, then layer by layer; unmodifiable. */
    public static List<WeightSpec> decoderWeights(OptConfig c) {
        List<WeightSpec> out = new ArrayList<>(modelWeights(c));
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            out.addAll(layerWeights(c, i));
        }
        return Collections.unmodifiableList(out);
    }

    /** The model-level decoder tensors (embeddings, projections, final LayerNorm); unmodifiable. */
    public static List<WeightSpec> modelWeights(OptConfig c) {
        long h = c.hiddenSize(), p = c.wordEmbedProjDim();
        List<WeightSpec> out = new ArrayList<>();
        out.add(new WeightSpec("decoder.embed_tokens.weight", new long[] {c.vocabSize(), p}, PanoptH.T_EMBED_TOKENS, -1));
        out.add(new WeightSpec("decoder.embed_positions.weight", new long[] {c.maxPositionEmbeddings() + 2L, h},
                PanoptH.T_EMBED_POSITIONS, -1));
        if (c.hasProjection()) {
            // nn.Linear(proj, hidden, bias=False) and nn.Linear(hidden, proj, bias=False): [out, in].
            out.add(new WeightSpec("decoder.project_in.weight", new long[] {h, p}, PanoptH.T_PROJECT_IN, -1));
            out.add(new WeightSpec("decoder.project_out.weight", new long[] {p, h}, PanoptH.T_PROJECT_OUT, -1));
        }
        if (c.hasFinalLayerNorm() && c.layerNormElementwiseAffine()) {
            out.add(new WeightSpec("decoder.final_layer_norm.weight", new long[] {h}, PanoptH.T_FINAL_LN_WEIGHT, -1));
            out.add(new WeightSpec("decoder.final_layer_norm.bias", new long[] {h}, PanoptH.T_FINAL_LN_BIAS, -1));
        }
        return Collections.unmodifiableList(out);
    }

    /** The tensors of decoder layer {@code i}; unmodifiable. */
    public static List<WeightSpec> layerWeights(OptConfig c, int i) {
        long h = c.hiddenSize(), f = c.ffnDim();
        boolean bias = c.enableBias(), affine = c.layerNormElementwiseAffine();
        List<WeightSpec> out = new ArrayList<>();
        String l = "decoder.layers." + i + ".";
        linear(out, l + "self_attn.q_proj", h, h, PanoptH.T_Q_WEIGHT, bias, i);
        linear(out, l + "self_attn.k_proj", h, h, PanoptH.T_K_WEIGHT, bias, i);
        linear(out, l + "self_attn.v_proj", h, h, PanoptH.T_V_WEIGHT, bias, i);
        linear(out, l + "self_attn.out_proj", h, h, PanoptH.T_O_WEIGHT, bias, i);
        if (affine) {
            out.add(new WeightSpec(l + "self_attn_layer_norm.weight", new long[] {h}, PanoptH.T_ATTN_LN_WEIGHT, i));
            out.add(new WeightSpec(l + "self_attn_layer_norm.bias", new long[] {h}, PanoptH.T_ATTN_LN_BIAS, i));
        }
        linear(out, l + "fc1", f, h, PanoptH.T_FC1_WEIGHT, bias, i);
        linear(out, l + "fc2", h, f, PanoptH.T_FC2_WEIGHT, bias, i);
        if (affine) {
            out.add(new WeightSpec(l + "final_layer_norm.weight", new long[] {h}, PanoptH.T_FFN_LN_WEIGHT, i));
            out.add(new WeightSpec(l + "final_layer_norm.bias", new long[] {h}, PanoptH.T_FFN_LN_BIAS, i));
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
