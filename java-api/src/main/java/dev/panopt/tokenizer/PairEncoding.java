package dev.panopt.tokenizer;

/**
 * An encoded text pair as the slow GPT-2 tokenizer builds it ({@code [bos] + first + [bos] + second}
 * with BOS enabled): ids, tokens, offsets as in {@link Encoding} — each relative to its own text —
 * and {@code sequenceIds[i]}: -1 for the inserted BOS tokens, 0 for tokens of the first text, 1 for
 * tokens of the second (special tokens written inside a text belong to that text).
 *
 * <p>The arrays are owned by the record and not copied: treat them as read-only. Equality, hash code
 * and string form are by value (the arrays' contents).
 *
 * @param ids          token ids of the whole pair, special tokens included
 * @param tokens       each token's byte-level string
 * @param startOffsets each token's first character (UTF-16 index) in its own text; 0 for inserted BOS tokens
 * @param endOffsets   the index after each token's last character in its own text; 0 for inserted BOS tokens
 * @param sequenceIds  per token: -1 for an inserted BOS, 0 for the first text, 1 for the second
 */
public record PairEncoding(int[] ids, String[] tokens, int[] startOffsets, int[] endOffsets, int[] sequenceIds) {
    /**
     * Checks that no component is null.
     *
     * @param ids see the record description
     * @param tokens see the record description
     * @param startOffsets see the record description
     * @param endOffsets see the record description
     * @param sequenceIds see the record description
     */
    public PairEncoding {
        java.util.Objects.requireNonNull(ids, "ids");
        java.util.Objects.requireNonNull(tokens, "tokens");
        java.util.Objects.requireNonNull(startOffsets, "startOffsets");
        java.util.Objects.requireNonNull(endOffsets, "endOffsets");
        java.util.Objects.requireNonNull(sequenceIds, "sequenceIds");
    }

    /**
     * Number of tokens.
     *
     * @return the length of {@link #ids()}
     */
    public int length() {
        return ids.length;
    }

    /**
     * The same without the sequence ids.
     *
     * @return an encoding sharing this record's arrays
     */
    public Encoding encoding() {
        return new Encoding(ids, tokens, startOffsets, endOffsets);
    }

    /** Value equality: the same ids, tokens, offsets and sequence ids. */
    @Override
    public boolean equals(Object o) {
        return o instanceof PairEncoding e && java.util.Arrays.equals(ids, e.ids)
                && java.util.Arrays.equals(tokens, e.tokens) && java.util.Arrays.equals(startOffsets, e.startOffsets)
                && java.util.Arrays.equals(endOffsets, e.endOffsets) && java.util.Arrays.equals(sequenceIds, e.sequenceIds);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(java.util.Arrays.hashCode(ids), java.util.Arrays.hashCode(tokens),
                java.util.Arrays.hashCode(startOffsets), java.util.Arrays.hashCode(endOffsets),
                java.util.Arrays.hashCode(sequenceIds));
    }

    @Override
    public String toString() {
        return "PairEncoding[ids=" + java.util.Arrays.toString(ids) + ", tokens=" + java.util.Arrays.toString(tokens)
                + ", startOffsets=" + java.util.Arrays.toString(startOffsets) + ", endOffsets="
                + java.util.Arrays.toString(endOffsets) + ", sequenceIds=" + java.util.Arrays.toString(sequenceIds) + "]";
    }
}
