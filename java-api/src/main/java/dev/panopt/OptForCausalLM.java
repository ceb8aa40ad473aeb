package dev.panopt;

import dev.panopt.checkpoint.CheckpointException;
import dev.panopt.tokenizer.BatchEncoding;
import dev.panopt.tokenizer.EncodeOptions;
import dev.panopt.tokenizer.OptTokenizer;
import dev.panopt.tokenizer.PaddingSide;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * Hugging Face's {@code OPTForCausalLM}: the OPT decoder with the language-model head tied to the
 * token embeddings (or a separate {@code lm_head.weight} when {@code tie_word_embeddings} is false).
 * Ownership and thread-safety: see {@link OptPreTrainedModel}.
 */
public final class OptForCausalLM extends OptPreTrainedModel {
    private OptForCausalLM(NativeModel model, SessionOptions defaults) {
        super(model, defaults);
    }

    /** Loads a checkpoint directory with default options. */
    public static OptForCausalLM fromPretrained(Path directory) throws IOException {
        return fromPretrained(directory, LoadOptions.DEFAULT);
    }

    /** Loads a checkpoint directory; {@code sessionOptions} become the model's default session options. */
    public static OptForCausalLM fromPretrained(Path directory, SessionOptions sessionOptions) throws IOException {
        return fromPretrained(directory, LoadOptions.builder().sessionOptions(sessionOptions).build());
    }

    /**
     * Loads a checkpoint directory: {@code config.json} plus {@code model.safetensors}, a sharded
     * {@code model.safetensors.index.json}, or PyTorch's {@code pytorch_model.bin} (or its sharded
     * index) as the facebook/opt-* repositories publish them; parameter names with or without the
     * {@code model.} prefix. Every tensor is validated (presence, shape, dtype, bounds) before native code sees it.
     *
     * @throws CheckpointException if the directory does not hold a valid OPT checkpoint
     */
    public static OptForCausalLM fromPretrained(Path directory, LoadOptions options) throws IOException {
        NativeModel m = load(directory, options, (ckpt, c, o) -> NativeModel.Head.fromCheckpoint(
                c.tieWordEmbeddings() ? "decoder.embed_tokens.weight" : "lm_head.weight", null, c.vocabSize()));
        return new OptForCausalLM(m, options.sessionOptions());
    }

    /** Forward over rectangular token ids with every position attended. */
    public CausalLMOutput forward(int[][] inputIds) {
        return forward(inputIds, null);
    }

    /**
     * Forward over a batch: {@code inputIds} [batch, seq] and {@code attentionMask} [batch, seq] of
     * 0/1 ({@code null} = all ones). Padding may be on the left or the right; positions follow the
     * mask exactly as in Hugging Face. Runs on the model's internal session, without its cache.
     */
    public CausalLMOutput forward(int[][] inputIds, int[][] attentionMask) {
        return forward(defaultSession(), inputIds, attentionMask, null, ForwardOptions.DEFAULT);
    }

    /** As {@link #forward(int[][], int[][])} with options (the cache needs a session of your own). */
    public CausalLMOutput forward(int[][] inputIds, int[][] attentionMask, ForwardOptions options) {
        noCache(options);
        return forward(defaultSession(), inputIds, attentionMask, null, options);
    }

    /**
     * The full form of HF's {@code OPTForCausalLM.forward}.
     *
     * @param session        a session of this model; with {@code options.useCache()} its cache is
     *                       the {@code past_key_values} and is extended by this call
     * @param inputIds       [batch, seq] token ids in [0, vocab_size)
     * @param attentionMask  [batch, past + seq] of 0/1, or null for all ones
     * @param labels         [batch, seq] target ids or -100 (ignored), or null; the loss is the mean
     *                       cross-entropy of logits[:, :-1] against labels[:, 1:], as HF computes it
     * @param options        extra outputs, cache use, head mask
     */
    public CausalLMOutput forward(Session session, int[][] inputIds, int[][] attentionMask, int[][] labels,
                                  ForwardOptions options) {
        return finish(ModelCall.of(model, session, inputIds, attentionMask, options), labels);
    }

    /** As the full form, with {@code inputs_embeds} [batch][seq][word_embed_proj_dim] instead of ids. */
    public CausalLMOutput forwardEmbeds(Session session, float[][][] inputsEmbeds, int[][] attentionMask,
                                        int[][] labels, ForwardOptions options) {
        return finish(ModelCall.ofEmbeds(model, session, inputsEmbeds, attentionMask, options), labels);
    }

    private CausalLMOutput finish(ModelCall call, int[][] labels) {
        int[] flatLabels = labels == null ? null : Losses.checkLmLabels(labels, call.batch(), call.seqLen(),
                model.config().vocabSize());
        Session.Result r = call.run(true, null);
        try {
            FloatTensor logits = call.view(r, r.head(), "logits");
            OptionalDouble loss = flatLabels == null ? OptionalDouble.empty()
                    : OptionalDouble.of(Losses.causalLm(logits, flatLabels, call.batch(), call.seqLen()));
            return new CausalLMOutput(logits, loss, call.hidden(r), call.attentions(r), r.pastLength());
        } catch (RuntimeException | Error e) {
            call.session().release(r.arena());
            throw e;
        }
    }

    /**
     * Logits of the last position of each row only ([batch, vocab]): what a decoding step needs,
     * without computing the vocabulary projection at the other positions.
     */
    public CausalLMOutput forwardLast(Session session, int[][] inputIds, int[][] attentionMask,
                                      ForwardOptions options) {
        Objects.requireNonNull(options, "options");
        ModelCall call = ModelCall.of(model, session, inputIds, attentionMask, options);
        int[] last = new int[call.batch()];
        java.util.Arrays.fill(last, call.seqLen() - 1);
        Session.Result r = call.run(true, last);
        return new CausalLMOutput(call.view(r, r.head(), "logits"), OptionalDouble.empty(), call.hidden(r),
                call.attentions(r), r.pastLength());
    }

    /**
     * HF's {@code generate} over token ids: greedy or sampled continuation of every row, with the
     * KV cache (one single-token forward per row and step after the prompt). Rows must be
     * left-padded (mask 0 before the text); they finish independently. Uses a session of its own
     * with the model's default session options (threads, ISA).
     */
    public GenerationResult generate(int[][] inputIds, int[][] attentionMask, GenerationConfig config) {
        return generate(inputIds, attentionMask, config, null, t -> {});
    }

    /** As {@link #generate(int[][], int[][], GenerationConfig)}, calling {@code onToken} as each token is made. */
    public GenerationResult generate(int[][] inputIds, int[][] attentionMask, GenerationConfig config,
                                     java.util.function.Consumer<GeneratedToken> onToken) {
        return generate(inputIds, attentionMask, config, null, onToken);
    }

    /**
     * Text in, text out: the prompts are encoded with {@code tokenizer} (BOS added, left-padded to
     * one batch), continued per {@code config} (stop strings need this form), and the new tokens
     * decoded without special tokens. {@code onToken} sees each token with the text it completes.
     */
    public GenerationResult generate(OptTokenizer tokenizer, java.util.List<String> prompts, GenerationConfig config,
                                     java.util.function.Consumer<GeneratedToken> onToken) {
        java.util.Objects.requireNonNull(tokenizer, "tokenizer");
        BatchEncoding enc = encodePrompts(tokenizer, prompts);
        return generate(enc.inputIds(), enc.attentionMask(), config, tokenizer, onToken);
    }

    /** {@link #generate(OptTokenizer, java.util.List, GenerationConfig, java.util.function.Consumer)} without a callback. */
    public GenerationResult generate(OptTokenizer tokenizer, java.util.List<String> prompts, GenerationConfig config) {
        return generate(tokenizer, prompts, config, t -> {});
    }

    /** The tokens of a text generate call as a lazy {@link TokenStream}; close it when done. */
    public TokenStream stream(OptTokenizer tokenizer, java.util.List<String> prompts, GenerationConfig config) {
        java.util.Objects.requireNonNull(tokenizer, "tokenizer");
        BatchEncoding enc = encodePrompts(tokenizer, prompts);
        return new TokenStream(newGeneration(enc.inputIds(), enc.attentionMask(), config, tokenizer));
    }

    /** The tokens of an id-level generate call as a lazy {@link TokenStream}; close it when done. */
    public TokenStream stream(int[][] inputIds, int[][] attentionMask, GenerationConfig config) {
        return new TokenStream(newGeneration(inputIds, attentionMask, config, null));
    }

    private GenerationResult generate(int[][] inputIds, int[][] attentionMask, GenerationConfig config,
                                      OptTokenizer tokenizer, java.util.function.Consumer<GeneratedToken> onToken) {
        java.util.Objects.requireNonNull(onToken, "onToken");
        try (Generation g = newGeneration(inputIds, attentionMask, config, tokenizer)) {
            while (!g.isDone()) {
                for (GeneratedToken t : g.step()) {
                    onToken.accept(t);
                }
            }
            return g.result();
        }
    }

    private Generation newGeneration(int[][] inputIds, int[][] attentionMask, GenerationConfig config,
                                     OptTokenizer tokenizer) {
        java.util.Objects.requireNonNull(config, "config");
        model.ensureOpen();
        return new Generation(this, inputIds, attentionMask, config, tokenizer, defaultSessionOptions());
    }

    private static BatchEncoding encodePrompts(OptTokenizer tokenizer, java.util.List<String> prompts) {
        if (prompts == null || prompts.isEmpty()) {
            throw new IllegalArgumentException("prompts must not be empty");
        }
        return tokenizer.encodeBatch(prompts, EncodeOptions.builder().padding(EncodeOptions.Padding.LONGEST)
                .paddingSide(PaddingSide.LEFT).build());
    }
}
