package dev.panopt;

import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * Output of {@link OptForQuestionAnswering}: HF's {@code QuestionAnsweringModelOutput}. Views live
 * until this output, its session or its model is closed. Made only by the model; immutable and
 * thread-safe; equality is identity.
 */
public final class QuestionAnsweringOutput implements AutoCloseable {
    private final OptionalDouble loss;
    private final FloatTensor startLogits;
    private final FloatTensor endLogits;
    private final List<FloatTensor> hiddenStates;
    private final List<FloatTensor> attentions;

    QuestionAnsweringOutput(OptionalDouble loss, FloatTensor startLogits, FloatTensor endLogits,
                            List<FloatTensor> hiddenStates, List<FloatTensor> attentions) {
        this.loss = Objects.requireNonNull(loss, "loss");
        this.startLogits = Objects.requireNonNull(startLogits, "startLogits");
        this.endLogits = Objects.requireNonNull(endLogits, "endLogits");
        this.hiddenStates = List.copyOf(hiddenStates);
        this.attentions = List.copyOf(attentions);
    }

    /** @return (CE(start) + CE(end)) / 2 when positions were given, else empty */
    public OptionalDouble loss() {
        return loss;
    }

    /** @return [batch, seq_len] span-start scores */
    public FloatTensor startLogits() {
        return startLogits;
    }

    /** @return [batch, seq_len] span-end scores */
    public FloatTensor endLogits() {
        return endLogits;
    }

    /** @return num_hidden_layers + 1 tensors when asked for; else empty */
    public List<FloatTensor> hiddenStates() {
        return hiddenStates;
    }

    /** @return num_hidden_layers tensors when asked for; else empty */
    public List<FloatTensor> attentions() {
        return attentions;
    }

    /** Releases the native memory of this output (idempotent); its views throw afterwards. */
    @Override
    public void close() {
        startLogits.release();
    }

    @Override
    public String toString() {
        return "QuestionAnsweringOutput[loss=" + loss + ", startLogits=" + startLogits + ", endLogits=" + endLogits
                + ", hiddenStates=" + hiddenStates.size() + ", attentions=" + attentions.size() + "]";
    }
}
