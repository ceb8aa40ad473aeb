package dev.panopt;

import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Hugging Face's {@code OPTModel}: the bare decoder, whose output is the last hidden state. Loads
 * the decoder weights of any OPT checkpoint (base, causal-LM or task). Ownership and
 * thread-safety: see {@link OptPreTrainedModel}.
 */
public final class OptModel extends OptPreTrainedModel {
    private OptModel(NativeModel model, SessionOptions defaults) {
        super(model, defaults);
    }

    /**
     * Loads a checkpoint directory with default options (see {@link #fromPretrained(Path, LoadOptions)}).
     *
     * @param directory the checkpoint directory, or a {@code .gguf} file
     * @return the model; the caller closes it
     * @throws dev.panopt.checkpoint.CheckpointException if the directory does not hold a valid OPT
     *     checkpoint
     * @throws IOException if a file cannot be read
     */
    public static OptModel fromPretrained(Path directory) throws IOException {
        return fromPretrained(directory, LoadOptions.DEFAULT);
    }

    /**
     * Loads a checkpoint directory: {@code config.json} plus safetensors or PyTorch weights, single or
     * sharded, as {@link OptForCausalLM#fromPretrained(Path, LoadOptions)} describes.
     *
     * @param directory the checkpoint directory, or a {@code .gguf} file
     * @param options   backend, session options, preloading, progress
     * @return the model; the caller closes it
     * @throws dev.panopt.checkpoint.CheckpointException if the directory does not hold a valid OPT
     *     checkpoint
     * @throws IOException if a file cannot be read
     */
    public static OptModel fromPretrained(Path directory, LoadOptions options) throws IOException {
        return new OptModel(load(directory, options, (ckpt, c, o) -> NativeModel.Head.NONE), options.sessionOptions());
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
    public static OptModel fromPretrained(String pathOrModelId) throws IOException {
        return fromPretrained(pathOrModelId, LoadOptions.DEFAULT);
    }

    /**
     * Loads a local checkpoint directory or a Hugging Face hub model {@code org/name[@revision]}, as
     * {@link OptForCausalLM#fromPretrained(String, LoadOptions)} describes.
     *
     * @param pathOrModelId an existing directory, or a hub model id {@code org/name[@revision]}
     * @param options       backend, session options, preloading and progress
     * @return the model; the caller closes it
     * @throws dev.panopt.checkpoint.CheckpointException if the directory does not hold a valid OPT checkpoint
     * @throws dev.panopt.hub.HubException if the hub model cannot be had (its reason says why)
     * @throws IOException if a file cannot be read or downloaded, or the string is neither a path nor a model id
     */
    public static OptModel fromPretrained(String pathOrModelId, LoadOptions options) throws IOException {
        java.util.Objects.requireNonNull(pathOrModelId, "pathOrModelId");
        java.util.Objects.requireNonNull(options, "options");
        return fromPretrained(dev.panopt.hub.HubClient.shared().resolveModel(pathOrModelId), options);
    }

    /**
     * Forward over one row of ids, every position attended, on the internal session.
     *
     * @param inputIds [seq] token ids
     * @return the last hidden state [1, seq, word_embed_proj_dim]
     */
    public BaseModelOutput forward(int[] inputIds) {
        return forward(ForwardRequest.inputIds(inputIds).build());
    }

    /**
     * Forward over a batch on the internal session (no cache).
     *
     * @param inputIds [batch, seq] token ids
     * @return the last hidden state [batch, seq, word_embed_proj_dim]
     */
    public BaseModelOutput forward(int[][] inputIds) {
        return forward(inputIds, null);
    }

    /**
     * Forward over a batch on the internal session (no cache).
     *
     * @param inputIds      [batch, seq] token ids
     * @param attentionMask [batch, seq] of 0/1, or null for all ones
     * @return the last hidden state [batch, seq, word_embed_proj_dim]
     */
    public BaseModelOutput forward(int[][] inputIds, @Nullable int[][] attentionMask) {
        return forward(ForwardRequest.inputIds(inputIds).attentionMask(attentionMask).build());
    }

    /**
     * HF's {@code OPTModel.forward}: ids or {@code inputs_embeds}, mask, session (cache) and options;
     * the base model has no loss, so the request may not carry labels.
     *
     * @param request the arguments
     * @return the last hidden state and what the options ask for
     */
    public BaseModelOutput forward(ForwardRequest request) {
        ModelCall call = ModelCall.of(this, request);
        request.checkLabels("OPTModel", false, false, false);
        return finish(call);
    }

    /**
     * {@link #encode(OptTokenizer, List, EmbeddingOptions)} of one text.
     *
     * @param tokenizer the model's tokenizer (its ids must lie within the model's vocab_size)
     * @param sentence  the text
     * @param options   pooling, normalization, batching
     * @return its embedding, [word_embed_proj_dim]
     */
    public float[] encode(OptTokenizer tokenizer, String sentence, EmbeddingOptions options) {
        Objects.requireNonNull(sentence, "sentence");
        return encode(tokenizer, List.of(sentence), options)[0];
    }

    /**
     * {@link #encode(OptTokenizer, List, EmbeddingOptions)} with {@link EmbeddingOptions#DEFAULT} (mean
     * pooling, not normalized).
     *
     * @param tokenizer the model's tokenizer
     * @param sentences the texts
     * @return one embedding per text, in order: [texts][word_embed_proj_dim]
     */
    public float[][] encode(OptTokenizer tokenizer, List<String> sentences) {
        return encode(tokenizer, sentences, EmbeddingOptions.DEFAULT);
    }

    /**
     * Sentence embeddings, as sentence-transformers' {@code encode} computes them on a decoder: each
     * text is encoded (BOS first by default), run through the decoder in length-sorted batches, and
     * its last hidden state pooled over its own tokens ({@link EmbeddingOptions.Pooling#MEAN} or
     * {@link EmbeddingOptions.Pooling#LAST_TOKEN}); padding never enters a row's embedding.
     * {@link EmbeddingOptions#normalizeEmbeddings()} scales each to unit L2 norm. Runs on the
     * model's internal session, one batch at a time.
     *
     * @param tokenizer the model's tokenizer (its ids must lie within the model's vocab_size)
     * @param sentences the texts; each must encode to 1 to max_position_embeddings tokens
     * @param options   pooling, normalization, batch size, padding side, BOS
     * @return one embedding per text, in order: [texts][word_embed_proj_dim]
     */
    public float[][] encode(OptTokenizer tokenizer, List<String> sentences, EmbeddingOptions options) {
        return Embeddings.encode(this, tokenizer, sentences, options);
    }

    /**
     * Embeddings of rows of ids as given: {@code options.batchSize()} consecutive rows per forward,
     * each row's last hidden state pooled over the positions where its mask is 1 (padding anywhere
     * is left out); the padding side and BOS options do not apply.
     *
     * @param inputIds      [batch, seq] token ids
     * @param attentionMask [batch, seq] of 0/1 with at least one 1 per row, or null for all ones
     * @param options       pooling, normalization, batch size
     * @return one embedding per row: [batch][word_embed_proj_dim]
     */
    public float[][] encode(int[][] inputIds, @Nullable int[][] attentionMask, EmbeddingOptions options) {
        return Embeddings.encode(this, inputIds, attentionMask, options);
    }

    private static BaseModelOutput finish(ModelCall call) {
        Session.Result r = call.run(false, null);
        List<FloatTensor> hs = call.hidden(r);
        FloatTensor last = hs.get(hs.size() - 1);
        List<FloatTensor> all = call.options().outputHiddenStates() ? hs : List.of();
        return new BaseModelOutput(call.view(r, last, "last_hidden_state"), all, call.attentions(r), r.pastLength());
    }
}
