package dev.panopt.tokenizer;

/**
 * An encoded text pair as the slow GPT-2 tokenizer builds it ({@code [bos] + first + [bos] + second}
 * with BOS enabled): ids, tokens, offsets as in {@link Encoding} — each relative to its own text —
 * and {@code sequenceIds[i]}: -1 for the inserted BOS tokens, 0 for tokens of the first text, 1 for
 * tokens of the second (special tokens written inside a text belong to that text).
 *
 * <p>The arrays are owned by the record and not copied: treat them as read-only.
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
}
