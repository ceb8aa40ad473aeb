package dev.panopt;

import java.util.List;
import java.util.Objects;

/**
 * Output of {@link OptModel}: HF's {@code BaseModelOutputWithPast} ({@code past_key_values} stay
 * in the session). Views live until this output, its session or its model is closed; closing is
 * optional but frees the memory early. Immutable and thread-safe.
 *
 * @param lastHiddenState [batch, seq_len, word_embed_proj_dim]: after the final LayerNorm (if any)
 *                        and project_out (if any)
 * @param hiddenStates    num_hidden_layers + 1 tensors when asked for; else empty
 * @param attentions      num_hidden_layers tensors [batch, heads, seq_len, past + seq_len] when asked for; else empty
 * @param pastLength      positions cached before this call (0 without the cache)
 */
public record BaseModelOutput(FloatTensor lastHiddenState, List<FloatTensor> hiddenStates,
                              List<FloatTensor> attentions, int pastLength) implements AutoCloseable {
    public BaseModelOutput {
        Objects.requireNonNull(lastHiddenState, "lastHiddenState");
        hiddenStates = List.copyOf(hiddenStates);
        attentions = List.copyOf(attentions);
    }

    @Override
    public void close() {
        lastHiddenState.release();
    }
}
