package dev.panopt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Which stored format each weight of an OPT model gets when it is loaded: a policy per
 * {@link TensorClass}, as llama.cpp's {@code llama-quantize} presets give one per tensor category
 * ({@code llama_tensor_get_type} in {@code src/llama-quant.cpp}). Set on
 * {@link LoadOptions.Builder#quantization(Quantization)}; the model then converts each weight from
 * its memory-mapped checkpoint into native memory while loading.
 *
 * <p>The presets, named as llama.cpp names them ({@code Q4_K_M} is {@code llama-quantize}'s
 * {@code Q4_K_M}); "high" below is the preset's format for the LM head:
 *
 * <table>
 *   <caption>Formats per tensor class</caption>
 *   <tr><th>preset</th><th>linears</th><th>v_proj, fc2</th><th>high: LM head, project_in/out</th></tr>
 *   <tr><td>{@link #Q8_0}</td><td>Q8_0</td><td>Q8_0</td><td>Q8_0</td></tr>
 *   <tr><td>{@link #Q4_0}, {@link #Q4_1}, {@link #Q5_0}, {@link #Q5_1}</td><td>that format</td>
 *       <td>that format</td><td>Q6_K</td></tr>
 *   <tr><td>{@link #Q4_K_M}</td><td>Q4_K</td><td>Q6_K on the "more bits" layers, else Q4_K</td><td>Q6_K</td></tr>
 *   <tr><td>{@link #Q5_K_M}</td><td>Q5_K</td><td>Q6_K on the "more bits" layers, else Q5_K</td><td>Q6_K</td></tr>
 *   <tr><td>{@link #Q6_K}</td><td>Q6_K</td><td>Q6_K</td><td>Q6_K</td></tr>
 *   <tr><td>{@link #F16}, {@link #BF16}, {@link #F32}</td><td colspan="3">every 2-D weight, the position
 *       embeddings and task heads included, converted to that type</td></tr>
 *   <tr><td>{@link #NONE}</td><td colspan="3">every weight as the checkpoint stores it (the default; nothing is copied)</td></tr>
 * </table>
 *
 * <p>In every quantized preset (Q*): the linears are {@code q_proj, k_proj, v_proj, out_proj, fc1,
 * fc2}; an untied token embedding gets the linears' format (llama.cpp's {@code token_embd}); the
 * position embeddings stay as stored (llama.cpp never quantizes {@code pos_embd}); the classifier
 * ({@code score}) and QA ({@code qa_outputs}) heads stay as stored (a few rows: quantizing them saves
 * nothing and their outputs are the model's answer); {@code project_in}/{@code project_out} (OPT-350m,
 * 0.3% of its weights, on every token's path) get the high format. "More bits" layers are llama.cpp's
 * {@code use_more_bits}: {@link #moreBitsLayer(int, int)}.
 *
 * <p>Tied LM head: OPT's LM head is the token embedding ({@code tie_word_embeddings}, the default).
 * The tensor is then stored once, in {@link TensorClass#LM_HEAD}'s format (as llama.cpp quantizes a
 * tied {@code token_embd} with the output tensor's type), and both the embedding lookup and the head
 * read it; {@link TensorClass#EMBED_TOKENS} applies only to untied checkpoints and to models without
 * an LM head. To store a tied embedding smaller, set {@link TensorClass#LM_HEAD}.
 *
 * <p>Vectors (biases, LayerNorm weights) always stay in their stored float type.
 *
 * <p>Row lengths: a block format needs each row (the last dimension, {@code in_features} of a Linear)
 * to be a whole number of blocks. A tensor whose rows are not falls back as {@link #fallback(DType, long)}
 * says, and the {@link LoadReport} names it. Real OPT models never fall back (their widths are
 * multiples of 256); small test models do.
 *
 * <p>Immutable and thread-safe.
 */
public final class Quantization {
    /**
     * The OPT weights a policy assigns formats to: every 2-D tensor of the model, by role. Names as
     * in Hugging Face's state dict (canonical, without {@code model.}).
     */
    public enum TensorClass {
        /** {@code decoder.embed_tokens.weight} [vocab, word_embed_proj_dim] (untied; tied: see {@link #LM_HEAD}). */
        EMBED_TOKENS(false),
        /** {@code decoder.embed_positions.weight} [max_position_embeddings + 2, hidden]. */
        EMBED_POSITIONS(false),
        /** {@code decoder.project_in.weight} [hidden, word_embed_proj_dim] (OPT-350m). */
        PROJECT_IN(false),
        /** {@code decoder.project_out.weight} [word_embed_proj_dim, hidden] (OPT-350m). */
        PROJECT_OUT(false),
        /** {@code decoder.layers.N.self_attn.q_proj.weight} [hidden, hidden]. */
        Q_PROJ(true),
        /** {@code decoder.layers.N.self_attn.k_proj.weight} [hidden, hidden]. */
        K_PROJ(true),
        /** {@code decoder.layers.N.self_attn.v_proj.weight} [hidden, hidden] (llama.cpp's attn_v). */
        V_PROJ(true),
        /** {@code decoder.layers.N.self_attn.out_proj.weight} [hidden, hidden] (llama.cpp's attn_output). */
        OUT_PROJ(true),
        /** {@code decoder.layers.N.fc1.weight} [ffn_dim, hidden] (llama.cpp's ffn_up). */
        FC1(true),
        /** {@code decoder.layers.N.fc2.weight} [hidden, ffn_dim] (llama.cpp's ffn_down). */
        FC2(true),
        /** {@code lm_head.weight} [vocab, word_embed_proj_dim], or the tied token embedding (llama.cpp's output). */
        LM_HEAD(false),
        /** {@code score.weight} [num_labels, word_embed_proj_dim] of a sequence classifier. */
        SCORE(false),
        /** {@code qa_outputs.weight} [2, word_embed_proj_dim] of a question-answering model. */
        QA_OUTPUTS(false);

        private final boolean perLayer;

        TensorClass(boolean perLayer) {
            this.perLayer = perLayer;
        }

        /** {@return whether tensors of this class exist once per decoder layer} */
        public boolean perLayer() {
            return perLayer;
        }

        /**
         * The class of a weight by its Hugging Face name (with or without the {@code model.} prefix).
         * {@code decoder.embed_tokens.weight} is {@link #EMBED_TOKENS}: whether it is tied to the LM
         * head depends on the model, not the name.
         *
         * @param name a state-dict name, e.g. {@code model.decoder.layers.3.fc2.weight}
         * @return the class, or empty for vectors and names that are not OPT weights
         */
        public static Optional<TensorClass> of(String name) {
            Objects.requireNonNull(name, "name");
            String n = name.startsWith("model.") ? name.substring("model.".length()) : name;
            switch (n) {
                case "decoder.embed_tokens.weight": return Optional.of(EMBED_TOKENS);
                case "decoder.embed_positions.weight": return Optional.of(EMBED_POSITIONS);
                case "decoder.project_in.weight": return Optional.of(PROJECT_IN);
                case "decoder.project_out.weight": return Optional.of(PROJECT_OUT);
                case "lm_head.weight": return Optional.of(LM_HEAD);
                case "score.weight": return Optional.of(SCORE);
                case "qa_outputs.weight": return Optional.of(QA_OUTPUTS);
                default: break;
            }
            String layers = "decoder.layers.";
            if (!n.startsWith(layers)) {
                return Optional.empty();
            }
            int dot = n.indexOf('.', layers.length());
            if (dot < 0 || !isDigits(n, layers.length(), dot)) {
                return Optional.empty();
            }
            return switch (n.substring(dot + 1)) {
                case "self_attn.q_proj.weight" -> Optional.of(Q_PROJ);
                case "self_attn.k_proj.weight" -> Optional.of(K_PROJ);
                case "self_attn.v_proj.weight" -> Optional.of(V_PROJ);
                case "self_attn.out_proj.weight" -> Optional.of(OUT_PROJ);
                case "fc1.weight" -> Optional.of(FC1);
                case "fc2.weight" -> Optional.of(FC2);
                default -> Optional.empty();
            };
        }

        private static boolean isDigits(String s, int from, int to) {
            if (to <= from) {
                return false;
            }
            for (int i = from; i < to; i++) {
                if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                    return false;
                }
            }
            return true;
        }
    }

    /** A class's formats: {@code base} on every layer ({@code null}: keep the stored type), {@code moreBits} on llama.cpp's "more bits" layers. */
    private record Rule(DType base, DType moreBits) {
        static final Rule KEEP = new Rule(null, null);

        static Rule of(DType t) {
            return new Rule(t, t);
        }

        String describe() {
            if (base == null) {
                return "keep";
            }
            return base == moreBits ? base.name() : base.name() + "/" + moreBits.name();
        }
    }

    /** Every weight as the checkpoint stores it: nothing converted, nothing copied (the default). */
    public static final Quantization NONE = uniform("NONE", null);
    /** Every 2-D weight converted to F32. */
    public static final Quantization F32 = uniform("F32", DType.F32);
    /** Every 2-D weight converted to F16. */
    public static final Quantization F16 = uniform("F16", DType.F16);
    /** Every 2-D weight converted to BF16. */
    public static final Quantization BF16 = uniform("BF16", DType.BF16);
    /** llama.cpp's Q8_0: every linear, the token embedding and the LM head in Q8_0. */
    public static final Quantization Q8_0 = quantized("Q8_0", DType.Q8_0, DType.Q8_0, DType.Q8_0);
    /** llama.cpp's Q4_0: the linears and an untied token embedding in Q4_0; the LM head and project_in/out in Q6_K. */
    public static final Quantization Q4_0 = quantized("Q4_0", DType.Q4_0, DType.Q4_0, DType.Q6_K);
    /** llama.cpp's Q4_1: the linears and an untied token embedding in Q4_1; the LM head and project_in/out in Q6_K. */
    public static final Quantization Q4_1 = quantized("Q4_1", DType.Q4_1, DType.Q4_1, DType.Q6_K);
    /** llama.cpp's Q5_0: the linears and an untied token embedding in Q5_0; the LM head and project_in/out in Q6_K. */
    public static final Quantization Q5_0 = quantized("Q5_0", DType.Q5_0, DType.Q5_0, DType.Q6_K);
    /** llama.cpp's Q5_1: the linears and an untied token embedding in Q5_1; the LM head and project_in/out in Q6_K. */
    public static final Quantization Q5_1 = quantized("Q5_1", DType.Q5_1, DType.Q5_1, DType.Q6_K);
    /**
     * llama.cpp's Q4_K_M: Q4_K, except v_proj and fc2 (attn_v, ffn_down) in Q6_K on the
     * {@linkplain #moreBitsLayer more-bits layers}; the LM head and project_in/out in Q6_K.
     */
    public static final Quantization Q4_K_M = quantized("Q4_K_M", DType.Q4_K, DType.Q6_K, DType.Q6_K);
    /**
     * llama.cpp's Q5_K_M: Q5_K, except v_proj and fc2 in Q6_K on the {@linkplain #moreBitsLayer
     * more-bits layers}; the LM head and project_in/out in Q6_K.
     */
    public static final Quantization Q5_K_M = quantized("Q5_K_M", DType.Q5_K, DType.Q6_K, DType.Q6_K);
    /** llama.cpp's Q6_K: every linear, the token embedding and the LM head in Q6_K. */
    public static final Quantization Q6_K = quantized("Q6_K", DType.Q6_K, DType.Q6_K, DType.Q6_K);

    private static final List<Quantization> PRESETS = List.of(NONE, F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
            Q4_K_M, Q5_K_M, Q6_K);

    private final String name;
    private final Map<TensorClass, Rule> rules; // every class present

    private Quantization(String name, Map<TensorClass, Rule> rules) {
        this.name = name;
        this.rules = Collections.unmodifiableMap(new EnumMap<>(rules));
    }

    private static Quantization uniform(String name, DType type) {
        Map<TensorClass, Rule> r = new EnumMap<>(TensorClass.class);
        for (TensorClass c : TensorClass.values()) {
            r.put(c, type == null ? Rule.KEEP : Rule.of(type));
        }
        return new Quantization(name, r);
    }

    /** A llama.cpp-style mix: {@code base} for the linears, {@code moreBits} for v_proj/fc2 on the more-bits layers, {@code high} for the head. */
    private static Quantization quantized(String name, DType base, DType moreBits, DType high) {
        Map<TensorClass, Rule> r = new EnumMap<>(TensorClass.class);
        r.put(TensorClass.EMBED_TOKENS, Rule.of(base));
        r.put(TensorClass.EMBED_POSITIONS, Rule.KEEP);
        r.put(TensorClass.PROJECT_IN, Rule.of(high));
        r.put(TensorClass.PROJECT_OUT, Rule.of(high));
        r.put(TensorClass.Q_PROJ, Rule.of(base));
        r.put(TensorClass.K_PROJ, Rule.of(base));
        r.put(TensorClass.V_PROJ, new Rule(base, moreBits));
        r.put(TensorClass.OUT_PROJ, Rule.of(base));
        r.put(TensorClass.FC1, Rule.of(base));
        r.put(TensorClass.FC2, new Rule(base, moreBits));
        r.put(TensorClass.LM_HEAD, Rule.of(high));
        r.put(TensorClass.SCORE, Rule.KEEP);
        r.put(TensorClass.QA_OUTPUTS, Rule.KEEP);
        return new Quantization(name, r);
    }

    /** {@return the presets: NONE, F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K_M, Q5_K_M, Q6_K} */
    public static List<Quantization> presets() {
        return PRESETS;
    }

    /**
     * A preset by name, ignoring case ({@code "q4_k_m"} is {@link #Q4_K_M}).
     *
     * @param name a preset's name
     * @return the preset
     * @throws IllegalArgumentException if no preset has that name (the message lists them)
     */
    public static Quantization named(String name) {
        Objects.requireNonNull(name, "name");
        for (Quantization q : PRESETS) {
            if (q.name.equalsIgnoreCase(name.trim())) {
                return q;
            }
        }
        List<String> names = new ArrayList<>();
        PRESETS.forEach(q -> names.add(q.name));
        throw new IllegalArgumentException("unknown quantization '" + name + "'; one of " + String.join(", ", names));
    }

    /**
     * {@return the preset's name, or for a policy built from one its name plus each change, e.g.
     * {@code Q4_K_M+LM_HEAD=Q8_0}}
     */
    public String name() {
        return name;
    }

    /** {@return whether every weight keeps its stored type (then loading copies nothing)} */
    public boolean keepsEverything() {
        return rules.values().stream().allMatch(r -> r.base == null);
    }

    /**
     * llama.cpp's {@code use_more_bits(i_layer, n_layers)}: the first eighth of the layers, the last
     * eighth, and every third layer in between get more bits in the _M presets.
     *
     * @param layer     the layer index, 0-based
     * @param numLayers the number of decoder layers
     * @return whether {@code layer} is one of them
     * @throws IllegalArgumentException if {@code layer} is not in {@code [0, numLayers)}
     */
    public static boolean moreBitsLayer(int layer, int numLayers) {
        checkLayer(layer, numLayers);
        return layer < numLayers / 8 || layer >= 7 * numLayers / 8 || (layer - numLayers / 8) % 3 == 2;
    }

    /**
     * The format the policy asks for, before the row-length fallback.
     *
     * @param tensorClass the tensor's class
     * @param layer       its layer for {@linkplain TensorClass#perLayer() per-layer} classes, else -1
     * @param numLayers   the model's number of decoder layers
     * @return the format, or empty when the tensor keeps its stored type
     * @throws IllegalArgumentException if the layer does not fit the class and {@code numLayers}
     */
    public Optional<DType> requestedType(TensorClass tensorClass, int layer, int numLayers) {
        Objects.requireNonNull(tensorClass, "tensorClass");
        Rule r = rules.get(tensorClass);
        if (tensorClass.perLayer()) {
            checkLayer(layer, numLayers);
            return Optional.ofNullable(moreBitsLayer(layer, numLayers) ? r.moreBits : r.base);
        }
        if (layer != -1 || numLayers < 0) {
            throw new IllegalArgumentException(tensorClass + " is a model-level tensor: layer must be -1 (got " + layer
                    + ") and numLayers >= 0 (got " + numLayers + ")");
        }
        return Optional.ofNullable(r.base);
    }

    /**
     * The format this policy stores a 2-D weight in: the {@linkplain #requestedType requested} one
     * (or {@code source} when it keeps the stored type), after the {@linkplain #fallback row-length
     * fallback}. The loader and other writers of quantized models (e.g. GGUF) ask this.
     *
     * @param tensorClass the tensor's class
     * @param source      its stored type
     * @param rows        its first dimension (output features)
     * @param cols        its row length (input features); block formats need a multiple of their block
     * @param layer       its layer for per-layer classes, else -1
     * @param numLayers   the model's number of decoder layers
     * @return the stored format
     * @throws IllegalArgumentException if a size is not positive or the layer does not fit
     */
    public DType typeFor(TensorClass tensorClass, DType source, long rows, long cols, int layer, int numLayers) {
        Objects.requireNonNull(tensorClass, "tensorClass");
        Objects.requireNonNull(source, "source");
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(tensorClass + ": shape [" + rows + ", " + cols + "] is not positive");
        }
        return fallback(requestedType(tensorClass, layer, numLayers).orElse(source), cols);
    }

    /**
     * The format a tensor whose rows have {@code cols} elements gets instead of {@code type}, following
     * llama.cpp's {@code tensor_type_fallback}: Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0 (and Q8_K →
     * Q8_0) when {@code cols} is not a multiple of 256; then, when not a multiple of 32 either, any
     * 32-block format (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1) → F16. (llama.cpp reaches F16 the same way
     * from a K-quant; given a 32-block format directly it refuses the tensor, where Panopt falls back
     * to F16 too.) Element types (F32, F16, BF16) fit any length.
     *
     * @param type the requested format, a native weight type
     * @param cols the row length
     * @return {@code type} when {@code cols} is a whole number of its blocks, else the fallback
     * @throws IllegalArgumentException if {@code type} is not a native weight type or {@code cols} is not positive
     */
    public static DType fallback(DType type, long cols) {
        Objects.requireNonNull(type, "type");
        if (!type.isNative()) {
            throw new IllegalArgumentException(type + " is not a weight type of the native library");
        }
        if (cols <= 0) {
            throw new IllegalArgumentException("row length must be positive, got " + cols);
        }
        DType t = type;
        while (cols % t.blockSize() != 0) {
            t = switch (t) {
                case Q4_K -> DType.Q5_0;
                case Q5_K -> DType.Q5_1;
                case Q6_K, Q8_K -> DType.Q8_0;
                default -> DType.F16; // the 32-element block formats
            };
        }
        return t;
    }

    /** {@return a builder starting from this policy} */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * A builder starting from {@code base}.
     *
     * @param base the policy to change, e.g. {@link #Q4_K_M}
     * @return the builder
     */
    public static Builder builder(Quantization base) {
        return new Builder(Objects.requireNonNull(base, "base"));
    }

    /** {@return a one-line description: the name and each class's format} */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(name).append(" {");
        String sep = "";
        for (Map.Entry<TensorClass, Rule> e : rules.entrySet()) {
            sb.append(sep).append(e.getKey()).append('=').append(e.getValue().describe());
            sep = ", ";
        }
        return sb.append('}').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Quantization q && name.equals(q.name) && rules.equals(q.rules);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + rules.hashCode();
    }

    private static void checkLayer(int layer, int numLayers) {
        if (numLayers < 1 || layer < 0 || layer >= numLayers) {
            throw new IllegalArgumentException("layer " + layer + " is not in [0, " + numLayers + ")");
        }
    }

    /** Builder of a {@link Quantization} from a base policy; not thread-safe. */
    public static final class Builder {
        private final String baseName;
        private final Map<TensorClass, Rule> rules;
        private final Map<TensorClass, Rule> changed = new EnumMap<>(TensorClass.class);

        private Builder(Quantization base) {
            this.baseName = base.name;
            this.rules = new EnumMap<>(base.rules);
        }

        /**
         * Stores every tensor of a class in {@code type}.
         *
         * @param tensorClass the class
         * @param type        a native weight type ({@link DType#isNative()})
         * @return this builder
         * @throws IllegalArgumentException if {@code type} is not a native weight type
         */
        public Builder type(TensorClass tensorClass, DType type) {
            Objects.requireNonNull(tensorClass, "tensorClass");
            return set(tensorClass, Rule.of(checkType(type)));
        }

        /**
         * Stores a per-layer class in {@code type}, and in {@code moreBitsType} on the
         * {@linkplain #moreBitsLayer more-bits layers} (as the _M presets do for v_proj and fc2).
         *
         * @param tensorClass  a {@linkplain TensorClass#perLayer() per-layer} class
         * @param type         the format of the other layers
         * @param moreBitsType the format of the more-bits layers
         * @return this builder
         * @throws IllegalArgumentException if the class is not per-layer or a type is not a native weight type
         */
        public Builder type(TensorClass tensorClass, DType type, DType moreBitsType) {
            Objects.requireNonNull(tensorClass, "tensorClass");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(moreBitsType, "moreBitsType");
            Rule r = new Rule(checkType(type), checkType(moreBitsType));
            if (!tensorClass.perLayer()) {
                throw new IllegalArgumentException(tensorClass + " is not a per-layer class; use type(" + tensorClass
                        + ", type)");
            }
            return set(tensorClass, r);
        }

        /**
         * Keeps the tensors of a class in the type the checkpoint stores them in.
         *
         * @param tensorClass the class
         * @return this builder
         */
        public Builder keep(TensorClass tensorClass) {
            return set(tensorClass, Rule.KEEP);
        }

        private Builder set(TensorClass c, Rule r) {
            Objects.requireNonNull(c, "tensorClass");
            rules.put(c, r);
            changed.put(c, r);
            return this;
        }

        private static DType checkType(DType t) {
            Objects.requireNonNull(t, "type");
            if (!t.isNative()) {
                throw new IllegalArgumentException(t + " is not a weight type of the native library; one of "
                        + Arrays.stream(DType.values()).filter(DType::isNative).map(Enum::name).toList());
            }
            return t;
        }

        /** {@return the policy; named after the base plus each change, e.g. {@code Q4_K_M+FC2=Q8_0}} */
        public Quantization build() {
            StringBuilder n = new StringBuilder(baseName);
            changed.forEach((c, r) -> n.append('+').append(c).append('=').append(r.describe()));
            return new Quantization(n.toString(), rules);
        }
    }
}
