package dev.panopt.checkpoint;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * OPT's tensor names in GGUF: Hugging Face's canonical names (without {@code model.}) and the GGUF names,
 * which follow ggml's gguf-py ({@code MODEL_TENSOR} names of {@code constants.py}) for the parts it names
 * and are Panopt's own for the parts only OPT has ({@code project_in}, {@code project_out}) and for the
 * task heads ({@code score}, {@code qa_outputs}, kept as Hugging Face names them). The suffix
 * ({@code .weight}, {@code .bias}) is kept. Stateless; thread-safe.
 */
final class OptGgufNames {
    private OptGgufNames() {}

    /** Model-level tensors: HF name without suffix → GGUF name without suffix. */
    private static final Map<String, String> MODEL = new LinkedHashMap<>();
    /** Per-layer tensors: HF name after {@code decoder.layers.N.} → GGUF name after {@code blk.N.}. */
    private static final Map<String, String> LAYER = new LinkedHashMap<>();

    static {
        MODEL.put("decoder.embed_tokens", "token_embd");
        MODEL.put("decoder.embed_positions", "position_embd");
        MODEL.put("decoder.project_in", "project_in");
        MODEL.put("decoder.project_out", "project_out");
        MODEL.put("decoder.final_layer_norm", "output_norm");
        MODEL.put("lm_head", "output");
        MODEL.put("score", "score");
        MODEL.put("qa_outputs", "qa_outputs");
        LAYER.put("self_attn.q_proj", "attn_q");
        LAYER.put("self_attn.k_proj", "attn_k");
        LAYER.put("self_attn.v_proj", "attn_v");
        LAYER.put("self_attn.out_proj", "attn_output");
        LAYER.put("self_attn_layer_norm", "attn_norm");
        LAYER.put("fc1", "ffn_up");
        LAYER.put("fc2", "ffn_down");
        LAYER.put("final_layer_norm", "ffn_norm");
    }

    private static final Map<String, String> MODEL_BY_GGUF = invert(MODEL);
    private static final Map<String, String> LAYER_BY_GGUF = invert(LAYER);

    private static final Pattern HF_LAYER = Pattern.compile("decoder\\.layers\\.(0|[1-9][0-9]{0,8})\\.(.+)\\.(weight|bias)");
    private static final Pattern GGUF_LAYER = Pattern.compile("blk\\.(0|[1-9][0-9]{0,8})\\.(.+)\\.(weight|bias)");
    private static final Pattern SUFFIXED = Pattern.compile("(.+)\\.(weight|bias)");

    /**
     * The GGUF name of a Hugging Face canonical name.
     *
     * @return the name, or empty for a tensor OPT's mapping does not know
     */
    static Optional<String> toGguf(String hf) {
        return translate(hf, HF_LAYER, "blk.", MODEL, LAYER);
    }

    /**
     * The Hugging Face canonical name of a GGUF name.
     *
     * @return the name, or empty for a tensor OPT's mapping does not know
     */
    static Optional<String> toHf(String gguf) {
        return translate(gguf, GGUF_LAYER, "decoder.layers.", MODEL_BY_GGUF, LAYER_BY_GGUF);
    }

    private static Optional<String> translate(String name, Pattern layer, String layerPrefix, Map<String, String> model,
                                              Map<String, String> perLayer) {
        Matcher m = layer.matcher(name);
        if (m.matches()) {
            String part = perLayer.get(m.group(2));
            return part == null ? Optional.empty() : Optional.of(layerPrefix + m.group(1) + "." + part + "." + m.group(3));
        }
        Matcher s = SUFFIXED.matcher(name);
        if (s.matches() && model.containsKey(s.group(1))) {
            return Optional.of(model.get(s.group(1)) + "." + s.group(2));
        }
        return Optional.empty();
    }

    private static Map<String, String> invert(Map<String, String> m) {
        Map<String, String> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(v, k));
        return out;
    }
}
