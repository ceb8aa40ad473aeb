package dev.panopt;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Hugging Face's {@code OPTForCausalLM}: the OPT decoder with the language-model head tied to the
 * token embeddings (or a separate {@code lm_head.weight} when {@code tie_word_embeddings} is false).
 *
 * <p>Ownership: the model owns its checkpoint's memory-mapped files, its native weights table and
 * every {@link Session} made from it; {@link #close()} releases them all, after which any use —
 * including reading an output's tensors — throws {@link IllegalStateException}.
 *
 * <p>Thread-safety: the model is immutable and thread-safe. {@link #forward(int[][], int[][])}
 * uses an internal session and so runs one call at a time; for parallel work give each thread its
 * own {@link #newSession(SessionOptions) session} and call {@link #forward(Session, int[][], int[][])}.
 */
public final class OptForCausalLM implements AutoCloseable {
    private final NativeModel model;
    private final SessionOptions defaultOptions;
    private final Object defaultSessionLock = new Object();
    private Session defaultSession;

    private OptForCausalLM(NativeModel model, SessionOptions defaultOptions) {
        this.model = model;
        this.defaultOptions = defaultOptions;
    }

    /** Loads a checkpoint directory (config.json + safetensors) with default session options. */
    public static OptForCausalLM fromPretrained(Path directory) throws IOException {
        return fromPretrained(directory, SessionOptions.DEFAULT);
    }

    /**
     * Loads a checkpoint directory: {@code config.json} plus {@code model.safetensors} or a sharded
     * {@code model.safetensors.index.json}, parameter names with or without the {@code model.}
     * prefix. Every tensor is validated (presence, shape, dtype, bounds) before native code sees it.
     *
     * @param sessionOptions options of the internal session used by {@link #forward(int[][], int[][])}
     * @throws CheckpointException if the directory does not hold a valid OPT checkpoint
     */
    public static OptForCausalLM fromPretrained(Path directory, SessionOptions sessionOptions) throws IOException {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(sessionOptions, "sessionOptions");
        Checkpoint ckpt = Checkpoint.open(directory);
        OptConfig c = ckpt.config();
        String head = "decoder.embed_tokens.weight";
        if (!c.tieWordEmbeddings()) {
            head = "lm_head.weight";
        }
        NativeModel m = NativeModel.create(ckpt, new NativeModel.Head(head, null, c.vocabSize()));
        return new OptForCausalLM(m, sessionOptions);
    }

    /** The model's configuration. */
    public OptConfig config() {
        return model.config();
    }

    /** A new session with default options; the caller closes it (or the model does). */
    public Session newSession() {
        return model.newSession(defaultOptions);
    }

    /** A new session; the caller closes it (or the model does). */
    public Session newSession(SessionOptions options) {
        return model.newSession(Objects.requireNonNull(options, "options"));
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

    /** As {@link #forward(int[][], int[][])} with options (a cache option needs your own session). */
    public CausalLMOutput forward(int[][] inputIds, int[][] attentionMask, ForwardOptions options) {
        if (options.useCache()) {
            throw new IllegalArgumentException("useCache needs a session you own: forward(session, ...)");
        }
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
        Objects.requireNonNull(options, "options");
        ModelCall call = ModelCall.of(model, session, inputIds, attentionMask, options);
        int[] flatLabels = labels == null ? null : Losses.checkLmLabels(labels, call.batch(), call.seqLen(),
                model.config().vocabSize());
        Session.Result r = call.run(true, null);
        try {
            FloatTensor logits = call.view(r, r.head(), "logits");
            java.util.OptionalDouble loss = flatLabels == null ? java.util.OptionalDouble.empty()
                    : java.util.OptionalDouble.of(Losses.causalLm(logits, flatLabels, call.batch(), call.seqLen()));
            return new CausalLMOutput(logits, loss, call.hidden(r), call.attentions(r), r.pastLength());
        } catch (RuntimeException | Error e) {
            session.release(r.arena());
            throw e;
        }
    }

    private Session defaultSession() {
        synchronized (defaultSessionLock) {
            model.ensureOpen();
            if (defaultSession == null || !defaultSession.isOpen()) {
                defaultSession = model.newSession(defaultOptions);
            }
            return defaultSession;
        }
    }

    /** Closes every session of the model, frees the native model and unmaps the checkpoint. Idempotent. */
    @Override
    public void close() {
        model.close();
    }
}
