package dev.panopt.tokenizer;

/**
 * One encoded text: token ids, their token strings (byte-level, e.g. {@code "Ġworld"}) and each
 * token's character span {@code [startOffsets[i], endOffsets[i])} in the text (UTF-16 indices).
 *
 * <p>Offset rule: a token starts at the character holding its first UTF-8 byte and ends after the
 * character holding its last byte, so a byte-level token that covers only part of a multi-byte
 * character (or of a surrogate pair) maps to that whole character's span, and consecutive tokens of
 * one character share it. Special tokens inserted by the tokenizer (the BOS) get {@code (0, 0)};
 * special tokens written in the text get their own span.
 *
 * <p>The arrays are owned by the record and not copied: treat them as read-only. Equality, hash code
 * and string form are by value (the arrays' contents).
 *
 * @param ids          token ids, special tokens included
 * @param tokens       each token's byte-level string
 * @param startOffsets each token's first character (UTF-16 index) in the text
 * @param endOffsets   the index after each token's last character in the text
 */
public record Encoding(int[] ids, String[] tokens, int[] startOffsets, int[] endOffsets) {
    /**
     * Checks that no component is null.
     *
     * @param ids see the record description
     * @param tokens see the record description
     * @param startOffsets see the record description
     * @param endOffsets see the record description
     */
    public Encoding {
        java.util.Objects.requireNonNull(ids, "ids");
        java.util.Objects.requireNonNull(tokens, "tokens");
        java.util.Objects.requireNonNull(startOffsets, "startOffsets");
        java.util.Objects.requireNonNull(endOffsets, "endOffsets");
    }

    /**
     * Number of tokens.
     *
     * @return the length of {@link #ids()}
     */
    public int length() {
        return ids.length;
    }

    /** Value equality: the same ids, tokens and offsets. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Encoding e && java.util.Arrays.equals(ids, e.ids) && java.util.Arrays.equals(tokens, e.tokens)
                && java.util.Arrays.equals(startOffsets, e.startOffsets) && java.util.Arrays.equals(endOffsets, e.endOffsets);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(java.util.Arrays.hashCode(ids), java.util.Arrays.hashCode(tokens),
                java.util.Arrays.hashCode(startOffsets), java.util.Arrays.hashCode(endOffsets));
    }

    @Override
    public String toString() {
        return "Encoding[ids=" + java.util.Arrays.toString(ids) + ", tokens=" + java.util.Arrays.toString(tokens)
                + ", startOffsets=" + java.util.Arrays.toString(startOffsets) + ", endOffsets="
                + java.util.Arrays.toString(endOffsets) + "]";
    }
}
