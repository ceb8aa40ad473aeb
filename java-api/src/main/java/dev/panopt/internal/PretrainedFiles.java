package dev.panopt.internal;

import java.util.List;

/**
 * The file names of a Hugging Face pretrained directory, as the readers look for them and the hub
 * client fetches them: one definition for {@code Checkpoint}, the tokenizer reader and
 * {@code dev.panopt.hub}.
 *
 * <p>Thread-safety: constants only.
 */
public final class PretrainedFiles {
    /** The model configuration. */
    public static final String CONFIG = "config.json";
    /** Single-file safetensors weights. */
    public static final String SAFETENSORS = "model.safetensors";
    /** Index of sharded safetensors weights ({@code weight_map}: tensor name to shard file). */
    public static final String SAFETENSORS_INDEX = "model.safetensors.index.json";
    /** Single-file PyTorch weights. */
    public static final String PYTORCH = "pytorch_model.bin";
    /** Index of sharded PyTorch weights. */
    public static final String PYTORCH_INDEX = "pytorch_model.bin.index.json";
    /** Weight files in Hugging Face's order of preference: the first one present is used. */
    public static final List<String> WEIGHTS = List.of(SAFETENSORS, SAFETENSORS_INDEX, PYTORCH, PYTORCH_INDEX);

    /** GPT-2 BPE vocabulary (token to id). */
    public static final String VOCAB = "vocab.json";
    /** GPT-2 BPE merges, by rank. */
    public static final String MERGES = "merges.txt";
    /** The tokenizers library's single file, read when {@link #VOCAB} and {@link #MERGES} are absent. */
    public static final String TOKENIZER_JSON = "tokenizer.json";
    /** Tokenizer settings and added tokens. */
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    /** Special tokens (they override {@link #TOKENIZER_CONFIG}'s). */
    public static final String SPECIAL_TOKENS_MAP = "special_tokens_map.json";
    /** Added tokens (token to id). */
    public static final String ADDED_TOKENS = "added_tokens.json";
    /** The optional tokenizer files read beside the vocabulary, in the order they are read. */
    public static final List<String> TOKENIZER_EXTRAS = List.of(TOKENIZER_CONFIG, SPECIAL_TOKENS_MAP, ADDED_TOKENS);

    private PretrainedFiles() {}
}
