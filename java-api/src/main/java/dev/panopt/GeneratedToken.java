package dev.panopt;

import java.util.List;

/**
 * One token as it is produced. Immutable.
 *
 * @param row         the result row: the prompt index times {@link GenerationConfig#numReturnSequences()}
 *                    plus the sequence's index among its prompt's (just the prompt index by default)
 * @param index       0-based position among the row's new tokens
 * @param tokenId     the token id
 * @param text        the text this token completes (empty while a multi-byte character is still
 *                    incomplete; never half a character); empty when generating without a tokenizer
 * @param finish      why the row ended with this token; {@link FinishReason#UNFINISHED} when more follow
 * @param logprob     the token's log-probability (see {@link GenerationConfig#logprobs()}); NaN unless
 *                    log-probabilities were asked for or the search is a beam search
 * @param topLogprobs the {@link GenerationConfig#topLogprobs()} most likely tokens at this step and their
 *                    log-probabilities, best first (empty unless asked for)
 */
public record GeneratedToken(int row, int index, int tokenId, String text, FinishReason finish, double logprob,
                             List<TokenLogprob> topLogprobs) {
    /**
     * Checks the values and copies the list.
     *
     * @throws NullPointerException if text, finish, topLogprobs or one of its entries is null
     */
    public GeneratedToken {
        java.util.Objects.requireNonNull(text, "text");
        java.util.Objects.requireNonNull(finish, "finish");
        topLogprobs = List.copyOf(topLogprobs);
    }

    /**
     * A token without log-probabilities.
     *
     * @param row     the result row
     * @param index   0-based position among the row's new tokens
     * @param tokenId the token id
     * @param text    the text this token completes
     * @param finish  why the row ended with this token, or {@link FinishReason#UNFINISHED}
     */
    public GeneratedToken(int row, int index, int tokenId, String text, FinishReason finish) {
        this(row, index, tokenId, text, finish, Double.NaN, List.of());
    }

    /** {@return whether this is the row's last token (its finish reason is not UNFINISHED)} */
    public boolean isLast() {
        return finish != FinishReason.UNFINISHED;
    }
}
