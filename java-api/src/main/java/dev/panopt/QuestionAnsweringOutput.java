package dev.panopt;

import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * Output of {@link OptForQuestionAnswering}: HF's {@code QuestionAnsweringModelOutput}. Views live
 * until this output, its session or its model is closed. Immutable and thread-safe.
 *
 * @param loss         (CE(start) + CE(end)) / 2 when positions were given
 * @param startLogits  [batch, seq_len] span-start scores
 * @param endLogits    [batch, seq_len] span-end scores
 * @param hiddenStates num_hidden_layers + 1 tensors when asked for; else empty
 * @param attentions   num_hidden_layers tensors when asked for; else empty
 */
public record QuestionAnsweringOutput(OptionalDouble loss, FloatTensor startLogits, FloatTensor endLogits,
                                      List<FloatTensor> hiddenStates, List<FloatTensor> attentions)
        implements AutoCloseable {
    public QuestionAnsweringOutput {
        Objects.requireNonNull(loss, "loss");
        Objects.requireNonNull(startLogits, "startLogits");
        Objects.requireNonNull(endLogits, "endLogits");
        hiddenStates = List.copyOf(hiddenStates);
        attentions = List.copyOf(attentions);
    }

    @Override
    public void close() {
        startLogits.release();
    }
}
