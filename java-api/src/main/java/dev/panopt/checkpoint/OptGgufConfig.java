package dev.panopt.checkpoint;

import dev.panopt.OptConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An {@link OptConfig} as GGUF metadata: {@code general.architecture = "opt"} and one {@code opt.*} key per
 * field the model needs (ggml's names where llama.cpp has one: {@code context_length},
 * {@code embedding_length}, {@code block_count}, {@code feed_forward_length}, {@code attention.head_count},
 * {@code attention.layer_norm_epsilon}, {@code vocab_size}; Hugging Face's names for the rest). Training-only
 * fields (dropout, attention_dropout, layerdrop) and bookkeeping ({@code architectures}, {@code torch_dtype},
 * {@code transformers_version}, unknown keys) are not stored and read back as Hugging Face's defaults.
 * Stateless; thread-safe.
 */
final class OptGgufConfig {
    private OptGgufConfig() {}

    static final String ARCHITECTURE_KEY = "general.architecture";
    static final String ARCHITECTURE = "opt";

    static final String VOCAB_SIZE = "opt.vocab_size";
    static final String CONTEXT_LENGTH = "opt.context_length";
    static final String EMBEDDING_LENGTH = "opt.embedding_length";
    static final String BLOCK_COUNT = "opt.block_count";
    static final String FEED_FORWARD_LENGTH = "opt.feed_forward_length";
    static final String HEAD_COUNT = "opt.attention.head_count";
    static final String LAYER_NORM_EPSILON = "opt.attention.layer_norm_epsilon";
    static final String WORD_EMBED_PROJ_DIM = "opt.word_embed_proj_dim";
    static final String DO_LAYER_NORM_BEFORE = "opt.do_layer_norm_before";
    static final String REMOVE_FINAL_LAYER_NORM = "opt.remove_final_layer_norm";
    static final String ENABLE_BIAS = "opt.enable_bias";
    static final String LAYER_NORM_ELEMENTWISE_AFFINE = "opt.layer_norm_elementwise_affine";
    static final String ACTIVATION_FUNCTION = "opt.activation_function";
    static final String TIE_WORD_EMBEDDINGS = "opt.tie_word_embeddings";
    static final String PAD_TOKEN_ID = "opt.pad_token_id";
    static final String BOS_TOKEN_ID = "opt.bos_token_id";
    static final String EOS_TOKEN_ID = "opt.eos_token_id";
    static final String INIT_STD = "opt.init_std";
    static final String ID2LABEL = "opt.id2label";
    static final String PROBLEM_TYPE = "opt.problem_type";

    /** Adds the {@code opt.*} keys of {@code c} (the caller puts {@code general.architecture} first). */
    static void write(OptConfig c, GgufWriter w) {
        w.putUInt32(VOCAB_SIZE, c.vocabSize());
        w.putUInt32(CONTEXT_LENGTH, c.maxPositionEmbeddings());
        w.putUInt32(EMBEDDING_LENGTH, c.hiddenSize());
        w.putUInt32(BLOCK_COUNT, c.numHiddenLayers());
        w.putUInt32(FEED_FORWARD_LENGTH, c.ffnDim());
        w.putUInt32(HEAD_COUNT, c.numAttentionHeads());
        w.putFloat32(LAYER_NORM_EPSILON, OptConfig.LAYER_NORM_EPS);
        w.putUInt32(WORD_EMBED_PROJ_DIM, c.wordEmbedProjDim());
        w.putBool(DO_LAYER_NORM_BEFORE, c.doLayerNormBefore());
        w.putBool(REMOVE_FINAL_LAYER_NORM, c.removeFinalLayerNorm());
        w.putBool(ENABLE_BIAS, c.enableBias());
        w.putBool(LAYER_NORM_ELEMENTWISE_AFFINE, c.layerNormElementwiseAffine());
        w.putString(ACTIVATION_FUNCTION, c.activationFunction());
        w.putBool(TIE_WORD_EMBEDDINGS, c.tieWordEmbeddings());
        c.padTokenId().ifPresent(v -> w.putInteger(PAD_TOKEN_ID, GgufType.INT32, v));
        c.bosTokenId().ifPresent(v -> w.putInteger(BOS_TOKEN_ID, GgufType.INT32, v));
        c.eosTokenId().ifPresent(v -> w.putInteger(EOS_TOKEN_ID, GgufType.INT32, v));
        w.putFloat64(INIT_STD, c.initStd());
        List<String> labels = new ArrayList<>();
        for (Map.Entry<Integer, String> e : c.id2label().entrySet()) {
            if (e.getKey() != labels.size()) {
                throw new IllegalArgumentException("id2label must have the ids 0.." + (c.numLabels() - 1)
                        + " to be stored as " + ID2LABEL + ", got " + c.id2label().keySet());
            }
            labels.add(e.getValue());
        }
        w.putStringArray(ID2LABEL, labels);
        c.problemType().ifPresent(v -> w.putString(PROBLEM_TYPE, v));
    }

    /**
     * Reads the config of an OPT GGUF file.
     *
     * @throws CheckpointException naming the key that is missing, of the wrong type or out of range, or
     *     when the values do not make a valid config
     */
    static OptConfig read(GgufFile f) throws CheckpointException {
        String arch = f.getString(ARCHITECTURE_KEY);
        if (!arch.equals(ARCHITECTURE)) {
            throw new CheckpointException(f.path(), ARCHITECTURE_KEY + " is \"" + arch
                    + "\": Panopt loads OPT models (\"" + ARCHITECTURE + "\")");
        }
        double eps = f.getDouble(LAYER_NORM_EPSILON);
        if ((float) eps != OptConfig.LAYER_NORM_EPS) {
            throw new CheckpointException(f.path(), "key " + LAYER_NORM_EPSILON + " is " + eps + "; OPT's LayerNorms use "
                    + OptConfig.LAYER_NORM_EPS);
        }
        OptConfig.Builder b = OptConfig.builder()
                .vocabSize(positive(f, VOCAB_SIZE))
                .maxPositionEmbeddings(positive(f, CONTEXT_LENGTH))
                .hiddenSize(positive(f, EMBEDDING_LENGTH))
                .numHiddenLayers(positive(f, BLOCK_COUNT))
                .ffnDim(positive(f, FEED_FORWARD_LENGTH))
                .numAttentionHeads(positive(f, HEAD_COUNT))
                .wordEmbedProjDim(positive(f, WORD_EMBED_PROJ_DIM))
                .doLayerNormBefore(f.getBoolean(DO_LAYER_NORM_BEFORE))
                .removeFinalLayerNorm(f.getBoolean(REMOVE_FINAL_LAYER_NORM))
                .enableBias(f.getBoolean(ENABLE_BIAS))
                .layerNormElementwiseAffine(f.getBoolean(LAYER_NORM_ELEMENTWISE_AFFINE))
                .tieWordEmbeddings(f.getBoolean(TIE_WORD_EMBEDDINGS))
                .padTokenId(optionalId(f, PAD_TOKEN_ID))
                .bosTokenId(optionalId(f, BOS_TOKEN_ID))
                .eosTokenId(optionalId(f, EOS_TOKEN_ID));
        if (f.keys().contains(INIT_STD)) {
            b.initStd(f.getDouble(INIT_STD));
        }
        if (f.keys().contains(ID2LABEL)) {
            List<String> labels = f.getStringArray(ID2LABEL);
            if (labels.isEmpty()) {
                throw new CheckpointException(f.path(), "key " + ID2LABEL + " is empty");
            }
            Map<Integer, String> id2label = new TreeMap<>();
            for (int i = 0; i < labels.size(); i++) {
                id2label.put(i, labels.get(i));
            }
            b.id2label(id2label);
        }
        if (f.keys().contains(PROBLEM_TYPE)) {
            b.problemType(f.getString(PROBLEM_TYPE));
        }
        try {
            b.activationFunction(f.getString(ACTIVATION_FUNCTION));
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(f.path(), "the opt.* keys do not make a valid OPT config: " + e.getMessage(), e);
        }
    }

    private static int positive(GgufFile f, String key) throws CheckpointException {
        long v = f.getLong(key);
        if (v < 1 || v > Integer.MAX_VALUE) {
            throw new CheckpointException(f.path(), "key " + key + " is " + v + ", must be in 1.." + Integer.MAX_VALUE);
        }
        return (int) v;
    }

    private static Integer optionalId(GgufFile f, String key) throws CheckpointException {
        if (!f.keys().contains(key)) {
            return null;
        }
        long v = f.getLong(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new CheckpointException(f.path(), "key " + key + " is " + v + ", not an int32");
        }
        return (int) v;
    }
}
