package dev.panopt.tokenizer;

/**
 * An encoded text pair as the slow GPT-2 tokenizer builds it ({@code [bos] + first + [bos] + second}
 * with BOS enabled): ids, tokens, offsets as in {@link Encoding} — each relative to its own text —
 * and {@code sequenceIds[i]}: -1 for the inserted BOS tokens, 0 for tokens of the first text, 1 for
 * tokens of the second (special tokens written inside a text belong to that text).
 *
 * <p>The arrays are owned by the record and not copied: treat them as read-only. Equality, hash code
 * and string form are by value (the arrays' contents).
 */
public record PairEncoding(int[] ids, String[] tokens, int[] startOffsets, int[] endOffsets, int[] sequenceIds) {
    /** Number of tokens. */
    public int length() {
        return ids.length;
    }

    /** The same without the sequence ids. */
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
