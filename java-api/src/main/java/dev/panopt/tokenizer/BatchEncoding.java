package dev.panopt.tokenizer;

/**
 * A padded (or ragged, without padding) batch: per row the ids, the attention mask (1 for tokens, 0
 * for padding) and character offsets into that row's text ({@code (0, 0)} for BOS and padding).
 *
 * <p>The arrays are owned by the record and not copied: treat them as read-only.
 */
public record BatchEncoding(int[][] inputIds, int[][] attentionMask, int[][] startOffsets, int[][] endOffsets) {
    /** Number of rows. */
    public int size() {
        return inputIds.length;
    }
}
