package dev.panopt;

import java.util.Arrays;
import java.util.List;
import java.util.OptionalDouble;

/**
 * What a generate call measured about one result row, token by token (HF's {@code output_scores},
 * {@code output_logits} and {@code sequences_scores} of {@code return_dict_in_generate}, OpenAI's
 * {@code logprobs}). Each list has one entry per new token of the row, or is empty when the
 * {@link GenerationConfig} did not ask for it. Immutable (accessors return copies); equality is by
 * value.
 *
 * @param logprobs      each token's log-probability ({@link GenerationConfig#logprobs()}); empty unless
 *                      asked for or the search is a beam search
 * @param topLogprobs   at each step the {@link GenerationConfig#topLogprobs()} best tokens, best first
 * @param sequenceScore beam search's score of the sequence (HF {@code sequences_scores}): the sum of
 *                      its {@code logprobs} divided by its length to the power
 *                      {@link GenerationConfig#lengthPenalty()}; empty for greedy search and sampling
 * @param scores        at each step the processed scores the token was chosen from, [vocab_size]
 *                      ({@link GenerationConfig#outputScores()})
 * @param logits        at each step the model's raw logits, [vocab_size]
 *                      ({@link GenerationConfig#outputLogits()})
 */
public record SequenceScores(double[] logprobs, List<List<TokenLogprob>> topLogprobs, OptionalDouble sequenceScore,
                             List<float[]> scores, List<float[]> logits) {
    private static final SequenceScores NONE =
            new SequenceScores(new double[0], List.of(), OptionalDouble.empty(), List.of(), List.of());

    /**
     * Copies the arrays and lists.
     *
     * @throws NullPointerException if an argument or a list entry is null
     */
    public SequenceScores {
        logprobs = logprobs.clone();
        topLogprobs = topLogprobs.stream().map(List::copyOf).toList();
        java.util.Objects.requireNonNull(sequenceScore, "sequenceScore");
        scores = scores.stream().map(float[]::clone).toList();
        logits = logits.stream().map(float[]::clone).toList();
    }

    /** {@return a row with nothing measured} */
    public static SequenceScores none() {
        return NONE;
    }

    /** {@return each token's log-probability (a copy)} */
    @Override
    public double[] logprobs() {
        return logprobs.clone();
    }

    /** {@return the processed scores of every step (copies)} */
    @Override
    public List<float[]> scores() {
        return scores.stream().map(float[]::clone).toList();
    }

    /** {@return the raw logits of every step (copies)} */
    @Override
    public List<float[]> logits() {
        return logits.stream().map(float[]::clone).toList();
    }

    /** Value equality: the same numbers in every field. */
    @Override
    public boolean equals(Object o) {
        return o instanceof SequenceScores s && Arrays.equals(logprobs, s.logprobs) && topLogprobs.equals(s.topLogprobs)
                && sequenceScore.equals(s.sequenceScore) && sameArrays(scores, s.scores) && sameArrays(logits, s.logits);
    }

    private static boolean sameArrays(List<float[]> a, List<float[]> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = Arrays.hashCode(logprobs);
        for (float[] s : scores) {
            h = 31 * h + Arrays.hashCode(s);
        }
        for (float[] s : logits) {
            h = 31 * h + Arrays.hashCode(s);
        }
        return 31 * (31 * h + topLogprobs.hashCode()) + sequenceScore.hashCode();
    }

    @Override
    public String toString() {
        return "SequenceScores[logprobs=" + Arrays.toString(logprobs) + ", topLogprobs=" + topLogprobs
                + ", sequenceScore=" + sequenceScore + ", scores=" + scores.size() + " steps, logits=" + logits.size()
                + " steps]";
    }
}
