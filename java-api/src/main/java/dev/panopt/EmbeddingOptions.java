package dev.panopt;

import dev.panopt.tokenizer.PaddingSide;
import java.util.Objects;

/**
 * How {@link OptModel#encode} turns texts into one vector each, with sentence-transformers' names:
 * the {@link Pooling} mode over the last hidden state, {@code normalize_embeddings}, and the
 * batching. Immutable and thread-safe; build with {@link #builder()}.
 *
 * @param pooling             how a row's token vectors become one (default {@link Pooling#MEAN})
 * @param normalizeEmbeddings whether each vector is scaled to unit L2 norm (default false), so a dot
 *                            product is the cosine similarity
 * @param batchSize           rows per forward call, at least 1 (default 8)
 * @param paddingSide         where the text form pads shorter rows (default {@link PaddingSide#RIGHT});
 *                            it does not change a result beyond float32 rounding
 * @param addSpecialTokens    whether the text form encodes with the BOS in front (default true, as
 *                            OPT's tokenizer does); the BOS then counts in the mean like any token
 */
public record EmbeddingOptions(Pooling pooling, boolean normalizeEmbeddings, int batchSize, PaddingSide paddingSide,
                               boolean addSpecialTokens) {
    /** Mean pooling, not normalized, batch 8, right padding, BOS added. */
    public static final EmbeddingOptions DEFAULT = builder().build();

    /** How the token vectors of a row are pooled into one, over the positions its attention mask keeps. */
    public enum Pooling {
        /** The average of the vectors of every attended position (sentence-transformers' {@code mean}). */
        MEAN,
        /**
         * The vector of the last attended position (sentence-transformers' {@code lasttoken}): in a
         * causal model the only one that has seen the whole text.
         */
        LAST_TOKEN
    }

    /**
     * Checks the values.
     *
     * @param pooling             the pooling mode
     * @param normalizeEmbeddings whether to L2-normalize
     * @param batchSize           rows per forward call, at least 1
     * @param paddingSide         where padding goes
     * @param addSpecialTokens    whether texts get the BOS
     * @throws IllegalArgumentException if {@code batchSize} is below 1
     */
    public EmbeddingOptions {
        Objects.requireNonNull(pooling, "pooling");
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
        return new Builder().pooling(pooling).normalizeEmbeddings(normalizeEmbeddings).batchSize(batchSize)
                .paddingSide(paddingSide).addSpecialTokens(addSpecialTokens);
    }

    /** Builder of {@link EmbeddingOptions}; not thread-safe. */
    public static final class Builder {
        private Pooling pooling = Pooling.MEAN;
        private boolean normalizeEmbeddings;
        private int batchSize = 8;
        private PaddingSide paddingSide = PaddingSide.RIGHT;
        private boolean addSpecialTokens = true;

        private Builder() {}

        /**
         * The pooling mode (default {@link Pooling#MEAN}).
         *
         * @param v the mode
         * @return this builder
         */
        public Builder pooling(Pooling v) {
            pooling = Objects.requireNonNull(v, "pooling");
            return this;
        }

        /**
         * Whether each embedding is scaled to unit L2 norm (default false).
         *
         * @param v true to normalize
         * @return this builder
         */
        public Builder normalizeEmbeddings(boolean v) {
            normalizeEmbeddings = v;
            return this;
        }

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
         * Where the text form pads shorter rows (default {@link PaddingSide#RIGHT}).
         *
         * @param v the side
         * @return this builder
         */
        public Builder paddingSide(PaddingSide v) {
            paddingSide = Objects.requireNonNull(v, "paddingSide");
            return this;
        }

        /**
         * Whether the text form puts the BOS in front (default true).
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
        public EmbeddingOptions build() {
            return new EmbeddingOptions(pooling, normalizeEmbeddings, batchSize, paddingSide, addSpecialTokens);
        }
    }
}
