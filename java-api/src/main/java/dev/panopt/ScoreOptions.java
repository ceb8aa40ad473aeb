package dev.panopt;

import dev.panopt.tokenizer.PaddingSide;
import java.util.Objects;

/**
 * How {@link OptForCausalLM#score} and {@link OptForCausalLM#scoreContinuations} batch and encode.
 * Immutable and thread-safe; build with {@link #builder()}.
 *
 * <p>Rows are sorted by length and run {@code batchSize} at a time, padded to the longest row of
 * their batch on {@code paddingSide}; positions follow the attention mask as in HF, so neither the
 * batch size nor the padding side changes a result beyond float32 rounding — they only trade memory
 * (the logits of one batch take {@code batchSize × longest row × vocab_size × 4} bytes) for speed.
 *
 * @param batchSize        rows per forward call, at least 1 (default 8)
 * @param paddingSide      where the padding of shorter rows goes (default {@link PaddingSide#RIGHT},
 *                         OPT's tokenizer default)
 * @param addSpecialTokens whether texts are encoded with the BOS {@code </s>} in front, as OPT's
 *                         tokenizer does by default and OPT was trained (default true); only the
 *                         text forms use it. Without it the first token of a text has no
 *                         log-probability, and a context is encoded as lm-evaluation-harness does
 *                         for OPT by default ({@code add_bos_token=False}).
 */
public record ScoreOptions(int batchSize, PaddingSide paddingSide, boolean addSpecialTokens) {
    /** Batch 8, right padding, BOS added. */
    public static final ScoreOptions DEFAULT = builder().build();

    /**
     * Checks the values.
     *
     * @param batchSize        rows per forward call, at least 1
     * @param paddingSide      where padding goes
     * @param addSpecialTokens whether texts get the BOS
     * @throws IllegalArgumentException if {@code batchSize} is below 1
     */
    public ScoreOptions {
        Objects.requireNonNull(paddingSide, "paddingSide");
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        }
    }

    /** {@return a builder with the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder holding these values} */
    public Builder toBuilder() {
        return new Builder().batchSize(batchSize).paddingSide(paddingSide).addSpecialTokens(addSpecialTokens);
    }

    /** Builder of {@link ScoreOptions}; not thread-safe. */
    public static final class Builder {
        private int batchSize = 8;
        private PaddingSide paddingSide = PaddingSide.RIGHT;
        private boolean addSpecialTokens = true;

        private Builder() {}

        /**
         * Rows per forward call (default 8).
         *
         * @param v at least 1 (checked by {@link #build()})
         * @return this builder
         */
        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        /**
         * Where the padding of shorter rows goes (default {@link PaddingSide#RIGHT}).
         *
         * @param v the side
         * @return this builder
         */
        public Builder paddingSide(PaddingSide v) {
            paddingSide = Objects.requireNonNull(v, "paddingSide");
            return this;
        }

        /**
         * Whether texts are encoded with the BOS in front (default true, HF's {@code add_special_tokens}).
         *
         * @param v true to prepend the BOS
         * @return this builder
         */
        public Builder addSpecialTokens(boolean v) {
            addSpecialTokens = v;
            return this;
        }

        /**
         * Makes the options.
         *
         * @return the options
         * @throws IllegalArgumentException if the batch size is below 1
         */
        public ScoreOptions build() {
            return new ScoreOptions(batchSize, paddingSide, addSpecialTokens);
        }
    }
}
