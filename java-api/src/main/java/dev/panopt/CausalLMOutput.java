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
 * Closing is optional but frees the memory early. Immutable and thread-safe.
 *
 * @param logits       [batch, seq_len, vocab_size] next-token scores at every position
 * @param loss         mean shifted cross-entropy when labels were given
 * @param hiddenStates num_hidden_layers + 1 tensors when asked for (see {@link ForwardOptions}); else empty
 * @param attentions   num_hidden_layers tensors [batch, heads, seq_len, past + seq_len] when asked for; else empty
 * @param pastLength   positions that were cached before this call (0 without the cache)
 */
public record CausalLMOutput(FloatTensor logits, OptionalDouble loss, List<FloatTensor> hiddenStates,
                             List<FloatTensor> attentions, int pastLength) implements AutoCloseable {
    public CausalLMOutput {
        Objects.requireNonNull(logits, "logits");
        Objects.requireNonNull(loss, "loss");
        hiddenStates = List.copyOf(hiddenStates);
        attentions = List.copyOf(attentions);
    }

    /** Releases the native memory of this output (idempotent); its views throw afterwards. */
    @Override
    public void close() {
        logits.release();
    }
}
