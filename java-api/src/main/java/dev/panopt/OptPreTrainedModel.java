package dev.panopt;

import dev.panopt.checkpoint.Checkpoint;
import dev.panopt.checkpoint.CheckpointException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What every OPT model class shares (HF's {@code OPTPreTrainedModel}): the configuration, the
 * checkpoint bound to native memory, and sessions.
 *
 * <p>Ownership: a model owns its checkpoint's memory-mapped files, its native weights table and
 * every {@link Session} made from it; {@link #close()} releases them all, after which any use —
 * including reading an output's tensors — throws {@link IllegalStateException}.
 *
 * <p>Thread-safety: models are immutable and thread-safe. The forward methods without a session
 * share one internal session and so run one call at a time; for parallel work give each thread its
 * own {@link #newSession(SessionOptions) session}.
 */
public abstract sealed class OptPreTrainedModel implements AutoCloseable
        permits OptModel, OptForCausalLM, OptForSequenceClassification, OptForQuestionAnswering {
    final NativeModel model;
    private final SessionOptions defaultOptions;
    private final Object defaultSessionLock = new Object();
    private Session defaultSession;

    OptPreTrainedModel(NativeModel model, SessionOptions defaultOptions) {
        this.model = model;
        this.defaultOptions = defaultOptions;
    }

    /** Opens a checkpoint directory and binds the decoder plus {@code head} to native memory. */
    static NativeModel load(Path directory, LoadOptions options, HeadChooser head) throws IOException {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(options, "options");
        Checkpoint ckpt = Checkpoint.open(directory);
        try {
            OptConfig c = ckpt.config();
            if (options.numLabels().isPresent() && options.numLabels().getAsInt() != c.numLabels()) {
                c = c.toBuilder().numLabels(options.numLabels().getAsInt()).build();
            }
            return NativeModel.create(options.backend(), ckpt, c, head.choose(ckpt, c, options), options);
        } catch (IOException | RuntimeException | Error e) {
            ckpt.close();
            throw e;
        }
    }

    /** Picks (or creates) the output head of a model class. */
    @FunctionalInterface
    interface HeadChooser {
        NativeModel.Head choose(Checkpoint checkpoint, OptConfig config, LoadOptions options) throws IOException;
    }

    /** A task head from the checkpoint, or a new one when it is missing and the options allow it. */
    static NativeModel.Head taskHead(Checkpoint ckpt, OptConfig c, LoadOptions o, String weight, String bias,
                                     int size, String hfClass) throws CheckpointException {
        if (ckpt.find(weight).isPresent()) {
            return NativeModel.Head.fromCheckpoint(weight, bias, size);
        }
        if (o.newHeadSeed().isEmpty()) {
            throw new CheckpointException(ckpt.directory(), "no " + weight + " for " + hfClass
                    + " (a base or causal-LM checkpoint?); load with LoadOptions.builder().initializeMissingHead(seed)"
                    + " to create a new, untrained head as from_pretrained does");
        }
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(o.newHeadSeed().getAsLong());
        float[] w = new float[Math.multiplyExact(size, c.wordEmbedProjDim())];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() * c.initStd());
        }
        System.getLogger(OptPreTrainedModel.class.getName()).log(System.Logger.Level.WARNING,
                "{0} has no {1}: created a new head of {2} outputs (seed {3}); train it before use",
                ckpt.directory(), weight, size, o.newHeadSeed().getAsLong());
        return new NativeModel.Head(weight, bias, size, w, bias == null ? null : new float[size]);
    }

    /** {@return the model's configuration} */
    public OptConfig config() {
        return model.config();
    }

    /**
     * How the weights are stored: per weight its checkpoint type, the type the model holds it in
     * (after the {@link LoadOptions#quantization() quantization} and its fallbacks) and the sizes.
     * Available after {@link #close()} too.
     *
     * @return the report of this model's loading
     */
    public LoadReport loadReport() {
        return model.report();
    }

    /**
     * A new session with the model's default options; the caller closes it (or the model does).
     *
     * @return the session
     * @throws IllegalStateException if the model is closed
     */
    public Session newSession() {
        return model.newSession(defaultOptions);
    }

    /**
     * A new session; the caller closes it (or the model does).
     *
     * @param options the session's batch and length limits
     * @return the session
     * @throws IllegalStateException if the model is closed
     */
    public Session newSession(SessionOptions options) {
        return model.newSession(Objects.requireNonNull(options, "options"));
    }

    /** The session options this model was loaded with. */
    SessionOptions defaultSessionOptions() {
        return defaultOptions;
    }

    /** The internal session of the session-less forward methods. */
    Session defaultSession() {
        synchronized (defaultSessionLock) {
            model.ensureOpen();
            if (defaultSession == null || !defaultSession.isOpen()) {
                defaultSession = model.newSession(defaultOptions);
            }
            return defaultSession;
        }
    }

    /**
     * Rejects a tokenizer whose ids the model does not have (its vocabulary is larger than the model's
     * vocab_size): they were not made for each other, and every text would fail on some token.
     */
    void checkTokenizer(dev.panopt.tokenizer.OptTokenizer tokenizer) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        if (tokenizer.vocabSize() > config().vocabSize()) {
            throw new IllegalArgumentException("the tokenizer and the model do not match: the tokenizer has "
                    + tokenizer.vocabSize() + " tokens, the model's vocab_size is " + config().vocabSize());
        }
    }

    /**
     * A text helper's encode options from the caller's: theirs, with {@code defaultMaxLength} as the
     * maximum (at least 1) when they truncate without one; the helper sets the padding, so the caller's
     * must be none.
     */
    static dev.panopt.tokenizer.EncodeOptions.Builder helperEncoding(dev.panopt.tokenizer.EncodeOptions options,
                                                                      String method, int defaultMaxLength) {
        if (options.padding() != dev.panopt.tokenizer.EncodeOptions.Padding.NONE) {
            throw new IllegalArgumentException(method + " pads the batch itself; leave the options' padding NONE, not "
                    + options.padding());
        }
        var b = options.toBuilder();
        if (options.truncation() && options.maxLength() == 0) {
            b.maxLength(defaultMaxLength);
        }
        return b;
    }

    static void noCache(ForwardOptions options) {
        if (options.useCache()) {
            throw new IllegalArgumentException("useCache needs a session you own: forward(session, ...)");
        }
    }

    /** Closes every session of the model, frees the native model and unmaps the checkpoint. Idempotent. */
    @Override
    public void close() {
        model.close();
    }
}
