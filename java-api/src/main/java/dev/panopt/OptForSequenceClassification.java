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

    public static OptForSequenceClassification fromPretrained(Path directory) throws IOException {
        return fromPretrained(directory, LoadOptions.DEFAULT);
    }

    public static OptForSequenceClassification fromPretrained(Path directory, LoadOptions options) throws IOException {
        NativeModel m = load(directory, options, (ckpt, c, o) -> taskHead(ckpt, c, o, "score.weight", null,
                c.numLabels(), "OPTForSequenceClassification"));
        return new OptForSequenceClassification(m, options.sessionOptions());
    }

    /** Logits [batch, num_labels] on the internal session. */
    public SequenceClassifierOutput forward(int[][] inputIds, int[][] attentionMask) {
        return forward(defaultSession(), inputIds, attentionMask, null, ForwardOptions.DEFAULT);
    }

    /** As {@link #forward(int[][], int[][])} with labels (for the loss) and options. */
    public SequenceClassifierOutput forward(int[][] inputIds, int[][] attentionMask, ClassificationLabels labels,
                                            ForwardOptions options) {
        noCache(options);
        return forward(defaultSession(), inputIds, attentionMask, labels, options);
    }

    /** HF's {@code OPTForSequenceClassification.forward}; labels may be null. */
    public SequenceClassifierOutput forward(Session session, int[][] inputIds, int[][] attentionMask,
                                            ClassificationLabels labels, ForwardOptions options) {
        ModelCall call = ModelCall.of(model, session, inputIds, attentionMask, options);
        return finish(call, pooledIndex(inputIds), labels);
    }

    /** With {@code inputs_embeds}: every row pools its last position. */
    public SequenceClassifierOutput forwardEmbeds(Session session, float[][][] inputsEmbeds, int[][] attentionMask,
                                                  ClassificationLabels labels, ForwardOptions options) {
        ModelCall call = ModelCall.ofEmbeds(model, session, inputsEmbeds, attentionMask, options);
        int[] pooled = new int[call.batch()];
        java.util.Arrays.fill(pooled, call.seqLen() - 1);
        return finish(call, pooled, labels);
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
            call.session().release(r.arena());
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
     * HF's text-classification pipeline: encodes {@code texts} (BOS added, right-padded to one
     * batch), runs the model on its internal session and turns the pooled logits into label scores.
     */
    public java.util.List<ClassificationResult> classify(OptTokenizer tokenizer, java.util.List<String> texts) {
        java.util.Objects.requireNonNull(tokenizer, "tokenizer");
        if (texts == null || texts.isEmpty()) {
            throw new IllegalArgumentException("texts must not be empty");
        }
        BatchEncoding enc = tokenizer.encodeBatch(texts, EncodeOptions.builder().padding(EncodeOptions.Padding.LONGEST)
                .paddingSide(PaddingSide.RIGHT).build());
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
