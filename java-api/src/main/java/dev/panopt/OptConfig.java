package dev.panopt;

import dev.panopt.bindings.PanoptH;

import dev.panopt.checkpoint.CheckpointException;
import dev.panopt.internal.Json;
import dev.panopt.internal.PretrainedFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * The configuration of an OPT model: every field of Hugging Face's {@code OPTConfig}
 * (transformers 4.38) with HF's defaults for absent fields, plus the {@code PretrainedConfig}
 * fields users rely on. Unknown keys are kept in {@link #extra()} so {@link #toJson()} round-trips.
 *
 * <p>Validation (on {@link #fromJson}, {@link #load} and {@link Builder#build()}): positive
 * dimensions that fit the native {@code int32} config, {@code hidden_size % num_attention_heads == 0},
 * an activation name from HF's {@code ACT2FN} that the native library implements, probabilities in
 * [0, 1], {@code model_type} "opt" when present, a known {@code problem_type}, and the JSON type of
 * every known field. Problems raise {@link IllegalArgumentException} ({@link CheckpointException}
 * naming the file from {@link #load}).
 *
 * <p>Immutable and thread-safe.
 */
public final class OptConfig {
    private static final System.Logger LOG = System.getLogger(OptConfig.class.getName());

    /** HF ACT2FN names (transformers 4.38 activations.py) → PANOPT_ACT_* codes of panopt.h. */
    private static final Map<String, Integer> ACTIVATIONS = Map.ofEntries(
            Map.entry("relu", PanoptH.ACT_RELU),
            Map.entry("gelu", PanoptH.ACT_GELU), Map.entry("gelu_python", PanoptH.ACT_GELU),
            Map.entry("gelu_new", PanoptH.ACT_GELU_TANH), Map.entry("gelu_pytorch_tanh", PanoptH.ACT_GELU_TANH),
            Map.entry("gelu_fast", PanoptH.ACT_GELU_TANH), Map.entry("gelu_accurate", PanoptH.ACT_GELU_TANH),
            Map.entry("quick_gelu", PanoptH.ACT_QUICK_GELU),
            Map.entry("silu", PanoptH.ACT_SILU), Map.entry("swish", PanoptH.ACT_SILU),
            Map.entry("relu2", PanoptH.ACT_RELU2),
            Map.entry("relu6", PanoptH.ACT_RELU6),
            Map.entry("sigmoid", PanoptH.ACT_SIGMOID),
            Map.entry("tanh", PanoptH.ACT_TANH),
            Map.entry("linear", PanoptH.ACT_LINEAR),
            Map.entry("leaky_relu", PanoptH.ACT_LEAKY_RELU),
            Map.entry("mish", PanoptH.ACT_MISH),
            Map.entry("gelu_10", PanoptH.ACT_GELU_10),
            Map.entry("laplace", PanoptH.ACT_LAPLACE));

    private static final List<String> PROBLEM_TYPES =
            List.of("regression", "single_label_classification", "multi_label_classification");

    private final int vocabSize;
    private final int hiddenSize;
    private final int numHiddenLayers;
    private final int ffnDim;
    private final int maxPositionEmbeddings;
    private final boolean doLayerNormBefore;
    private final boolean removeFinalLayerNorm;
    private final int wordEmbedProjDim;
    private final double dropout;
    private final double attentionDropout;
    private final int numAttentionHeads;
    private final String activationFunction;
    private final double layerdrop;
    private final double initStd;
    private final boolean useCache;
    private final Integer padTokenId;
    private final Integer bosTokenId;
    private final Integer eosTokenId;
    private final boolean enableBias;
    private final boolean layerNormElementwiseAffine;
    private final List<String> architectures; // null = absent
    private final String torchDtype;
    private final boolean tieWordEmbeddings;
    private final Map<Integer, String> id2label;
    private final Map<String, Integer> label2id;
    private final String problemType;
    private final String prefix;
    private final String transformersVersion;
    private final Map<String, Object> extra;

    private OptConfig(Builder b) {
        vocabSize = b.vocabSize;
        hiddenSize = b.hiddenSize;
        numHiddenLayers = b.numHiddenLayers;
        ffnDim = b.ffnDim;
        maxPositionEmbeddings = b.maxPositionEmbeddings;
        doLayerNormBefore = b.doLayerNormBefore;
        removeFinalLayerNorm = b.removeFinalLayerNorm;
        wordEmbedProjDim = b.wordEmbedProjDim == null ? b.hiddenSize : b.wordEmbedProjDim;
        dropout = b.dropout;
        attentionDropout = b.attentionDropout;
        numAttentionHeads = b.numAttentionHeads;
        activationFunction = b.activationFunction;
        layerdrop = b.layerdrop;
        initStd = b.initStd;
        useCache = b.useCache;
        padTokenId = b.padTokenId;
        bosTokenId = b.bosTokenId;
        eosTokenId = b.eosTokenId;
        enableBias = b.enableBias;
        layerNormElementwiseAffine = b.layerNormElementwiseAffine;
        if (b.architectures != null && b.architectures.stream().anyMatch(Objects::isNull)) {
            throw new IllegalArgumentException("architectures must not contain null");
        }
        architectures = b.architectures == null ? null : List.copyOf(b.architectures);
        torchDtype = b.torchDtype;
        tieWordEmbeddings = b.tieWordEmbeddings;
        if (b.id2label == null) {
            id2label = defaultLabels(b.numLabels);
        } else {
            id2label = Collections.unmodifiableMap(new TreeMap<>(b.id2label));
        }
        if (b.label2id == null) {
            // As HF's num_labels setter: label2id is the inverse of id2label.
            Map<String, Integer> inv = new LinkedHashMap<>();
            id2label.forEach((k, v) -> inv.put(v, k));
            label2id = Collections.unmodifiableMap(inv);
        } else {
            label2id = Collections.unmodifiableMap(new LinkedHashMap<>(b.label2id));
        }
        problemType = b.problemType;
        prefix = b.prefix;
        transformersVersion = b.transformersVersion;
        extra = Collections.unmodifiableMap(new LinkedHashMap<>(b.extra));
        validate();
    }

    private static Map<Integer, String> defaultLabels(int n) {
        TreeMap<Integer, String> m = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            m.put(i, "LABEL_" + i);
        }
        return Collections.unmodifiableMap(m);
    }

    private void validate() {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("ffn_dim", ffnDim);
        positive("max_position_embeddings", maxPositionEmbeddings);
        positive("word_embed_proj_dim", wordEmbedProjDim);
        positive("num_attention_heads", numAttentionHeads);
        if (maxPositionEmbeddings > Integer.MAX_VALUE - 2) {
            throw new IllegalArgumentException("max_position_embeddings " + maxPositionEmbeddings + " is too large");
        }
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads "
                    + numAttentionHeads);
        }
        if (activationFunction == null || !ACTIVATIONS.containsKey(activationFunction)) {
            throw new IllegalArgumentException("unsupported activation_function \"" + activationFunction
                    + "\"; supported: " + new TreeMap<>(ACTIVATIONS).keySet());
        }
        probability("dropout", dropout);
        probability("attention_dropout", attentionDropout);
        probability("layerdrop", layerdrop);
        if (!Double.isFinite(initStd) || initStd < 0) {
            throw new IllegalArgumentException("init_std must be a finite number >= 0, got " + initStd);
        }
        if (problemType != null && !PROBLEM_TYPES.contains(problemType)) {
            throw new IllegalArgumentException("problem_type must be one of " + PROBLEM_TYPES + " or null, got \""
                    + problemType + "\"");
        }
        for (Map.Entry<Integer, String> e : id2label.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("id2label must map ids to label names, got " + id2label);
            }
        }
        for (Map.Entry<String, Integer> e : label2id.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("label2id must map label names to ids, got " + label2id);
            }
        }
        for (String k : extra.keySet()) {
            if (KNOWN_KEYS.contains(k)) {
                throw new IllegalArgumentException("extra key \"" + k + "\" is a known field; set it directly");
            }
        }
    }

    private static void positive(String name, long v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + v);
        }
    }

    private static void probability(String name, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(name + " must be in [0, 1], got " + v);
        }
    }

    // ------------------------------------------------------------------ getters

    /** {@return {@code vocab_size}: rows of the token embedding (default 50272)} */
    public int vocabSize() { return vocabSize; }

    /** {@return {@code hidden_size} (default 768)} */
    public int hiddenSize() { return hiddenSize; }

    /** {@return {@code num_hidden_layers} (default 12)} */
    public int numHiddenLayers() { return numHiddenLayers; }

    /** {@return {@code ffn_dim} (default 3072)} */
    public int ffnDim() { return ffnDim; }

    /** {@return {@code max_position_embeddings} (default 2048); the position table has this + 2 rows} */
    public int maxPositionEmbeddings() { return maxPositionEmbeddings; }

    /** {@return {@code do_layer_norm_before}: true = pre-LN (default), false = post-LN (opt-350m)} */
    public boolean doLayerNormBefore() { return doLayerNormBefore; }

    /** {@return {@code _remove_final_layer_norm} (default false)} */
    public boolean removeFinalLayerNorm() { return removeFinalLayerNorm; }

    /** {@return {@code word_embed_proj_dim} (absent or null means {@code hidden_size})} */
    public int wordEmbedProjDim() { return wordEmbedProjDim; }

    /** {@return {@code dropout} (default 0.1; inactive at inference)} */
    public double dropout() { return dropout; }

    /** {@return {@code attention_dropout} (default 0.0)} */
    public double attentionDropout() { return attentionDropout; }

    /** {@return {@code num_attention_heads} (default 12)} */
    public int numAttentionHeads() { return numAttentionHeads; }

    /** {@return {@code activation_function} (default "relu")} */
    public String activationFunction() { return activationFunction; }

    /** {@return {@code layerdrop} (default 0.0)} */
    public double layerdrop() { return layerdrop; }

    /** {@return {@code init_std} (default 0.02)} */
    public double initStd() { return initStd; }

    /** {@return {@code use_cache} (default true)} */
    public boolean useCache() { return useCache; }

    /** {@return {@code pad_token_id} (default 1; empty when the file says null)} */
    public OptionalInt padTokenId() { return opt(padTokenId); }

    /** {@return {@code bos_token_id} (default 2; empty when the file says null)} */
    public OptionalInt bosTokenId() { return opt(bosTokenId); }

    /** {@return {@code eos_token_id} (default 2; empty when the file says null)} */
    public OptionalInt eosTokenId() { return opt(eosTokenId); }

    private static OptionalInt opt(Integer v) {
        return v == null ? OptionalInt.empty() : OptionalInt.of(v);
    }

    /** {@return {@code enable_bias}: Linear layers have biases (default true)} */
    public boolean enableBias() { return enableBias; }

    /** {@return {@code layer_norm_elementwise_affine}: LayerNorms have weight and bias (default true)} */
    public boolean layerNormElementwiseAffine() { return layerNormElementwiseAffine; }

    /** {@return {@code model_type}: always "opt"} */
    public String modelType() { return "opt"; }

    /** {@return {@code architectures} (empty when absent)} */
    public List<String> architectures() { return architectures == null ? List.of() : architectures; }

    /** {@return {@code torch_dtype}, e.g. "float16", if given} */
    public Optional<String> torchDtype() { return Optional.ofNullable(torchDtype); }

    /** {@return {@code tie_word_embeddings} (default true)} */
    public boolean tieWordEmbeddings() { return tieWordEmbeddings; }

    /** {@return {@code id2label}, sorted by id (default {0: LABEL_0, 1: LABEL_1}); unmodifiable} */
    public Map<Integer, String> id2label() { return id2label; }

    /** {@return {@code label2id} (default: the inverse of {@link #id2label()}); unmodifiable} */
    public Map<String, Integer> label2id() { return label2id; }

    /** {@return {@code num_labels}: the number of {@code id2label} entries} */
    public int numLabels() { return id2label.size(); }

    /**
     * {@return {@code problem_type}: "regression", "single_label_classification",
     * "multi_label_classification", or empty}
     */
    public Optional<String> problemType() { return Optional.ofNullable(problemType); }

    /** {@return {@code prefix}, if given} */
    public Optional<String> prefix() { return Optional.ofNullable(prefix); }

    /** {@return {@code transformers_version}, if given} */
    public Optional<String> transformersVersion() { return Optional.ofNullable(transformersVersion); }

    /** {@return the keys this class does not model, with their parsed JSON values; unmodifiable} */
    public Map<String, Object> extra() { return extra; }

    // ------------------------------------------------------------------ derived

    /**
     * The epsilon of every LayerNorm of OPT: PyTorch's {@code nn.LayerNorm} default, which Hugging Face's
     * OPT uses everywhere ({@code OPTConfig} has no field for it).
     */
    public static final float LAYER_NORM_EPS = 1e-5f;

    /**
     * {@return whether the decoder ends with a LayerNorm: {@code do_layer_norm_before &&
     * !_remove_final_layer_norm}}
     */
    public boolean hasFinalLayerNorm() { return doLayerNormBefore && !removeFinalLayerNorm; }

    /** {@return the size of one attention head, {@code hidden_size / num_attention_heads}} */
    public int headDim() { return hiddenSize / numAttentionHeads; }

    /** {@return whether {@code word_embed_proj_dim != hidden_size} (project_in / project_out exist)} */
    public boolean hasProjection() { return wordEmbedProjDim != hiddenSize; }

    /** The PANOPT_ACT_* code of panopt.h for {@link #activationFunction()}. */
    int activationCode() { return ACTIVATIONS.get(activationFunction); }

    // ------------------------------------------------------------------ JSON

    private static final List<String> KNOWN_KEYS = List.of("vocab_size", "hidden_size", "num_hidden_layers", "ffn_dim",
            "max_position_embeddings", "do_layer_norm_before", "_remove_final_layer_norm", "word_embed_proj_dim",
            "dropout", "attention_dropout", "num_attention_heads", "activation_function", "layerdrop", "init_std",
            "use_cache", "pad_token_id", "bos_token_id", "eos_token_id", "enable_bias", "layer_norm_elementwise_affine",
            "model_type", "architectures", "torch_dtype", "tie_word_embeddings", "id2label", "label2id", "num_labels",
            "problem_type", "prefix", "transformers_version");

    /**
     * Parses a {@code config.json} document.
     *
     * @param json the document's text
     * @return the config, with HF's defaults for absent fields
     * @throws IllegalArgumentException for malformed JSON, a wrong JSON type or an invalid value
     */
    public static OptConfig fromJson(String json) {
        Object parsed = Json.parse(json);
        Map<String, Object> m = Json.asObject(parsed, "config");
        Builder b = new Builder();
        Object mt = m.get("model_type");
        if (m.containsKey("model_type") && !"opt".equals(mt)) {
            throw new IllegalArgumentException("model_type must be \"opt\", got " + Json.write(mt));
        }
        if (m.containsKey("vocab_size")) b.vocabSize = intField(m, "vocab_size");
        if (m.containsKey("hidden_size")) b.hiddenSize = intField(m, "hidden_size");
        if (m.containsKey("num_hidden_layers")) b.numHiddenLayers = intField(m, "num_hidden_layers");
        if (m.containsKey("ffn_dim")) b.ffnDim = intField(m, "ffn_dim");
        if (m.containsKey("max_position_embeddings")) b.maxPositionEmbeddings = intField(m, "max_position_embeddings");
        if (m.containsKey("do_layer_norm_before")) b.doLayerNormBefore = boolField(m, "do_layer_norm_before");
        if (m.containsKey("_remove_final_layer_norm")) b.removeFinalLayerNorm = boolField(m, "_remove_final_layer_norm");
        if (m.get("word_embed_proj_dim") != null) b.wordEmbedProjDim = intField(m, "word_embed_proj_dim");
        if (m.containsKey("dropout")) b.dropout = doubleField(m, "dropout");
        if (m.containsKey("attention_dropout")) b.attentionDropout = doubleField(m, "attention_dropout");
        if (m.containsKey("num_attention_heads")) b.numAttentionHeads = intField(m, "num_attention_heads");
        if (m.containsKey("activation_function")) b.activationFunction = stringField(m, "activation_function", false);
        if (m.containsKey("layerdrop")) b.layerdrop = doubleField(m, "layerdrop");
        if (m.containsKey("init_std")) b.initStd = doubleField(m, "init_std");
        if (m.containsKey("use_cache")) b.useCache = boolField(m, "use_cache");
        if (m.containsKey("pad_token_id")) b.padTokenId = nullableInt(m, "pad_token_id");
        if (m.containsKey("bos_token_id")) b.bosTokenId = nullableInt(m, "bos_token_id");
        if (m.containsKey("eos_token_id")) b.eosTokenId = nullableInt(m, "eos_token_id");
        if (m.containsKey("enable_bias")) b.enableBias = boolField(m, "enable_bias");
        if (m.containsKey("layer_norm_elementwise_affine")) {
            b.layerNormElementwiseAffine = boolField(m, "layer_norm_elementwise_affine");
        }
        if (m.get("architectures") != null) {
            List<String> archs = new ArrayList<>();
            for (Object o : Json.asArray(m.get("architectures"), "architectures")) {
                archs.add(Json.asString(o, "architectures entry"));
            }
            b.architectures = archs;
        }
        if (m.containsKey("torch_dtype")) b.torchDtype = stringField(m, "torch_dtype", true);
        if (m.containsKey("tie_word_embeddings")) b.tieWordEmbeddings = boolField(m, "tie_word_embeddings");
        if (m.get("id2label") != null) {
            Map<Integer, String> id2label = new TreeMap<>();
            for (Map.Entry<String, Object> e : Json.asObject(m.get("id2label"), "id2label").entrySet()) {
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new IllegalArgumentException("id2label key \"" + e.getKey() + "\" is not an integer id");
                }
                if (id2label.put(id, Json.asString(e.getValue(), "id2label[" + e.getKey() + "]")) != null) {
                    throw new IllegalArgumentException("id2label has id " + id + " twice");
                }
            }
            b.id2label = id2label;
        } else if (m.get("num_labels") != null) {
            b.numLabels = intRange(m, "num_labels", 0);
        }
        if (m.containsKey("num_labels") && m.get("id2label") != null) {
            int n = intRange(m, "num_labels", 0);
            if (n != b.id2label.size()) {
                // HF 4.38 also lets id2label win and only warns.
                LOG.log(System.Logger.Level.WARNING, "num_labels {0} does not match id2label ({1} entries); using id2label",
                        n, b.id2label.size());
            }
        }
        if (m.get("label2id") != null) {
            Map<String, Integer> label2id = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : Json.asObject(m.get("label2id"), "label2id").entrySet()) {
                label2id.put(e.getKey(), toInt(e.getValue(), "label2id[" + e.getKey() + "]"));
            }
            b.label2id = label2id;
        }
        if (m.containsKey("problem_type")) b.problemType = stringField(m, "problem_type", true);
        if (m.containsKey("prefix")) b.prefix = stringField(m, "prefix", true);
        if (m.containsKey("transformers_version")) b.transformersVersion = stringField(m, "transformers_version", true);
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (!KNOWN_KEYS.contains(e.getKey())) {
                b.extra.put(e.getKey(), e.getValue());
            }
        }
        return b.build();
    }

    private static int intField(Map<String, Object> m, String key) {
        return intRange(m, key, Integer.MIN_VALUE);
    }

    private static int intRange(Map<String, Object> m, String key, long min) {
        int v = toInt(m.get(key), key);
        if (v < min) {
            throw new IllegalArgumentException(key + " must be >= " + min + ", got " + v);
        }
        return v;
    }

    private static int toInt(Object v, String key) {
        if (!(v instanceof Long l)) {
            throw new IllegalArgumentException(key + " must be an integer, got " + Json.typeName(v)
                    + (v == null ? "" : " " + Json.write(v)));
        }
        if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(key + " = " + l + " is out of the 32-bit range");
        }
        return (int) (long) l;
    }

    private static Integer nullableInt(Map<String, Object> m, String key) {
        return m.get(key) == null ? null : toInt(m.get(key), key);
    }

    private static boolean boolField(Map<String, Object> m, String key) {
        if (!(m.get(key) instanceof Boolean b)) {
            throw new IllegalArgumentException(key + " must be true or false, got " + Json.typeName(m.get(key))
                    + (m.get(key) == null ? "" : " " + Json.write(m.get(key))));
        }
        return b;
    }

    private static double doubleField(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof Double d) {
            return d;
        }
        throw new IllegalArgumentException(key + " must be a number, got " + Json.typeName(v)
                + (v == null ? "" : " " + Json.write(v)));
    }

    private static String stringField(Map<String, Object> m, String key, boolean nullable) {
        Object v = m.get(key);
        if (v == null && nullable) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException(key + " must be a string" + (nullable ? " or null" : "") + ", got "
                    + Json.typeName(v) + (v == null ? "" : " " + Json.write(v)));
        }
        return s;
    }

    /**
     * Reads {@code config.json}.
     *
     * @param fileOrDirectory the file, or a directory containing {@code config.json}
     * @return the config, with HF's defaults for absent fields
     * @throws CheckpointException if the file is not valid UTF-8 JSON or not a valid OPT config (the
     *         message names the file)
     * @throws IOException         if it cannot be read
     */
    public static OptConfig load(Path fileOrDirectory) throws IOException {
        Path file = Files.isDirectory(fileOrDirectory) ? fileOrDirectory.resolve(PretrainedFiles.CONFIG) : fileOrDirectory;
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "config file not found", e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(file, "not valid UTF-8", e);
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1); // tolerate a BOM, as Python's utf-8-sig editors leave one
        }
        try {
            return fromJson(text);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "invalid OPT config: " + e.getMessage(), e);
        }
    }

    /**
     * Writes the config as pretty-printed JSON with sorted keys (as HF's {@code to_json_string}):
     * every OPT field, non-null optional fields, {@code id2label}/{@code label2id} unless they are
     * the 2-label default, and {@link #extra()}. {@code fromJson(toJson())} equals this config.
     *
     * @return the JSON text, ending with a newline
     */
    public String toJson() {
        TreeMap<String, Object> m = new TreeMap<>(extra);
        m.put("vocab_size", (long) vocabSize);
        m.put("hidden_size", (long) hiddenSize);
        m.put("num_hidden_layers", (long) numHiddenLayers);
        m.put("ffn_dim", (long) ffnDim);
        m.put("max_position_embeddings", (long) maxPositionEmbeddings);
        m.put("do_layer_norm_before", doLayerNormBefore);
        m.put("_remove_final_layer_norm", removeFinalLayerNorm);
        m.put("word_embed_proj_dim", (long) wordEmbedProjDim);
        m.put("dropout", dropout);
        m.put("attention_dropout", attentionDropout);
        m.put("num_attention_heads", (long) numAttentionHeads);
        m.put("activation_function", activationFunction);
        m.put("layerdrop", layerdrop);
        m.put("init_std", initStd);
        m.put("use_cache", useCache);
        m.put("pad_token_id", padTokenId == null ? null : (long) padTokenId);
        m.put("bos_token_id", bosTokenId == null ? null : (long) bosTokenId);
        m.put("eos_token_id", eosTokenId == null ? null : (long) eosTokenId);
        m.put("enable_bias", enableBias);
        m.put("layer_norm_elementwise_affine", layerNormElementwiseAffine);
        m.put("model_type", "opt");
        if (architectures != null) m.put("architectures", architectures);
        if (torchDtype != null) m.put("torch_dtype", torchDtype);
        m.put("tie_word_embeddings", tieWordEmbeddings);
        if (!id2label.equals(defaultLabels(2)) || !label2id.equals(Map.of("LABEL_0", 0, "LABEL_1", 1))) {
            Map<String, Object> ids = new LinkedHashMap<>();
            id2label.forEach((k, v) -> ids.put(Integer.toString(k), v));
            m.put("id2label", ids);
            Map<String, Object> labels = new LinkedHashMap<>();
            label2id.forEach((k, v) -> labels.put(k, (long) v));
            m.put("label2id", labels);
        }
        if (problemType != null) m.put("problem_type", problemType);
        if (prefix != null) m.put("prefix", prefix);
        if (transformersVersion != null) m.put("transformers_version", transformersVersion);
        return Json.write(m, true) + "\n";
    }

    // ------------------------------------------------------------------ builder

    /** {@return a builder with HF's defaults (an OPT-125m-sized config)} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder initialised with this config's values} */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.vocabSize = vocabSize;
        b.hiddenSize = hiddenSize;
        b.numHiddenLayers = numHiddenLayers;
        b.ffnDim = ffnDim;
        b.maxPositionEmbeddings = maxPositionEmbeddings;
        b.doLayerNormBefore = doLayerNormBefore;
        b.removeFinalLayerNorm = removeFinalLayerNorm;
        b.wordEmbedProjDim = wordEmbedProjDim;
        b.dropout = dropout;
        b.attentionDropout = attentionDropout;
        b.numAttentionHeads = numAttentionHeads;
        b.activationFunction = activationFunction;
        b.layerdrop = layerdrop;
        b.initStd = initStd;
        b.useCache = useCache;
        b.padTokenId = padTokenId;
        b.bosTokenId = bosTokenId;
        b.eosTokenId = eosTokenId;
        b.enableBias = enableBias;
        b.layerNormElementwiseAffine = layerNormElementwiseAffine;
        b.architectures = architectures == null ? null : new ArrayList<>(architectures);
        b.torchDtype = torchDtype;
        b.tieWordEmbeddings = tieWordEmbeddings;
        b.id2label = id2label;
        b.label2id = label2id;
        b.problemType = problemType;
        b.prefix = prefix;
        b.transformersVersion = transformersVersion;
        b.extra.putAll(extra);
        return b;
    }

    /**
     * Mutable builder for {@link OptConfig}; starts from HF's defaults and validates on {@link #build()}.
     * Not thread-safe.
     */
    public static final class Builder {
        private int vocabSize = 50272;
        private int hiddenSize = 768;
        private int numHiddenLayers = 12;
        private int ffnDim = 3072;
        private int maxPositionEmbeddings = 2048;
        private boolean doLayerNormBefore = true;
        private boolean removeFinalLayerNorm = false;
        private Integer wordEmbedProjDim = null; // null = hidden_size
        private double dropout = 0.1;
        private double attentionDropout = 0.0;
        private int numAttentionHeads = 12;
        private String activationFunction = "relu";
        private double layerdrop = 0.0;
        private double initStd = 0.02;
        private boolean useCache = true;
        private Integer padTokenId = 1;
        private Integer bosTokenId = 2;
        private Integer eosTokenId = 2;
        private boolean enableBias = true;
        private boolean layerNormElementwiseAffine = true;
        private List<String> architectures = null;
        private String torchDtype = null;
        private boolean tieWordEmbeddings = true;
        private int numLabels = 2;
        private Map<Integer, String> id2label = null;
        private Map<String, Integer> label2id = null;
        private String problemType = null;
        private String prefix = null;
        private String transformersVersion = null;
        private final Map<String, Object> extra = new LinkedHashMap<>();

        private Builder() {}

        /**
         * Sets {@code vocab_size} (default 50272).
         *
         * @param v rows of the token embedding; positive
         * @return this builder
         */
        public Builder vocabSize(int v) { vocabSize = v; return this; }

        /**
         * Sets {@code hidden_size} (default 768).
         *
         * @param v the model width; positive and divisible by num_attention_heads
         * @return this builder
         */
        public Builder hiddenSize(int v) { hiddenSize = v; return this; }

        /**
         * Sets {@code num_hidden_layers} (default 12).
         *
         * @param v the number of decoder layers; positive
         * @return this builder
         */
        public Builder numHiddenLayers(int v) { numHiddenLayers = v; return this; }

        /**
         * Sets {@code ffn_dim} (default 3072).
         *
         * @param v the feed-forward inner width; positive
         * @return this builder
         */
        public Builder ffnDim(int v) { ffnDim = v; return this; }

        /**
         * Sets {@code max_position_embeddings} (default 2048).
         *
         * @param v the longest sequence in positions; positive
         * @return this builder
         */
        public Builder maxPositionEmbeddings(int v) { maxPositionEmbeddings = v; return this; }

        /**
         * Sets {@code do_layer_norm_before} (default true).
         *
         * @param v true for pre-LN, false for post-LN
         * @return this builder
         */
        public Builder doLayerNormBefore(boolean v) { doLayerNormBefore = v; return this; }

        /**
         * Sets {@code _remove_final_layer_norm} (default false).
         *
         * @param v true to drop the decoder's final LayerNorm
         * @return this builder
         */
        public Builder removeFinalLayerNorm(boolean v) { removeFinalLayerNorm = v; return this; }

        /**
         * Sets {@code word_embed_proj_dim} (default null).
         *
         * @param v the embedding width, positive; {@code null} means "same as hidden_size" (resolved on build)
         * @return this builder
         */
        public Builder wordEmbedProjDim(@Nullable Integer v) { wordEmbedProjDim = v; return this; }

        /**
         * Sets {@code dropout} (default 0.1; inactive at inference).
         *
         * @param v a probability in [0, 1]
         * @return this builder
         */
        public Builder dropout(double v) { dropout = v; return this; }

        /**
         * Sets {@code attention_dropout} (default 0.0).
         *
         * @param v a probability in [0, 1]
         * @return this builder
         */
        public Builder attentionDropout(double v) { attentionDropout = v; return this; }

        /**
         * Sets {@code num_attention_heads} (default 12).
         *
         * @param v the heads per layer; positive, must divide hidden_size
         * @return this builder
         */
        public Builder numAttentionHeads(int v) { numAttentionHeads = v; return this; }

        /**
         * Sets {@code activation_function} (default "relu").
         *
         * @param v an HF {@code ACT2FN} name the native library implements, e.g. "relu" or "gelu"
         * @return this builder
         * @throws NullPointerException if v is null
         */
        public Builder activationFunction(String v) {
            activationFunction = Objects.requireNonNull(v, "activationFunction");
            return this;
        }

        /**
         * Sets {@code layerdrop} (default 0.0).
         *
         * @param v a probability in [0, 1]
         * @return this builder
         */
        public Builder layerdrop(double v) { layerdrop = v; return this; }

        /**
         * Sets {@code init_std} (default 0.02).
         *
         * @param v a finite number &gt;= 0
         * @return this builder
         */
        public Builder initStd(double v) { initStd = v; return this; }

        /**
         * Sets {@code use_cache} (default true).
         *
         * @param v whether generation should reuse the KV cache
         * @return this builder
         */
        public Builder useCache(boolean v) { useCache = v; return this; }

        /**
         * Sets {@code pad_token_id} (default 1).
         *
         * @param v the padding token id; {@code null} = no pad token
         * @return this builder
         */
        public Builder padTokenId(@Nullable Integer v) { padTokenId = v; return this; }

        /**
         * Sets {@code bos_token_id} (default 2).
         *
         * @param v the beginning-of-sequence token id, or {@code null}
         * @return this builder
         */
        public Builder bosTokenId(@Nullable Integer v) { bosTokenId = v; return this; }

        /**
         * Sets {@code eos_token_id} (default 2).
         *
         * @param v the end-of-sequence token id, or {@code null}
         * @return this builder
         */
        public Builder eosTokenId(@Nullable Integer v) { eosTokenId = v; return this; }

        /**
         * Sets {@code enable_bias} (default true).
         *
         * @param v whether the Linear layers have biases
         * @return this builder
         */
        public Builder enableBias(boolean v) { enableBias = v; return this; }

        /**
         * Sets {@code layer_norm_elementwise_affine} (default true).
         *
         * @param v whether the LayerNorms have weight and bias
         * @return this builder
         */
        public Builder layerNormElementwiseAffine(boolean v) { layerNormElementwiseAffine = v; return this; }

        /**
         * Sets {@code architectures} (default absent).
         *
         * @param v class names such as "OPTForCausalLM" (copied; no null elements); {@code null} = absent
         * @return this builder
         */
        public Builder architectures(@Nullable List<String> v) { architectures = v == null ? null : new ArrayList<>(v); return this; }

        /**
         * Sets {@code torch_dtype} (default absent).
         *
         * @param v e.g. "float16", or {@code null} for absent
         * @return this builder
         */
        public Builder torchDtype(@Nullable String v) { torchDtype = v; return this; }

        /**
         * Sets {@code tie_word_embeddings} (default true).
         *
         * @param v whether the LM head shares the token embedding
         * @return this builder
         */
        public Builder tieWordEmbeddings(boolean v) { tieWordEmbeddings = v; return this; }

        /**
         * Sets {@code num_labels} as HF does: id2label becomes {i: "LABEL_i"} and label2id its inverse.
         *
         * @param n the number of labels, &gt;= 0
         * @return this builder
         * @throws IllegalArgumentException if {@code n} is negative
         */
        public Builder numLabels(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("num_labels must be >= 0, got " + n);
            }
            numLabels = n;
            id2label = null;
            label2id = null;
            return this;
        }

        /**
         * Sets {@code id2label} (default {0: LABEL_0, 1: LABEL_1}).
         *
         * @param v label names by class id (copied; no null keys or values); {@code null} = the {@link #numLabels} default
         * @return this builder
         */
        public Builder id2label(@Nullable Map<Integer, String> v) { id2label = v == null ? null : new TreeMap<>(v); return this; }

        /**
         * Sets {@code label2id}.
         *
         * @param v class ids by label name (copied; no null keys or values); {@code null} = the inverse of id2label
         * @return this builder
         */
        public Builder label2id(@Nullable Map<String, Integer> v) { label2id = v == null ? null : new LinkedHashMap<>(v); return this; }

        /**
         * Sets {@code problem_type} (default absent).
         *
         * @param v "regression", "single_label_classification", "multi_label_classification", or {@code null}
         * @return this builder
         */
        public Builder problemType(@Nullable String v) { problemType = v; return this; }

        /**
         * Sets {@code prefix} (default absent).
         *
         * @param v the text to put before every input, or {@code null}
         * @return this builder
         */
        public Builder prefix(@Nullable String v) { prefix = v; return this; }

        /**
         * Sets {@code transformers_version} (default absent).
         *
         * @param v the version string, or {@code null}
         * @return this builder
         */
        public Builder transformersVersion(@Nullable String v) { transformersVersion = v; return this; }

        /**
         * Keeps a key this class does not model (written back by {@link OptConfig#toJson()}).
         *
         * @param key   the JSON key; not one of the keys this class models (checked by {@link #build()})
         * @param value a JSON value: null, a Boolean, an integer or finite floating-point number, a String, or a
         *              List or Map (String keys) of these
         * @return this builder
         * @throws NullPointerException if {@code key} is null
         */
        public Builder extra(String key, @Nullable Object value) {
            extra.put(Objects.requireNonNull(key), value);
            return this;
        }

        /**
         * Validates the values and makes the config.
         *
         * @return the config
         * @throws IllegalArgumentException if the values are not a valid OPT config
         */
        public OptConfig build() {
            return new OptConfig(this);
        }
    }

    // ------------------------------------------------------------------ Object

    private List<Object> values() {
        return java.util.Arrays.asList(vocabSize, hiddenSize, numHiddenLayers, ffnDim, maxPositionEmbeddings,
                doLayerNormBefore, removeFinalLayerNorm, wordEmbedProjDim, dropout, attentionDropout,
                numAttentionHeads, activationFunction, layerdrop, initStd, useCache, padTokenId, bosTokenId,
                eosTokenId, enableBias, layerNormElementwiseAffine, architectures, torchDtype, tieWordEmbeddings,
                id2label, label2id, problemType, prefix, transformersVersion, extra);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OptConfig c && values().equals(c.values());
    }

    @Override
    public int hashCode() {
        return values().hashCode();
    }

    @Override
    public String toString() {
        return "OptConfig[vocab=" + vocabSize + ", hidden=" + hiddenSize + ", layers=" + numHiddenLayers
                + ", heads=" + numAttentionHeads + ", ffn=" + ffnDim + ", maxPos=" + maxPositionEmbeddings
                + ", proj=" + wordEmbedProjDim + ", preLN=" + doLayerNormBefore + ", finalLN=" + hasFinalLayerNorm()
                + ", bias=" + enableBias + ", affine=" + layerNormElementwiseAffine + ", act=" + activationFunction
                + ", labels=" + numLabels() + (problemType == null ? "" : ", problem=" + problemType)
                + (extra.isEmpty() ? "" : ", extra=" + extra.keySet()) + "]";
    }
}
