package dev.panopt;

import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * Output of {@link OptForCausalLM#forward}: the fields of HF's {@code CausalLMOutputWithPast}
 * that were asked for ({@code past_key_values} stay in the session's cache).
 *
 * <p>The tensors are views into native memory owned by the session that produced them; they are
 * readable until this output is closed, or its session or model is closed (then they throw).
 * Closing is optional but frees the memory early. Made only by the model; immutable and
 * thread-safe; equality is identity (it stands for native memory).
 */
public final class CausalLMOutput implements AutoCloseable {
    private final FloatTensor logits;
    private final OptionalDouble loss;
    private final List<FloatTensor> hiddenStates;
    private final List<FloatTensor> attentions;
    private final int pastLength;

    CausalLMOutput(FloatTensor logits, OptionalDouble loss, List<FloatTensor> hiddenStates,
                   List<FloatTensor> attentions, int pastLength) {
        this.logits = Objects.requireNonNull(logits, "logits");
        this.loss = Objects.requireNonNull(loss, "loss");
        this.hiddenStates = List.copyOf(hiddenStates);
        this.attentions = List.copyOf(attentions);
        this.pastLength = pastLength;
    }

    /** @return [batch, seq_len, vocab_size] next-token scores at every position ([batch, vocab_size] from {@code forwardLast}) */
    public FloatTensor logits() {
        return logits;
    }

    /** @return the mean shifted cross-entropy when labels were given, else empty */
    public OptionalDouble loss() {
        return loss;
    }

    /** @return num_hidden_layers + 1 tensors when asked for (see {@link ForwardOptions}); else empty */
    public List<FloatTensor> hiddenStates() {
        return hiddenStates;
    }

    /** @return num_hidden_layers tensors [batch, heads, seq_len, past + seq_len] when asked for; else empty */
    public List<FloatTensor> attentions() {
        return attentions;
    }

    /** @return the positions that were cached before this call (0 without the cache) */
    public int pastLength() {
        return pastLength;
    }

    /** Releases the native memory of this output (idempotent); its views throw afterwards. */
    @Override
    public void close() {
        logits.release();
    }

    @Override
    public String toString() {
        return "CausalLMOutput[logits=" + logits + ", loss=" + loss + ", hiddenStates=" + hiddenStates.size()
                + ", attentions=" + attentions.size() + ", pastLength=" + pastLength + "]";
    }
}
