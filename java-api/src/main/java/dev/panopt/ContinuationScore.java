package dev.panopt;

import java.util.Arrays;
import java.util.Objects;

/**
 * The log-likelihood of a continuation given a context ({@link OptForCausalLM#scoreContinuations}),
 * as lm-evaluation-harness's {@code loglikelihood} requests compute it for multiple-choice tasks:
 * {@code log p(continuation | context)} summed over the continuation's tokens, and whether greedy
 * decoding from the context would have produced exactly the continuation.
 *
 * <p>Immutable and thread-safe: the arrays are copied in and out. Equality, hash code and string form
 * are by value (the arrays' contents).
 *
 * @param contextIds      the context's ids (at least one: the BOS stands in for an empty context)
 * @param continuationIds the continuation's ids (at least one)
 * @param tokenLogprobs   the natural-log probability of each continuation token given everything
 *                        before it; as long as {@code continuationIds}
 * @param logLikelihood   their sum (accumulated in double)
 * @param isGreedy        whether every continuation token was the most likely next token (ties go to
 *                        the lowest id, as {@code argmax} does)
 */
public record ContinuationScore(int[] contextIds, int[] continuationIds, float[] tokenLogprobs, double logLikelihood,
                                boolean isGreedy) {
    /**
     * Checks the lengths and copies the arrays.
     *
     * @param contextIds      the context's ids, at least one
     * @param continuationIds the continuation's ids, at least one
     * @param tokenLogprobs   one log-probability per continuation token
     * @param logLikelihood   their sum
     * @param isGreedy        whether the continuation is the greedy one
     * @throws IllegalArgumentException if an id array is empty or the lengths disagree
     */
    public ContinuationScore {
        Objects.requireNonNull(contextIds, "contextIds");
        Objects.requireNonNull(continuationIds, "continuationIds");
        Objects.requireNonNull(tokenLogprobs, "tokenLogprobs");
        if (contextIds.length == 0 || continuationIds.length == 0) {
            throw new IllegalArgumentException("the context and the continuation need at least one token each");
        }
        if (tokenLogprobs.length != continuationIds.length) {
            throw new IllegalArgumentException("tokenLogprobs must have one value per continuation token ("
                    + continuationIds.length + "), has " + tokenLogprobs.length);
        }
        contextIds = contextIds.clone();
        continuationIds = continuationIds.clone();
        tokenLogprobs = tokenLogprobs.clone();
    }

    /** {@return the context's ids (a copy)} */
    @Override
    public int[] contextIds() {
        return contextIds.clone();
    }

    /** {@return the continuation's ids (a copy)} */
    @Override
    public int[] continuationIds() {
        return continuationIds.clone();
    }

    /** {@return the log-probability of each continuation token (a copy)} */
    @Override
    public float[] tokenLogprobs() {
        return tokenLogprobs.clone();
    }

    /** Value equality: the same ids, log-probabilities, sum and greedy flag. */
    @Override
    public boolean equals(Object o) {
        return o instanceof ContinuationScore s && Arrays.equals(contextIds, s.contextIds)
                && Arrays.equals(continuationIds, s.continuationIds) && Arrays.equals(tokenLogprobs, s.tokenLogprobs)
                && Double.compare(logLikelihood, s.logLikelihood) == 0 && isGreedy == s.isGreedy;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(contextIds), Arrays.hashCode(continuationIds), Arrays.hashCode(tokenLogprobs),
                logLikelihood, isGreedy);
    }

    @Override
    public String toString() {
        return "ContinuationScore[contextIds=" + Arrays.toString(contextIds) + ", continuationIds="
                + Arrays.toString(continuationIds) + ", tokenLogprobs=" + Arrays.toString(tokenLogprobs)
                + ", logLikelihood=" + logLikelihood + ", isGreedy=" + isGreedy + "]";
    }
}
