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

    /**
     * Loads a checkpoint directory with default options (see
     * {@link #fromPretrained(Path, LoadOptions)}).
     *
     * @param directory the checkpoint directory, or a {@code .gguf} file
     * @return the model; the caller closes it
     * @throws CheckpointException if the directory does not hold a valid OPT checkpoint
     * @throws IOException         if a file cannot be read
     */
    public static OptForCausalLM fromPretrained(Path directory) throws IOException {
        return fromPretrained(directory, LoadOptions.DEFAULT);
    }

    /**
     * Loads a checkpoint directory; {@code sessionOptions} become the model's default session options.
     *
     * @param directory      the checkpoint directory, or a {@code .gguf} file
     * @param sessionOptions options of the model's internal session and of {@link #newSession()}
     * @return the model; the caller closes it
     * @throws CheckpointException if the directory does not hold a valid OPT checkpoint
     * @throws IOException         if a file cannot be read
     */
    public static OptForCausalLM fromPretrained(Path directory, SessionOptions sessionOptions) throws IOException {
        return fromPretrained(directory, LoadOptions.builder().sessionOptions(sessionOptions).build());
    }

    /**
     * Loads a checkpoint directory: {@code config.json} plus {@code model.safetensors}, a sharded
     * {@code model.safetensors.index.json}, or PyTorch's {@code pytorch_model.bin} (or its sharded
     * index) as the facebook/opt-* repositories publish them; parameter names with or without the
     * {@code model.} prefix; or one GGUF file that {@link dev.panopt.checkpoint.OptGguf} wrote (config, tokenizer
     * and weights, block-quantized ones included, mapped and handed to native code without a copy). Every tensor
     * is validated (presence, shape, dtype, bounds) before native code sees it.
     *
     * @param directory the checkpoint directory, or a {@code .gguf} file
     * @param options   backend, session options, preloading and progress
     * @return the model; the caller closes it
     * @throws CheckpointException if the directory does not hold a valid OPT checkpoint
     * @throws IOException         if a file cannot be read
     */
    public static OptForCausalLM fromPretrained(Path directory, LoadOptions options) throws IOException {
        NativeModel m = load(directory, options, (ckpt, c, o) -> NativeModel.Head.fromCheckpoint(
                c.tieWordEmbeddings() ? "decoder.embed_tokens.weight" : "lm_head.weight", null, c.vocabSize()));
        return new OptForCausalLM(m, options.sessionOptions());
    }

    /**
     * Loads a local checkpoint directory or a Hugging Face hub model {@code org/name[@revision]} with
     * default options (see {@link #fromPretrained(String, LoadOptions)}).
     *
     * @param pathOrModelId an existing directory, or a hub model id {@code org/name[@revision]}
     * @return the model; the caller closes it
     * @throws dev.panopt.checkpoint.CheckpointException if the directory does not hold a valid OPT checkpoint
     * @throws dev.panopt.hub.HubException if the hub model cannot be had (its reason says why)
     * @throws IOException if a file cannot be read or downloaded, or the string is neither a path nor a model id
     */
    public static OptForCausalLM fromPretrained(String pathOrModelId) throws IOException {
        return fromPretrained(pathOrModelId, LoadOptions.DEFAULT);
    }

    /**
     * Loads a local checkpoint directory or a Hugging Face hub model, as HF's
     * {@code from_pretrained("facebook/opt-125m")}: a string naming an existing path is that path;
     * otherwise it must be a model id {@code org/name[@revision]}, whose config, weights and
     * tokenizer files {@link dev.panopt.hub.HubClient#shared()} finds in the Hugging Face cache or
     * downloads into it ({@link dev.panopt.hub.HubClient#resolveModel}), configured by the {@code HF_*}
     * environment variables. For other settings (token, endpoint, progress, offline) load
     * {@code HubClient.create(hubOptions).downloadModel(RepoRef.parse(id))} with
     * {@link #fromPretrained(Path, LoadOptions)}.
     *
     * @param pathOrModelId an existing directory, or a hub model id {@code org/name[@revision]}
     * @param options       backend, session options, preloading and progress
     * @return the model; the caller closes it
     * @throws CheckpointException if the directory does not hold a valid OPT checkpoint
     * @throws dev.panopt.hub.HubException if the hub model cannot be had (its reason says why)
     * @throws IOException if a file cannot be read or downloaded, or the string is neither a path nor a model id
     */
    public static OptForCausalLM fromPretrained(String pathOrModelId, LoadOptions options) throws IOException {
        java.util.Objects.requireNonNull(pathOrModelId, "pathOrModelId");
        java.util.Objects.requireNonNull(options, "options");
        return fromPretrained(dev.panopt.hub.HubClient.shared().resolveModel(pathOrModelId), options);
    }

    /**
     * Forward over one row of token ids, every position attended, on the model's internal session.
     *
     * @param inputIds [seq] token ids in [0, vocab_size)
     * @return logits [1, seq, vocab_size]
     */
    public CausalLMOutput forward(int[] inputIds) {
        return forward(ForwardRequest.inputIds(inputIds).build());
    }

    /**
     * Forward over rectangular token ids with every position attended, on the model's internal session.
     *
     * @param inputIds [batch, seq] token ids in [0, vocab_size)
     * @return logits [batch, seq, vocab_size]
     */
    public CausalLMOutput forward(int[][] inputIds) {
        return forward(inputIds, null);
    }

    /**
     * Forward over a batch: {@code inputIds} [batch, seq] and {@code attentionMask} [batch, seq] of
     * 0/1 ({@code null} = all ones). Padding may be on the left or the right; positions follow the
     * mask exactly as in Hugging Face. Runs on the model's internal session, without its cache.
     *
     * @param inputIds      [batch, seq] token ids in [0, vocab_size)
     * @param attentionMask [batch, seq] of 0/1, or null for all ones
     * @return logits [batch, seq, vocab_size]
     */
    public CausalLMOutput forward(int[][] inputIds, @Nullable int[][] attentionMask) {
        return forward(ForwardRequest.inputIds(inputIds).attentionMask(attentionMask).build());
    }

    /**
     * The full form of HF's {@code OPTForCausalLM.forward}: ids or embeddings, mask, the session
     * whose cache is the {@code past_key_values} (extended by the call with
     * {@link ForwardOptions#useCache()}), token labels for the loss, extra outputs.
     *
     * @param request the arguments; {@link ForwardRequest.Builder#labels(int[][])} are the only labels taken
     * @return logits [batch, seq, vocab_size], the loss with labels, and what the options ask for
     */
    public CausalLMOutput forward(ForwardRequest request) {
        ModelCall call = ModelCall.of(this, request);
        request.checkLabels("OPTForCausalLM", true, false, false);
        int[][] labels = request.tokenLabelsOrNull();
        int[] flatLabels = labels == null ? null : Losses.checkLmLabels(labels, call.batch(), call.seqLen(),
                model.config().vocabSize());
        Session.Result r = call.run(true, null);
        try {
            FloatTensor logits = call.view(r, r.head(), "logits");
            OptionalDouble loss = flatLabels == null ? OptionalDouble.empty()
                    : OptionalDouble.of(Losses.causalLm(logits, flatLabels, call.batch(), call.seqLen()));
            return new CausalLMOutput(logits, loss, call.hidden(r), call.attentions(r), r.pastLength());
        } catch (RuntimeException | Error e) {
            r.owner().release();
            throw e;
        }
    }

    /**
     * Logits of the last position of each row only ([batch, vocab]): what a decoding step needs,
     * without computing the vocabulary projection at the other positions. Takes no labels.
     *
     * @param request the arguments (ids or embeddings, mask, session, options)
     * @return logits [batch, vocab_size] and what the options ask for
     */
    public CausalLMOutput forwardLast(ForwardRequest request) {
        request.checkLabels("forwardLast", false, false, false);
        return forwardLast(ModelCall.of(this, request));
    }

    /** {@link #forwardLast(ForwardRequest)} without building a request (the generation loop's step). */
    CausalLMOutput forwardLast(Session session, int[][] inputIds, int[][] attentionMask, ForwardOptions options) {
        return forwardLast(ModelCall.of(model, session, inputIds, attentionMask, options));
    }

    private static CausalLMOutput forwardLast(ModelCall call) {
        int[] last = new int[call.batch()];
        java.util.Arrays.fill(last, call.seqLen() - 1);
        Session.Result r = call.run(true, last);
        return new CausalLMOutput(call.view(r, r.head(), "logits"), OptionalDouble.empty(), call.hidden(r),
                call.attentions(r), r.pastLength());
    }

    /**
     * How likely the model finds a text: encodes it (BOS first, see {@link ScoreOptions#DEFAULT}) and
     * gives each token's log-probability given the tokens before it, their sum, mean and perplexity.
     *
     * @param tokenizer the model's tokenizer (its ids must lie within the model's vocab_size)
     * @param text      the text; it must encode to at least 2 tokens
     * @return its score
     */
    public SequenceScore score(OptTokenizer tokenizer, String text) {
        Objects.requireNonNull(text, "text");
        return score(tokenizer, java.util.List.of(text)).get(0);
    }

    /**
     * {@link #score(OptTokenizer, java.util.List, ScoreOptions)} with {@link ScoreOptions#DEFAULT}.
     *
     * @param tokenizer the model's tokenizer
     * @param texts     the texts; each must encode to at least 2 tokens
     * @return one score per text, in order
     */
    public java.util.List<SequenceScore> score(OptTokenizer tokenizer, java.util.List<String> texts) {
        return score(tokenizer, texts, ScoreOptions.DEFAULT);
    }

    /**
     * Scores texts, as perplexity evaluation does with HF's {@code labels = input_ids}: each text is
     * encoded (with the BOS when {@link ScoreOptions#addSpecialTokens()}), and every token after the
     * first gets {@code log p(token | tokens before it)} (natural log, computed in double from the
     * float32 logits). The texts run in length-sorted batches of {@link ScoreOptions#batchSize()}
     * rows padded on {@link ScoreOptions#paddingSide()}; a result does not depend on either beyond
     * float32 rounding. Runs on the model's internal session, one batch at a time.
     *
     * @param tokenizer the model's tokenizer (its ids must lie within the model's vocab_size)
     * @param texts     the texts; each must encode to at least 2 and at most max_position_embeddings + 1 tokens
     * @param options   batch size, padding side, BOS
     * @return one score per text, in order
     */
    public java.util.List<SequenceScore> score(OptTokenizer tokenizer, java.util.List<String> texts, ScoreOptions options) {
        return Scoring.score(this, tokenizer, texts, options);
    }

    /**
     * Scores rows of token ids as given (no BOS is added): row {@code i} may have its own length, at
     * least 2; {@code tokenIds[i][0]} is context only. Only the batch size and the padding side of
     * {@code options} apply.
     *
     * @param tokenIds rows of ids in [0, vocab_size), each of 2 to max_position_embeddings + 1 ids
     * @param options  batch size and padding side
     * @return one score per row, in order
     */
    public java.util.List<SequenceScore> score(int[][] tokenIds, ScoreOptions options) {
        return Scoring.scoreIds(this, tokenIds, options);
    }

    /**
     * {@link #scoreContinuations(OptTokenizer, java.util.List, java.util.List, ScoreOptions)} with
     * {@link ScoreOptions#DEFAULT}.
     *
     * @param tokenizer     the model's tokenizer
     * @param contexts      one context per pair
     * @param continuations one continuation per pair
     * @return one score per pair, in order
     */
    public java.util.List<ContinuationScore> scoreContinuations(OptTokenizer tokenizer, java.util.List<String> contexts,
                                                                java.util.List<String> continuations) {
        return scoreContinuations(tokenizer, contexts, continuations, ScoreOptions.DEFAULT);
    }

    /**
     * lm-evaluation-harness's {@code loglikelihood} for multiple-choice evaluation: for each pair,
     * {@code log p(continuation | context)} summed over the continuation's tokens, and whether greedy
     * decoding after the context gives exactly the continuation. Encoded as the harness does: trailing
     * whitespace of the context moves to the continuation, the continuation's ids are those of
     * {@code context + continuation} after the context's own ids, and an empty context is the BOS
     * alone. With {@link ScoreOptions#addSpecialTokens()} (the default) the context starts with the
     * BOS; without it, the encoding is the harness's default for OPT. For several choices of one
     * question pass the context once per choice. Batching as in
     * {@link #score(OptTokenizer, java.util.List, ScoreOptions)}.
     *
     * @param tokenizer     the model's tokenizer (its ids must lie within the model's vocab_size)
     * @param contexts      one context per pair (may be empty)
     * @param continuations one continuation per pair; each must add at least one token
     * @param options       batch size, padding side, BOS
     * @return one score per pair, in order
     */
    public java.util.List<ContinuationScore> scoreContinuations(OptTokenizer tokenizer, java.util.List<String> contexts,
                                                                java.util.List<String> continuations, ScoreOptions options) {
        return Scoring.continuations(this, tokenizer, contexts, continuations, options);
    }

    /**
     * {@link #scoreContinuations(OptTokenizer, java.util.List, java.util.List, ScoreOptions)} over ids:
     * pair {@code i} is scored as the row {@code contextIds[i] + continuationIds[i]}, nothing added.
     * Only the batch size and the padding side of {@code options} apply.
     *
     * @param contextIds      one non-empty context per pair
     * @param continuationIds one non-empty continuation per pair
     * @param options         batch size and padding side
     * @return one score per pair, in order
     */
    public java.util.List<ContinuationScore> scoreContinuations(int[][] contextIds, int[][] continuationIds,
                                                                ScoreOptions options) {
        return Scoring.continuationIds(this, contextIds, continuationIds, options);
    }

    /**
     * HF's {@code generate} over token ids: greedy, sampled or beam-search continuation of every row
     * (see {@link GenerationConfig}), with the KV cache (one single-token forward per row, or beam,
     * and step after the prompt). Rows must be left-padded (mask 0 before the text); they finish
     * independently. Uses a session of its own with the model's default session options (threads,
     * ISA). With {@link GenerationConfig#numReturnSequences()} n the result has n rows per prompt.
     * Beam search knows its tokens only when the search ends: {@code onToken} and the
     * {@link TokenStream} then see every returned sequence's tokens at once.
     *
     * <p>Cancellation (every {@code generate} and {@code stream}): if the generating thread is
     * interrupted, the generation stops before its next step (a step already running completes) and
     * returns the result so far, every unfinished row with {@link FinishReason#CANCELLED}; nothing is
     * thrown and the thread's interrupt status stays set. To stop a generation from another thread
     * without interrupting, use {@link #stream(int[][], int[][], GenerationConfig)} and
     * {@link TokenStream#cancel()}.
     *
     * @param inputIds      [batch, seq] left-padded prompt ids
     * @param attentionMask [batch, seq] of 0/1, or null for all ones
     * @param config        how to continue them
     * @return every row's new tokens and finish reason (empty texts: no tokenizer)
     */
    public GenerationResult generate(int[][] inputIds, @Nullable int[][] attentionMask, GenerationConfig config) {
        return generate(inputIds, attentionMask, config, null, t -> {});
    }

    /**
     * As {@link #generate(int[][], int[][], GenerationConfig)}, calling {@code onToken} as each token is made.
     *
     * @param inputIds      [batch, seq] left-padded prompt ids
     * @param attentionMask [batch, seq] of 0/1, or null for all ones
     * @param config        how to continue them
     * @param onToken       called on this thread with each token as it is made (its text is empty)
     * @return every row's new tokens and finish reason (empty texts: no tokenizer)
     */
    public GenerationResult generate(int[][] inputIds, @Nullable int[][] attentionMask, GenerationConfig config,
                                     java.util.function.Consumer<GeneratedToken> onToken) {
        return generate(inputIds, attentionMask, config, null, onToken);
    }

    /**
     * Text in, text out: the prompts are encoded with {@code tokenizer} (BOS added, left-padded to
     * one batch), continued per {@code config} (stop strings need this form), and the new tokens
     * decoded without special tokens. {@code onToken} sees each token with the text it completes.
     *
     * @param tokenizer the model's tokenizer (its ids must lie within the model's vocab_size)
     * @param prompts   one or more prompts, generated as one batch
     * @param config    how to continue them
     * @param onToken   called on this thread with each token as it is made
     * @return every row's new tokens, text and finish reason
     */
    public GenerationResult generate(OptTokenizer tokenizer, java.util.List<String> prompts, GenerationConfig config,
                                     java.util.function.Consumer<GeneratedToken> onToken) {
        return generate(tokenizer, prompts, config, EncodeOptions.defaults(), onToken);
    }

    /**
     * As {@link #generate(OptTokenizer, java.util.List, GenerationConfig, java.util.function.Consumer)},
     * the prompts encoded per {@code promptOptions}: special tokens, truncation strategy, side (LEFT
     * keeps a prompt's end, usually what generation wants) and {@code maxLength}, which defaults to
     * {@code max_position_embeddings - maxNewTokens} when truncation is on without one. The batch is
     * left-padded by this method, so the options must not ask for padding. Without truncation, a prompt
     * that leaves no room for {@code maxNewTokens} is an {@link InputTooLongException}.
     *
     * @param tokenizer     the model's tokenizer (its ids must lie within the model's vocab_size)
     * @param prompts       one or more prompts, generated as one batch
     * @param config        how to continue them
     * @param promptOptions how to encode and truncate the prompts; padding {@link EncodeOptions.Padding#NONE}
     * @param onToken       called on this thread with each token as it is made
     * @return every row's new tokens, text and finish reason
     * @throws InputTooLongException if a prompt, as encoded, and maxNewTokens exceed the model's positions
     */
    public GenerationResult generate(OptTokenizer tokenizer, java.util.List<String> prompts, GenerationConfig config,
                                     EncodeOptions promptOptions, java.util.function.Consumer<GeneratedToken> onToken) {
        java.util.Objects.requireNonNull(onToken, "onToken");
        BatchEncoding enc = encodePrompts(tokenizer, prompts, config, promptOptions);
        return generate(enc.inputIds(), enc.attentionMask(), config, tokenizer, onToken);
    }

    /**
     * {@link #generate(OptTokenizer, java.util.List, GenerationConfig, java.util.function.Consumer)} without a callback.
     *
     * @param tokenizer the model's tokenizer
     * @param prompts   one or more prompts, generated as one batch
     * @param config    how to continue them
     * @return every row's new tokens, text and finish reason
     */
    public GenerationResult generate(OptTokenizer tokenizer, java.util.List<String> prompts, GenerationConfig config) {
        return generate(tokenizer, prompts, config, t -> {});
    }

    /**
     * One prompt in, its continuation out ({@code .text()} of the result is the new text).
     *
     * @param tokenizer the model's tokenizer
     * @param prompt    the prompt
     * @param config    how to continue it
     * @return the row's new tokens, text and finish reason (one row)
     */
    public GenerationResult generate(OptTokenizer tokenizer, String prompt, GenerationConfig config) {
        return generate(tokenizer, java.util.List.of(prompt), config);
    }

    /**
     * One prompt, streamed to {@code onToken} as it is made.
     *
     * @param tokenizer the model's tokenizer
     * @param prompt    the prompt
     * @param config    how to continue it
     * @param onToken   called on this thread with each token as it is made
     * @return the row's new tokens, text and finish reason (row 0)
     */
    public GenerationResult generate(OptTokenizer tokenizer, String prompt, GenerationConfig config,
                                     java.util.function.Consumer<GeneratedToken> onToken) {
        return generate(tokenizer, java.util.List.of(prompt), config, onToken);
    }

    /**
     * The tokens of a text generate call as a lazy {@link TokenStream}; close it when done. The
     * request is validated (lengths, ids) before this returns, so nothing runs or prints first.
     *
     * @param tokenizer the model's tokenizer
     * @param prompts   one or more prompts, generated as one batch
     * @param config    how to continue them
     * @return the stream of tokens of every row
     */
    public TokenStream stream(OptTokenizer tokenizer, java.util.List<String> prompts, GenerationConfig config) {
        return stream(tokenizer, prompts, config, EncodeOptions.defaults());
    }

    /**
     * {@link #stream(OptTokenizer, java.util.List, GenerationConfig)} with the prompts encoded per
     * {@code promptOptions}, as
     * {@link #generate(OptTokenizer, java.util.List, GenerationConfig, EncodeOptions, java.util.function.Consumer)}
     * encodes them.
     *
     * @param tokenizer     the model's tokenizer
     * @param prompts       one or more prompts, generated as one batch
     * @param config        how to continue them
     * @param promptOptions how to encode and truncate the prompts; padding {@link EncodeOptions.Padding#NONE}
     * @return the stream of tokens of every row
     * @throws InputTooLongException if a prompt, as encoded, and maxNewTokens exceed the model's positions
     */
    public TokenStream stream(OptTokenizer tokenizer, java.util.List<String> prompts, GenerationConfig config,
                              EncodeOptions promptOptions) {
        BatchEncoding enc = encodePrompts(tokenizer, prompts, config, promptOptions);
        return new TokenStream(newGeneration(enc.inputIds(), enc.attentionMask(), config, tokenizer));
    }

    /**
     * {@link #stream(OptTokenizer, java.util.List, GenerationConfig)} of one prompt.
     *
     * @param tokenizer the model's tokenizer
     * @param prompt    the prompt
     * @param config    how to continue it
     * @return the stream of its tokens
     */
    public TokenStream stream(OptTokenizer tokenizer, String prompt, GenerationConfig config) {
        return stream(tokenizer, java.util.List.of(prompt), config);
    }

    /**
     * The tokens of an id-level generate call as a lazy {@link TokenStream}; close it when done.
     *
     * @param inputIds      [batch, seq] left-padded prompt ids
     * @param attentionMask [batch, seq] of 0/1, or null for all ones
     * @param config        how to continue them
     * @return the stream of tokens of every row
     */
    public TokenStream stream(int[][] inputIds, @Nullable int[][] attentionMask, GenerationConfig config) {
        return new TokenStream(newGeneration(inputIds, attentionMask, config, null));
    }

    private GenerationResult generate(int[][] inputIds, int[][] attentionMask, GenerationConfig config,
                                      OptTokenizer tokenizer, java.util.function.Consumer<GeneratedToken> onToken) {
        java.util.Objects.requireNonNull(onToken, "onToken");
        try (Decoder g = newGeneration(inputIds, attentionMask, config, tokenizer)) {
            while (!g.isDone()) {
                for (GeneratedToken t : g.step()) {
                    onToken.accept(t);
                }
            }
            return g.result();
        }
    }

    private Decoder newGeneration(int[][] inputIds, int[][] attentionMask, GenerationConfig config,
                                  OptTokenizer tokenizer) {
        java.util.Objects.requireNonNull(inputIds, "inputIds");
        java.util.Objects.requireNonNull(config, "config");
        model.ensureOpen();
        GenerationInputs in = new GenerationInputs(this, inputIds, attentionMask, config, tokenizer);
        return config.numBeams() > 1 ? new BeamSearch(in, config.numBeams(), defaultSessionOptions())
                : new Generation(in, defaultSessionOptions());
    }

    private BatchEncoding encodePrompts(OptTokenizer tokenizer, java.util.List<String> prompts, GenerationConfig config,
                                        EncodeOptions promptOptions) {
        java.util.Objects.requireNonNull(tokenizer, "tokenizer");
        java.util.Objects.requireNonNull(prompts, "prompts");
        java.util.Objects.requireNonNull(config, "config");
        java.util.Objects.requireNonNull(promptOptions, "promptOptions");
        checkTokenizer(tokenizer);
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("prompts must not be empty");
        }
        int positions = model.config().maxPositionEmbeddings();
        int room = positions - config.maxNewTokens();
        if (room < 1) {
            throw new IllegalArgumentException("max_new_tokens " + config.maxNewTokens()
                    + " leaves no room for a prompt within max_position_embeddings " + positions);
        }
        BatchEncoding enc = tokenizer.encodeBatch(prompts, helperEncoding(promptOptions, "generate", room)
                .padding(EncodeOptions.Padding.LONGEST).paddingSide(PaddingSide.LEFT).build());
        for (int b = 0; b < prompts.size(); b++) {
            int length = java.util.Arrays.stream(enc.attentionMask()[b]).sum();
            if (length > room) {
                throw new InputTooLongException("prompts", b, length, room, "positions the model (max_position_embeddings "
                        + positions + ") leaves beside max_new_tokens " + config.maxNewTokens());
            }
        }
        return enc;
    }
}
