package dev.panopt;

/**
 * A text helper's input has more tokens than the model's positions leave for it
 * ({@code max_position_embeddings}, less the new tokens when generating), and the encode options did
 * not ask for truncation. Retry with {@link dev.panopt.tokenizer.EncodeOptions.Builder#truncation(boolean)}
 * (and {@link dev.panopt.tokenizer.EncodeOptions.Builder#truncationSide truncationSide(LEFT)} to keep a
 * prompt's end). Immutable.
 */
public final class InputTooLongException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** Which input (row) is too long. */
    private final int index;
    /** Its tokens, special tokens included. */
    private final int length;
    /** The tokens the model leaves for it. */
    private final int limit;

    InputTooLongException(String what, int index, int length, int limit, String limitMeaning) {
        super(what + "[" + index + "] has " + length + " tokens, more than the " + limit + " " + limitMeaning
                + "; truncate it (EncodeOptions truncation, maxLength and side)");
        this.index = index;
        this.length = length;
        this.limit = limit;
    }

    /** {@return the index of the input that is too long, in the order given} */
    public int index() {
        return index;
    }

    /** {@return its length in tokens, special tokens included} */
    public int length() {
        return length;
    }

    /** {@return the most tokens the model takes for it} */
    public int limit() {
        return limit;
    }
}
