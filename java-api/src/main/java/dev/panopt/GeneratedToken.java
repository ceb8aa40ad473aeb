package dev.panopt;

/**
 * One token as it is produced.
 *
 * @param row     the batch row (prompt index)
 * @param index   0-based position among the row's new tokens
 * @param tokenId the token id
 * @param text    the text this token completes (empty while a multi-byte character is still
 *                incomplete; never half a character); empty when generating without a tokenizer
 * @param finish  why the row ended with this token; {@link FinishReason#UNFINISHED} when more follow
 */
public record GeneratedToken(int row, int index, int tokenId, String text, FinishReason finish) {
    /**
     * Checks the values.
     *
     * @throws NullPointerException if text or finish is null
     */
    public GeneratedToken {
        java.util.Objects.requireNonNull(text, "text");
        java.util.Objects.requireNonNull(finish, "finish");
    }

    /**
     * @return true for the row's last token
     */
    public boolean isLast() {
        return finish != FinishReason.UNFINISHED;
    }
}
