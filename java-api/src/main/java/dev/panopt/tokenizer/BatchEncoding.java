package dev.panopt.tokenizer;

/**
 * A padded (or ragged, without padding) batch: per row the ids, the attention mask (1 for tokens, 0
 * for padding) and character offsets into that row's text ({@code (0, 0)} for BOS and padding).
 *
 * <p>The arrays are owned by the record and not copied: treat them as read-only. Equality, hash code
 * and string form are by value (the arrays' contents).
 *
 * @param inputIds      [rows][length] token ids, padding included
 * @param attentionMask [rows][length]: 1 for a token, 0 for padding
 * @param startOffsets  [rows][length] each token's first character (UTF-16 index) in its row's text
 * @param endOffsets    [rows][length] the index after each token's last character in its row's text
 */
public record BatchEncoding(int[][] inputIds, int[][] attentionMask, int[][] startOffsets, int[][] endOffsets) {
    /**
     * Checks that no component is null.
     *
     * @param inputIds see the record description
     * @param attentionMask see the record description
     * @param startOffsets see the record description
     * @param endOffsets see the record description
     */
    public BatchEncoding {
        java.util.Objects.requireNonNull(inputIds, "inputIds");
        java.util.Objects.requireNonNull(attentionMask, "attentionMask");
        java.util.Objects.requireNonNull(startOffsets, "startOffsets");
        java.util.Objects.requireNonNull(endOffsets, "endOffsets");
    }

    /**
     * Number of rows.
     *
     * @return the number of texts encoded
     */
    public int size() {
        return inputIds.length;
    }

    /** Value equality: the same ids, masks and offsets in every row. */
    @Override
    public boolean equals(Object o) {
        return o instanceof BatchEncoding e && java.util.Arrays.deepEquals(inputIds, e.inputIds)
                && java.util.Arrays.deepEquals(attentionMask, e.attentionMask)
                && java.util.Arrays.deepEquals(startOffsets, e.startOffsets)
                && java.util.Arrays.deepEquals(endOffsets, e.endOffsets);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(java.util.Arrays.deepHashCode(inputIds), java.util.Arrays.deepHashCode(attentionMask),
                java.util.Arrays.deepHashCode(startOffsets), java.util.Arrays.deepHashCode(endOffsets));
    }

    @Override
    public String toString() {
        return "BatchEncoding[inputIds=" + java.util.Arrays.deepToString(inputIds) + ", attentionMask="
                + java.util.Arrays.deepToString(attentionMask) + ", startOffsets="
                + java.util.Arrays.deepToString(startOffsets) + ", endOffsets=" + java.util.Arrays.deepToString(endOffsets)
                + "]";
    }
}
