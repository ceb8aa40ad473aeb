package dev.panopt;

import dev.panopt.tokenizer.BatchEncoding;
import dev.panopt.tokenizer.EncodeOptions;
import dev.panopt.tokenizer.OptTokenizer;
import dev.panopt.tokenizer.PaddingSide;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Hugging Face's {@code OPTForSequenceClassification}: the decoder plus {@code score}
 * (Linear(word_embed_proj_dim → num_labels), no bias), pooled at one position per row.
 *
 * <p>Pooling follows transformers 4.38: the position {@code (argmax(input_ids == pad_token_id) - 1)
 * mod seq_len} — one before the first pad token, or the last position when the row has none. A
 * left-padded row has its first pad at 0 and so pools its last position (its last real token). The
 * rule reads input_ids, not the attention mask; with inputs_embeds the last position is pooled.
 * Batches larger than one need a {@code pad_token_id}, as in HF.
 *
 * <p>Loading: {@code score.weight} must be in the checkpoint unless
 * {@link LoadOptions.Builder#initializeMissingHead(long)} asks for a new head (HF's
 * {@code from_pretrained(..., num_labels=N)} on a checkpoint without one); {@code numLabels}
 * overrides config.json's. Ownership and thread-safety: see {@link OptPreTrainedModel}.
 */
public final class OptForSequenceClassification extends OptPreTrainedModel {
    private OptForSequenceClassification(NativeModel model, SessionOptions defaults) {
        super(model, defaults);
    }

    /**
     * Loads a checkpoint directory with default options (see {@link #fromPretrained(Path, LoadOptions)}).
     *
     * @param directory the checkpoint directory, or a {@code .gguf} file
     * @return the model; the caller closes it
     * @throws dev.panopt.checkpoint.CheckpointException if the directory does not hold a valid OPT
     *     checkpoint, or lacks {@code score.weight} and the options do not ask for a new head
     * @throws IOException if a file cannot be read
     */
    public static OptForSequenceClassification fromPretrained(Path directory) throws IOException {
        return fromPretrained(directory, LoadOptions.DEFAULT);
    }

    /**
     * Loads a checkpoint directory: {@code config.json} plus safetensors or PyTorch weights, single or
     * sharded, as {@link OptForCausalLM#fromPretrained(Path, LoadOptions)} describes.
     *
     * @param directory the checkpoint directory, or a {@code .gguf} file
     * @param options   backend, session options, preloading, progress, num_labels and a new head's seed
     * @return the model; the caller closes it
     * @throws dev.panopt.checkpoint.CheckpointException if the directory does not hold a valid OPT
     *     checkpoint, or lacks {@code score.weight} and the options do not ask for a new head
     * @throws IOException if a file cannot be read
     */
    public static OptForSequenceClassification fromPretrained(Path directory, LoadOptions options) throws IOException {
        NativeModel m = load(directory, options, (ckpt, c, o) -> taskHead(ckpt, c, o, "score.weight", null,
                c.numLabels(), "OPTForSequenceClassification"));
        return new OptForSequenceClassification(m, options.sessionOptions());
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
    public static OptForSequenceClassification fromPretrained(String pathOrModelId) throws IOException {
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
    public static OptForSequenceClassification fromPretrained(String pathOrModelId, LoadOptions options) throws IOException {
        java.util.Objects.requireNonNull(pathOrModelId, "pathOrModelId");
        java.util.Objects.requireNonNull(options, "options");
        return fromPretrained(dev.panopt.hub.HubClient.shared().resolveModel(pathOrModelId), options);
    }

    /**
     * Logits of one row on the internal session.
     *
     * @param inputIds [seq] token ids
     * @return logits [1, num_labels]
     */
    public SequenceClassifierOutput forward(int[] inputIds) {
        return forward(ForwardRequest.inputIds(inputIds).build());
    }

    /**
     * Logits [batch, num_labels] on the internal session.
     *
     * @param inputIds [batch, seq] token ids
     * @return logits [batch, num_labels]
     */
    public SequenceClassifierOutput forward(int[][] inputIds) {
        return forward(inputIds, null);
    }

    /**
     * Logits [batch, num_labels] on the internal session.
     *
     * @param inputIds      [batch, seq] token ids
     * @param attentionMask [batch, seq] of 0/1, or null for all ones
     * @return logits [batch, num_labels]
     */
    public SequenceClassifierOutput forward(int[][] inputIds, @Nullable int[][] attentionMask) {
        return forward(ForwardRequest.inputIds(inputIds).attentionMask(attentionMask).build());
    }

    /**
     * HF's {@code OPTForSequenceClassification.forward}: with ids, each row pools HF's position (see
     * the class comment); with {@code inputs_embeds}, the last one. The loss needs
     * {@link ForwardRequest.Builder#labels(ClassificationLabels)}.
     *
     * @param request the arguments
     * @return pooled logits, the loss with labels, and what the options ask for
     */
    public SequenceClassifierOutput forward(ForwardRequest request) {
        ModelCall call = ModelCall.of(this, request);
        request.checkLabels("OPTForSequenceClassification", false, true, false);
        int[] pooled;
        if (request.inputIdsOrNull() != null) {
            pooled = pooledIndex(request.inputIdsOrNull());
        } else {
            pooled = new int[call.batch()];
            java.util.Arrays.fill(pooled, call.seqLen() - 1);
        }
        return finish(call, pooled, request.classificationLabelsOrNull());
    }

    private SequenceClassifierOutput finish(ModelCall call, int[] pooled, ClassificationLabels labels) {
        OptConfig c = model.config();
        Losses.Classification loss = labels == null ? null
                : Losses.classification(labels, c.problemType().orElse(null), c.numLabels(), call.batch());
        Session.Result r = call.run(true, pooled);
        try {
            FloatTensor logits = call.view(r, r.head(), "logits");
            OptionalDouble value = loss == null ? OptionalDouble.empty() : OptionalDouble.of(loss.compute(logits));
            return new SequenceClassifierOutput(value, logits, pooled,
                    Optional.ofNullable(loss == null ? null : loss.problemType()), call.hidden(r), call.attentions(r));
        } catch (RuntimeException | Error e) {
            r.owner().release();
            throw e;
        }
    }

    private int[] pooledIndex(int[][] ids) {
        var pad = model.config().padTokenId();
        int batch = ids.length;
        int seq = ids[0].length;
        int[] out = new int[batch];
        if (pad.isEmpty()) {
            if (batch > 1) {
                throw new IllegalArgumentException("batches of more than one row need pad_token_id in the config");
            }
            out[0] = seq - 1;
            return out;
        }
        for (int b = 0; b < batch; b++) {
            int first = 0;  // argmax of an all-false row is 0, as in torch
            for (int t = 0; t < seq; t++) {
                if (ids[b][t] == pad.getAsInt()) {
                    first = t;
                    break;
                }
            }
            out[b] = Math.floorMod(first - 1, seq);
        }
        return out;
    }

    /**
     * HF's text-classification pipeline on one text.
     *
     * @param tokenizer the model's tokenizer
     * @param text      the text
     * @return its best label, that label's score and every label's score
     */
    public ClassificationResult classify(OptTokenizer tokenizer, String text) {
        return classify(tokenizer, java.util.List.of(text)).get(0);
    }

    /**
     * HF's text-classification pipeline on one text, encoded per {@code options} (see
     * {@link #classify(OptTokenizer, java.util.List, EncodeOptions)}).
     *
     * @param tokenizer the model's tokenizer
     * @param text      the text
     * @param options   special tokens and truncation
     * @return its best label, that label's score and every label's score
     */
    public ClassificationResult classify(OptTokenizer tokenizer, String text, EncodeOptions options) {
        return classify(tokenizer, java.util.List.of(text), options).get(0);
    }

    /**
     * HF's text-classification pipeline: encodes {@code texts} (BOS added, right-padded to one
     * batch), runs the model on its internal session and turns the pooled logits into label scores.
     * A text longer than the model's {@code max_position_embeddings} is an
     * {@link InputTooLongException}; {@link #classify(OptTokenizer, java.util.List, EncodeOptions)}
     * can truncate it.
     *
     * @param tokenizer the model's tokenizer (its ids must lie within the model's vocab_size)
     * @param texts     one or more texts, run as one batch
     * @return per text, its best label, that label's score and every label's score
     */
    public java.util.List<ClassificationResult> classify(OptTokenizer tokenizer, java.util.List<String> texts) {
        return classify(tokenizer, texts, EncodeOptions.defaults());
    }

    /**
     * As {@link #classify(OptTokenizer, java.util.List)}, the texts encoded per {@code options} as the
     * pipeline's tokenizer arguments ({@code truncation=..., max_length=...}) do: special tokens,
     * truncation strategy, side and {@code maxLength}, which defaults to the model's
     * {@code max_position_embeddings} when truncation is on without one. The batch is padded by this
     * method (right, to the longest text), so the options must not ask for padding.
     *
     * @param tokenizer the model's tokenizer (its ids must lie within the model's vocab_size)
     * @param texts     one or more texts, run as one batch
     * @param options   special tokens and truncation; padding {@link EncodeOptions.Padding#NONE}
     * @return per text, its best label, that label's score and every label's score
     * @throws InputTooLongException if a text, as encoded, is longer than the model's positions
     * @throws IllegalArgumentException if the options ask for padding or a truncation that cannot be done
     */
    public java.util.List<ClassificationResult> classify(OptTokenizer tokenizer, java.util.List<String> texts,
                                                         EncodeOptions options) {
        java.util.Objects.requireNonNull(texts, "texts");
        java.util.Objects.requireNonNull(options, "options");
        checkTokenizer(tokenizer);
        if (texts.isEmpty()) {
            throw new IllegalArgumentException("texts must not be empty");
        }
        int positions = model.config().maxPositionEmbeddings();
        BatchEncoding enc = tokenizer.encodeBatch(texts, helperEncoding(options, "classify", positions)
                .padding(EncodeOptions.Padding.LONGEST).paddingSide(PaddingSide.RIGHT).build());
        for (int b = 0; b < texts.size(); b++) {
            int length = java.util.Arrays.stream(enc.attentionMask()[b]).sum();
            if (length > positions) {
                throw new InputTooLongException("texts", b, length, positions,
                        "positions of the model (max_position_embeddings)");
            }
        }
        OptConfig c = model.config();
        boolean sigmoid = c.numLabels() == 1
                || c.problemType().map("multi_label_classification"::equals).orElse(false);
        java.util.List<ClassificationResult> out = new java.util.ArrayList<>(texts.size());
        try (SequenceClassifierOutput o = forward(enc.inputIds(), enc.attentionMask())) {
            for (int b = 0; b < texts.size(); b++) {
                float[] logits = o.logits().row(b);
                double[] p = new double[logits.length];
                if (sigmoid) {
                    for (int i = 0; i < p.length; i++) {
                        p[i] = 1 / (1 + Math.exp(-logits[i]));
                    }
                } else {
                    float[] sm = o.probabilities(b);
                    for (int i = 0; i < p.length; i++) {
                        p[i] = sm[i];
                    }
                }
                int best = 0;
                java.util.Map<String, Double> scores = new java.util.LinkedHashMap<>();
                for (int i = 0; i < p.length; i++) {
                    scores.put(labelName(c, i), p[i]);
                    if (p[i] > p[best]) {
                        best = i;
                    }
                }
                out.add(new ClassificationResult(labelName(c, best), best, p[best], scores));
            }
        }
        return java.util.List.copyOf(out);
    }

    private static String labelName(OptConfig c, int id) {
        String n = c.id2label().get(id);
        return n != null ? n : "LABEL_" + id;
    }
}
