package dev.panopt;

/**
 * A user-defined step of the logits processing (HF's {@code LogitsProcessor}): it sees one row's
 * next-token scores and may change them in place, e.g. to ban or boost tokens. Added with
 * {@link GenerationConfig.Builder#logitsProcessors(LogitsProcessor...)}, processors run in the
 * order given, after the built-in processors (repetition penalties, n-gram and bad-word bans, the
 * minimum length, forced EOS, suppressed tokens) and before the sampling warpers, as HF appends
 * the {@code logits_processor} argument of {@code generate} to its own list.
 *
 * <pre>{@code
 * // never generate an odd token id
 * LogitsProcessor evenOnly = (ids, scores) -> {
 *     for (int t = 1; t < scores.length; t += 2) scores[t] = Float.NEGATIVE_INFINITY;
 * };
 * GenerationConfig cfg = GenerationConfig.builder().logitsProcessors(evenOnly).build();
 * }</pre>
 *
 * <p>Thread-safety: called on the generating thread, once per row and step. A processor in a
 * configuration that several threads use at once must be thread-safe (stateless ones are).
 */
@FunctionalInterface
public interface LogitsProcessor {
    /**
     * Adjusts one row's scores for its next token.
     *
     * @param inputIds the row's tokens so far: its prompt (without padding) then the tokens generated
     *                 after it (a fresh copy; HF's {@code input_ids} row)
     * @param scores   [vocab_size] the scores to adjust in place: logits for greedy search and sampling,
     *                 log-probabilities for beam search (as in HF); {@code -Infinity} bans a token
     */
    void process(int[] inputIds, float[] scores);
}
