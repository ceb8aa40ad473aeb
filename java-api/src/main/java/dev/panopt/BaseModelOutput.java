package dev.panopt;

import java.util.List;
import java.util.Objects;

/**
 * Output of {@link OptModel}: HF's {@code BaseModelOutputWithPast} ({@code past_key_values} stay
 * in the session). Views live until this output, its session or its model is closed; closing is
 * optional but frees the memory early. Made only by the model; immutable and thread-safe; equality
 * is identity.
 */
public final class BaseModelOutput implements AutoCloseable {
    private final FloatTensor lastHiddenState;
    private final List<FloatTensor> hiddenStates;
    private final List<FloatTensor> attentions;
    private final int pastLength;

    BaseModelOutput(FloatTensor lastHiddenState, List<FloatTensor> hiddenStates, List<FloatTensor> attentions,
                    int pastLength) {
        this.lastHiddenState = Objects.requireNonNull(lastHiddenState, "lastHiddenState");
        this.hiddenStates = List.copyOf(hiddenStates);
        this.attentions = List.copyOf(attentions);
        this.pastLength = pastLength;
    }

    /**
     * @return [batch, seq_len, word_embed_proj_dim]: after the final LayerNorm (if any) and project_out (if any)
     */
    public FloatTensor lastHiddenState() {
        return lastHiddenState;
    }

    /** @return num_hidden_layers + 1 tensors when asked for; else empty */
    public List<FloatTensor> hiddenStates() {
        return hiddenStates;
    }

    /** @return num_hidden_layers tensors [batch, heads, seq_len, past + seq_len] when asked for; else empty */
    public List<FloatTensor> attentions() {
        return attentions;
    }

    /** @return positions cached before this call (0 without the cache) */
    public int pastLength() {
        return pastLength;
    }

    /** Releases the native memory of this output (idempotent); its views throw afterwards. */
    @Override
    public void close() {
        lastHiddenState.release();
    }

    @Override
    public String toString() {
        return "BaseModelOutput[lastHiddenState=" + lastHiddenState + ", hiddenStates=" + hiddenStates.size()
                + ", attentions=" + attentions.size() + ", pastLength=" + pastLength + "]";
    }
}
