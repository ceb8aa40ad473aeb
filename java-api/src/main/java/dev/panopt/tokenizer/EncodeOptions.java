package dev.panopt.tokenizer;

/**
 * How {@link OptTokenizer#encodeBatch} encodes, truncates and pads. Immutable; build with
 * {@link #builder()}. Defaults: special tokens added, no padding, right padding side, no maximum
 * length, no truncation, no multiple.
 *
 * <p>Semantics follow Hugging Face's {@code __call__}: {@link Padding#LONGEST} pads to the longest row,
 * {@link Padding#MAX_LENGTH} to {@link #maxLength()} (required then); either is rounded up to
 * {@link #padToMultipleOf()} when that is set. Truncation (when enabled and a maximum length is set)
 * cuts tokens off the right end so a row has at most {@code maxLength} ids; the BOS at the front stays.
 * A row longer than {@code maxLength} without truncation is left as it is (and not padded).
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

    private static final EncodeOptions DEFAULTS = builder().build();

    private final boolean addSpecialTokens;
    private final Padding padding;
    private final PaddingSide paddingSide;
    private final int maxLength;
    private final boolean truncation;
    private final int padToMultipleOf;

    private EncodeOptions(Builder b) {
        addSpecialTokens = b.addSpecialTokens;
        padding = b.padding;
        paddingSide = b.paddingSide;
        maxLength = b.maxLength;
        truncation = b.truncation;
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

    /** {@return whether rows longer than {@link #maxLength()} are cut to it (default false)} */
    public boolean truncation() {
        return truncation;
    }

    /** {@return the multiple padded lengths are rounded up to, 0 when unset} */
    public int padToMultipleOf() {
        return padToMultipleOf;
    }

    @Override
    public String toString() {
        return "EncodeOptions[addSpecialTokens=" + addSpecialTokens + ", padding=" + padding + ", paddingSide="
                + paddingSide + ", maxLength=" + maxLength + ", truncation=" + truncation + ", padToMultipleOf="
                + padToMultipleOf + "]";
    }

    /** Mutable builder; not thread-safe. */
    public static final class Builder {
        private boolean addSpecialTokens = true;
        private Padding padding = Padding.NONE;
        private PaddingSide paddingSide = PaddingSide.RIGHT;
        private int maxLength;
        private boolean truncation;
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
         * Whether to cut rows longer than the maximum length (default false); needs {@link #maxLength(int)}
         * to have an effect.
         *
         * @param v true to truncate
         * @return this builder
         */
        public Builder truncation(boolean v) {
            truncation = v;
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
