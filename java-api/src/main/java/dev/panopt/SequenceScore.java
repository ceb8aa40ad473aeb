package dev.panopt;

import java.util.Arrays;
import java.util.Objects;

/**
 * How likely a causal LM finds one token sequence ({@link OptForCausalLM#score}): the natural-log
 * probability of every token given the tokens before it, their sum, mean and the perplexity.
 *
 * <p>The first token is context only and has no log-probability, so {@code tokenLogprobs} is one
 * shorter than {@code tokenIds}: {@code tokenLogprobs[i] = log p(tokenIds[i + 1] | tokenIds[0..i])}.
 * When the text was encoded with the BOS ({@code </s>}, as OPT's tokenizer adds it by default), every
 * token of the text is scored; without it the text's first token is not. {@code mean} is minus HF's
 * causal-LM {@code loss} for {@code labels = input_ids} on this row alone.
 *
 * <p>Immutable and thread-safe: the arrays are copied in and out. Equality, hash code and string form
 * are by value (the arrays' contents).
 *
 * @param tokenIds      the scored row, BOS included when it was added; at least 2 ids
 * @param tokenLogprobs {@code tokenIds.length - 1} log-probabilities, one per token after the first
 * @param sum           their sum (accumulated in double before each value was rounded to float)
 * @param mean          {@code sum / tokenLogprobs.length}
 * @param perplexity    {@code exp(-mean)}
 */
public record SequenceScore(int[] tokenIds, float[] tokenLogprobs, double sum, double mean, double perplexity) {
    /**
     * Checks the lengths and copies the arrays.
     *
     * @param tokenIds      the scored row, at least 2 ids
     * @param tokenLogprobs one log-probability per token after the first
     * @param sum           their sum
     * @param mean          their mean
     * @param perplexity    exp(-mean)
     * @throws IllegalArgumentException if {@code tokenIds} has fewer than 2 ids or the lengths disagree
     */
    public SequenceScore {
        Objects.requireNonNull(tokenIds, "tokenIds");
        Objects.requireNonNull(tokenLogprobs, "tokenLogprobs");
        if (tokenIds.length < 2) {
            throw new IllegalArgumentException("a scored sequence needs at least 2 tokens (the first has no "
                    + "log-probability), got " + tokenIds.length);
        }
        if (tokenLogprobs.length != tokenIds.length - 1) {
            throw new IllegalArgumentException("tokenLogprobs must have tokenIds.length - 1 = " + (tokenIds.length - 1)
                    + " values, has " + tokenLogprobs.length);
        }
        tokenIds = tokenIds.clone();
        tokenLogprobs = tokenLogprobs.clone();
    }

    /** {@return the scored row (a copy)} */
    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    /** {@return the log-probability of each token after the first (a copy)} */
    @Override
    public float[] tokenLogprobs() {
        return tokenLogprobs.clone();
    }

    /** {@return the number of scored tokens: {@code tokenIds().length - 1}} */
    public int numScoredTokens() {
        return tokenLogprobs.length;
    }

    /** Value equality: the same ids, log-probabilities and statistics. */
    @Override
    public boolean equals(Object o) {
        return o instanceof SequenceScore s && Arrays.equals(tokenIds, s.tokenIds)
                && Arrays.equals(tokenLogprobs, s.tokenLogprobs) && Double.compare(sum, s.sum) == 0
                && Double.compare(mean, s.mean) == 0 && Double.compare(perplexity, s.perplexity) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(tokenIds), Arrays.hashCode(tokenLogprobs), sum, mean, perplexity);
    }

    @Override
    public String toString() {
        return "SequenceScore[tokenIds=" + Arrays.toString(tokenIds) + ", tokenLogprobs=" + Arrays.toString(tokenLogprobs)
                + ", sum=" + sum + ", mean=" + mean + ", perplexity=" + perplexity + "]";
    }
}
