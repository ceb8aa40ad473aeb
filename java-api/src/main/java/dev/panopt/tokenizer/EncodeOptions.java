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

    /** The defaults (special tokens, no padding, no truncation). */
    public static EncodeOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these options. */
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

    public boolean addSpecialTokens() {
        return addSpecialTokens;
    }

    public Padding padding() {
        return padding;
    }

    public PaddingSide paddingSide() {
        return paddingSide;
    }

    /** Maximum row length, 0 when unset. */
    public int maxLength() {
        return maxLength;
    }

    public boolean truncation() {
        return truncation;
    }

    /** Pad lengths up to a multiple of this, 0 when unset. */
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

        public Builder addSpecialTokens(boolean v) {
            addSpecialTokens = v;
            return this;
        }

        public Builder padding(Padding v) {
            padding = java.util.Objects.requireNonNull(v, "padding");
            return this;
        }

        public Builder paddingSide(PaddingSide v) {
            paddingSide = java.util.Objects.requireNonNull(v, "paddingSide");
            return this;
        }

        /** Maximum row length (at least 1). */
        public Builder maxLength(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("maxLength must be >= 1, got " + v);
            }
            maxLength = v;
            return this;
        }

        public Builder truncation(boolean v) {
            truncation = v;
            return this;
        }

        /** Rounds padded lengths up to a multiple of {@code v} (at least 1). */
        public Builder padToMultipleOf(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("padToMultipleOf must be >= 1, got " + v);
            }
            padToMultipleOf = v;
            return this;
        }

        public EncodeOptions build() {
            return new EncodeOptions(this);
        }
    }
}
