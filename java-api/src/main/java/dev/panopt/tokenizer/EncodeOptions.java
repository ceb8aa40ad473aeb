package dev.panopt.tokenizer;

/**
 * How {@link OptTokenizer#encodeBatch}, {@link OptTokenizer#encodePair(String, String, EncodeOptions)} and
 * {@link OptTokenizer#encodePairWindows(String, String, EncodeOptions)} encode, truncate and pad.
 * Immutable and thread-safe; build with {@link #builder()}. Defaults: special tokens added, no padding,
 * right padding side, no maximum length, no truncation, right truncation side, stride 0, no multiple.
 *
 * <p>Semantics follow Hugging Face's {@code __call__}: {@link Padding#LONGEST} pads to the longest row,
 * {@link Padding#MAX_LENGTH} to {@link #maxLength()} (required then); either is rounded up to
 * {@link #padToMultipleOf()} when that is set.
 *
 * <p>Truncation follows transformers' slow tokenizer ({@code truncate_sequences}): {@code maxLength}
 * counts the special tokens the tokenizer inserts (OPT's BOS: one for a text, two for a pair), which
 * are added after the text's tokens are cut, so they always stay. {@link Truncation#LONGEST_FIRST}
 * and {@link Truncation#ONLY_FIRST} cut a single text; for a pair, {@code LONGEST_FIRST} first takes
 * from the longer text until both are equally long, then from both (the second text giving the odd
 * token), while {@code ONLY_FIRST} and {@code ONLY_SECOND} take only from that text. Tokens go from
 * the {@link #truncationSide()}. Where transformers logs an error and leaves the input uncut (the
 * text to cut would lose every token, or {@code ONLY_SECOND} without a pair), Panopt throws
 * {@link IllegalArgumentException}. A row longer than {@code maxLength} without truncation is left as
 * it is (and not padded). {@link #stride()} matters only to
 * {@link OptTokenizer#encodePairWindows(String, String, EncodeOptions) windows}.
 */
public final class EncodeOptions {
    /** Padding strategy. */
    public enum Padding {
        /** No padding: rows keep their own length. */
        NONE,
        /** Pad to the longest row of the batch. */
        LONGEST,
        /** Pad to {@link EncodeOptions#maxLength()}. */
        MAX_LENGTH
    }

    /** Truncation strategy, as Hugging Face's {@code truncation=} argument names them. */
    public enum Truncation {
        /** No truncation ({@code do_not_truncate}). */
        NONE,
        /** Cut the longer text of a pair first, a single text as it is ({@code longest_first}). */
        LONGEST_FIRST,
        /** Cut only the first text (of a pair, or the single text) ({@code only_first}). */
        ONLY_FIRST,
        /** Cut only the second text of a pair ({@code only_second}); a single text is an error. */
        ONLY_SECOND
    }

    private static final EncodeOptions DEFAULTS = builder().build();

    private final boolean addSpecialTokens;
    private final Padding padding;
    private final PaddingSide paddingSide;
    private final int maxLength;
    private final Truncation truncation;
    private final TruncationSide truncationSide;
    private final int stride;
    private final int padToMultipleOf;

    private EncodeOptions(Builder b) {
        addSpecialTokens = b.addSpecialTokens;
        padding = b.padding;
        paddingSide = b.paddingSide;
        maxLength = b.maxLength;
        truncation = b.truncation;
        truncationSide = b.truncationSide;
        stride = b.stride;
        padToMultipleOf = b.padToMultipleOf;
        if (padding == Padding.MAX_LENGTH && maxLength <= 0) {
            throw new IllegalArgumentException("padding MAX_LENGTH needs maxLength");
        }
    }

    /** {@return the defaults (special tokens, no padding, no truncation)} */
    public static EncodeOptions defaults() {
        return DEFAULTS;
    }

    /** {@return a builder starting from the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder starting from these options} */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.addSpecialTokens = addSpecialTokens;
        b.padding = padding;
        b.paddingSide = paddingSide;
        b.maxLength = maxLength;
        b.truncation = truncation;
        b.truncationSide = truncationSide;
        b.stride = stride;
        b.padToMultipleOf = padToMultipleOf;
        return b;
    }

    /** {@return whether the BOS is prepended to each row (default true)} */
    public boolean addSpecialTokens() {
        return addSpecialTokens;
    }

    /** {@return the padding strategy (default {@link Padding#NONE})} */
    public Padding padding() {
        return padding;
    }

    /** {@return the side padding goes on (default {@link PaddingSide#RIGHT})} */
    public PaddingSide paddingSide() {
        return paddingSide;
    }

    /** {@return the maximum row length, 0 when unset} */
    public int maxLength() {
        return maxLength;
    }

    /** {@return whether inputs longer than {@link #maxLength()} are cut to it (default false)} */
    public boolean truncation() {
        return truncation != Truncation.NONE;
    }

    /** {@return the truncation strategy (default {@link Truncation#NONE})} */
    public Truncation truncationStrategy() {
        return truncation;
    }

    /** {@return the end truncation removes tokens from (default {@link TruncationSide#RIGHT})} */
    public TruncationSide truncationSide() {
        return truncationSide;
    }

    /** {@return the tokens consecutive windows share (default 0); see {@link OptTokenizer#encodePairWindows}} */
    public int stride() {
        return stride;
    }

    /** {@return the multiple padded lengths are rounded up to, 0 when unset} */
    public int padToMultipleOf() {
        return padToMultipleOf;
    }

    @Override
    public String toString() {
        return "EncodeOptions[addSpecialTokens=" + addSpecialTokens + ", padding=" + padding + ", paddingSide="
                + paddingSide + ", maxLength=" + maxLength + ", truncation=" + truncation + ", truncationSide="
                + truncationSide + ", stride=" + stride + ", padToMultipleOf=" + padToMultipleOf + "]";
    }

    /** Mutable builder; not thread-safe. */
    public static final class Builder {
        private boolean addSpecialTokens = true;
        private Padding padding = Padding.NONE;
        private PaddingSide paddingSide = PaddingSide.RIGHT;
        private int maxLength;
        private Truncation truncation = Truncation.NONE;
        private TruncationSide truncationSide = TruncationSide.RIGHT;
        private int stride;
        private int padToMultipleOf;

        private Builder() {}

        /**
         * Whether to prepend the BOS to each row (default true).
         *
         * @param v true to add special tokens
         * @return this builder
         */
        public Builder addSpecialTokens(boolean v) {
            addSpecialTokens = v;
            return this;
        }

        /**
         * The padding strategy (default {@link Padding#NONE}).
         *
         * @param v the strategy; {@link Padding#MAX_LENGTH} needs {@link #maxLength(int)}
         * @return this builder
         * @throws NullPointerException if {@code v} is null
         */
        public Builder padding(Padding v) {
            padding = java.util.Objects.requireNonNull(v, "padding");
            return this;
        }

        /**
         * The side padding goes on (default {@link PaddingSide#RIGHT}; batched generation wants LEFT).
         *
         * @param v the side
         * @return this builder
         * @throws NullPointerException if {@code v} is null
         */
        public Builder paddingSide(PaddingSide v) {
            paddingSide = java.util.Objects.requireNonNull(v, "paddingSide");
            return this;
        }

        /**
         * Maximum row length, for truncation and {@link Padding#MAX_LENGTH}.
         *
         * @param v the length in tokens, at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code v} is less than 1
         */
        public Builder maxLength(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("maxLength must be >= 1, got " + v);
            }
            maxLength = v;
            return this;
        }

        /**
         * Whether to cut inputs longer than the maximum length (default false): true is
         * {@link Truncation#LONGEST_FIRST} (Hugging Face's {@code truncation=True}), false
         * {@link Truncation#NONE}. The tokenizer alone needs {@link #maxLength(int)} with it; the task
         * helpers default the maximum to the model's {@code max_position_embeddings}.
         *
         * @param v true to truncate
         * @return this builder
         */
        public Builder truncation(boolean v) {
            truncation = v ? Truncation.LONGEST_FIRST : Truncation.NONE;
            return this;
        }

        /**
         * The truncation strategy (default {@link Truncation#NONE}); see the class comment.
         *
         * @param v the strategy
         * @return this builder
         * @throws NullPointerException if {@code v} is null
         */
        public Builder truncation(Truncation v) {
            truncation = java.util.Objects.requireNonNull(v, "truncation");
            return this;
        }

        /**
         * The end tokens are cut from (default {@link TruncationSide#RIGHT}, as Hugging Face's
         * {@code truncation_side}).
         *
         * @param v the side
         * @return this builder
         * @throws NullPointerException if {@code v} is null
         */
        public Builder truncationSide(TruncationSide v) {
            truncationSide = java.util.Objects.requireNonNull(v, "truncationSide");
            return this;
        }

        /**
         * How many tokens consecutive windows of {@link OptTokenizer#encodePairWindows} share (Hugging
         * Face's {@code stride}, the question-answering pipeline's {@code doc_stride}); default 0.
         *
         * @param v the overlap in tokens, at least 0
         * @return this builder
         * @throws IllegalArgumentException if {@code v} is negative
         */
        public Builder stride(int v) {
            if (v < 0) {
                throw new IllegalArgumentException("stride must be >= 0, got " + v);
            }
            stride = v;
            return this;
        }

        /**
         * Rounds padded lengths up to a multiple of {@code v}.
         *
         * @param v the multiple, at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code v} is less than 1
         */
        public Builder padToMultipleOf(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("padToMultipleOf must be >= 1, got " + v);
            }
            padToMultipleOf = v;
            return this;
        }

        /**
         * Makes the options.
         *
         * @return the options
         * @throws IllegalArgumentException if the padding is {@link Padding#MAX_LENGTH} without a maximum length
         */
        public EncodeOptions build() {
            return new EncodeOptions(this);
        }
    }
}
