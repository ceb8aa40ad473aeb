package dev.panopt;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Output of {@link OptForSequenceClassification}: HF's {@code SequenceClassifierOutputWithPast}.
 * Views live until this output, its session or its model is closed. Made only by the model;
 * immutable and thread-safe; equality is identity.
 */
public final class SequenceClassifierOutput implements AutoCloseable {
    private final OptionalDouble loss;
    private final FloatTensor logits;
    private final int[] pooledIndex;
    private final Optional<String> problemType;
    private final List<FloatTensor> hiddenStates;
    private final List<FloatTensor> attentions;

    SequenceClassifierOutput(OptionalDouble loss, FloatTensor logits, int[] pooledIndex, Optional<String> problemType,
                             List<FloatTensor> hiddenStates, List<FloatTensor> attentions) {
        this.loss = Objects.requireNonNull(loss, "loss");
        this.logits = Objects.requireNonNull(logits, "logits");
        this.pooledIndex = pooledIndex.clone();
        this.problemType = Objects.requireNonNull(problemType, "problemType");
        this.hiddenStates = List.copyOf(hiddenStates);
        this.attentions = List.copyOf(attentions);
    }

    /** @return the loss of the resolved problem type, when labels were given; else empty */
    public OptionalDouble loss() {
        return loss;
    }

    /** @return [batch, num_labels], pooled at {@link #pooledIndex()} */
    public FloatTensor logits() {
        return logits;
    }

    /** @return per row, the position whose logits were pooled (HF's rule, see the model class); a copy */
    public int[] pooledIndex() {
        return pooledIndex.clone();
    }

    /**
     * @return the problem type the loss used ("regression", "single_label_classification",
     *         "multi_label_classification"), or empty without labels
     */
    public Optional<String> problemType() {
        return problemType;
    }

    /** @return num_hidden_layers + 1 tensors when asked for; else empty */
    public List<FloatTensor> hiddenStates() {
        return hiddenStates;
    }

    /** @return num_hidden_layers tensors when asked for; else empty */
    public List<FloatTensor> attentions() {
        return attentions;
    }

    /**
     * @param b the row
     * @return the softmax over the labels of that row (single-label scores)
     */
    public float[] probabilities(int b) {
        float[] row = logits.row(b);
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] e = new double[row.length];
        for (int i = 0; i < row.length; i++) {
            e[i] = Math.exp(row[i] - max);
            sum += e[i];
        }
        float[] p = new float[row.length];
        for (int i = 0; i < row.length; i++) {
            p[i] = (float) (e[i] / sum);
        }
        return p;
    }

    /** Releases the native memory of this output (idempotent); its views throw afterwards. */
    @Override
    public void close() {
        logits.release();
    }

    @Override
    public String toString() {
        return "SequenceClassifierOutput[loss=" + loss + ", logits=" + logits + ", pooledIndex="
                + java.util.Arrays.toString(pooledIndex) + ", problemType=" + problemType + ", hiddenStates="
                + hiddenStates.size() + ", attentions=" + attentions.size() + "]";
    }
}
