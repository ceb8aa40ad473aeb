package dev.panopt;

/**
 * One token as it is produced.
 *
 * @param row     the batch row (prompt index)
 * @param index   0-based position among the row's new tokens
 * @param tokenId the token id
 * @param text    the text this token completes (empty while a multi-byte character is still
 *                incomplete; never half a character); empty when generating without a tokenizer
 * @param finish  set on the row's last token
 */
public record GeneratedToken(int row, int index, int tokenId, String text, FinishReason finish) {
    /** True for the row's last token. */
    public boolean isLast() {
        return finish != null;
    }
}
