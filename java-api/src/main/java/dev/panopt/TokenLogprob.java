package dev.panopt;

/**
 * A token and its log-probability: an entry of {@link GeneratedToken#topLogprobs()} (OpenAI's
 * {@code top_logprobs}, llama.cpp's {@code n_probs}). Immutable.
 *
 * @param tokenId the token id
 * @param logprob its natural-log probability under the distribution the token was chosen from
 *                (see {@link GenerationConfig#logprobs()})
 */
public record TokenLogprob(int tokenId, double logprob) {}
