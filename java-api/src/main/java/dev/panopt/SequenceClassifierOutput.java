package dev.panopt;

import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * Output of {@link OptForSequenceClassification}: HF's {@code SequenceClassifierOutputWithPast}.
 * Views live until this output, its session or its model is closed. Immutable and thread-safe.
 *
 * @param loss         the loss of the resolved problem type, when labels were given
 * @param logits       [batch, num_labels], pooled at {@code pooledIndex}
 * @param pooledIndex  per row, the position whose logits were pooled (HF's rule, see the model class)
 * @param problemType  the problem type the loss used ("regression", "single_label_classification",
 *                     "multi_label_classification"), or empty without labels
 * @param hiddenStates num_hidden_layers + 1 tensors when asked for; else empty
 * @param attentions   num_hidden_layers tensors when asked for; else empty
 */
public record SequenceClassifierOutput(OptionalDouble loss, FloatTensor logits, int[] pooledIndex,
                                       java.util.Optional<String> problemType, List<FloatTensor> hiddenStates,
                                       List<FloatTensor> attentions) implements AutoCloseable {
    public SequenceClassifierOutput {
        Objects.requireNonNull(loss, "loss");
        Objects.requireNonNull(logits, "logits");
        pooledIndex = pooledIndex.clone();
        hiddenStates = List.copyOf(hiddenStates);
        attentions = List.copyOf(attentions);
    }

    @Override
    public int[] pooledIndex() {
        return pooledIndex.clone();
    }

    /** Softmax over the labels of row {@code b} (single-label scores). */
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

    @Override
    public void close() {
        logits.release();
    }
}
