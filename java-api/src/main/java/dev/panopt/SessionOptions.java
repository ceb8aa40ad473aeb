package dev.panopt;

/**
 * How a {@link Session} is set up: the size of its KV cache. Threads and kernels belong to the
 * model's {@link Backend}. Immutable; build with {@link #builder()}.
 *
 * @param maxBatch          rows its KV cache can hold
 * @param maxSequenceLength cache capacity in positions (past + new); 0 = the model's
 *                          {@code max_position_embeddings}
 */
public record SessionOptions(int maxBatch, int maxSequenceLength) {
    /** Defaults: batch 8, full context. */
    public static final SessionOptions DEFAULT = builder().build();

    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException if maxBatch is below 1 or maxSequenceLength negative
     */
    public SessionOptions {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        }
        if (maxSequenceLength < 0) {
            throw new IllegalArgumentException("maxSequenceLength must be >= 0, got " + maxSequenceLength);
        }
    }

    /** {@return a builder with the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder holding these values} */
    public Builder toBuilder() {
        return new Builder().maxBatch(maxBatch).maxSequenceLength(maxSequenceLength);
    }

    /** Builder of {@link SessionOptions}; not thread-safe. */
    public static final class Builder {
        private int maxBatch = 8;
        private int maxSequenceLength = 0;

        private Builder() {}

        /**
         * Rows the KV cache holds (default 8).
         *
         * @param v the number of rows, at least 1 (checked by {@link #build()})
         * @return this builder
         */
        public Builder maxBatch(int v) {
            maxBatch = v;
            return this;
        }

        /**
         * Cache capacity in positions, past plus new (default 0: the model's max_position_embeddings).
         *
         * @param v the capacity, &gt;= 0 (checked by {@link #build()}); 0 = max_position_embeddings
         * @return this builder
         */
        public Builder maxSequenceLength(int v) {
            maxSequenceLength = v;
            return this;
        }

        /**
         * Makes the options.
         *
         * @return the options
         * @throws IllegalArgumentException if maxBatch is below 1 or maxSequenceLength negative
         */
        public SessionOptions build() {
            return new SessionOptions(maxBatch, maxSequenceLength);
        }
    }
}
