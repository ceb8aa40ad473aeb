package dev.panopt;

import java.util.Objects;

/**
 * How a {@link Session} is set up: the size of its KV cache and the precision of its products.
 * Threads and kernels belong to the model's {@link Backend}. Immutable; build with {@link #builder()}.
 *
 * @param maxBatch          rows its KV cache can hold
 * @param maxSequenceLength cache capacity in positions (past + new); 0 = the model's
 *                          {@code max_position_embeddings}
 * @param kvCacheType       how cached keys and values are stored: {@link DType#F32} (the default;
 *                          exact), {@link DType#F16} (half the memory and the bytes a decode step reads
 *                          at long contexts; relative error ≤ 2<sup>-11</sup> per element) or
 *                          {@link DType#Q8_0} (34/128 of the f32 bytes; the head size must be a
 *                          multiple of 32; error ≤ half a step of max|x|/127 per block of 32). Reads
 *                          ({@link Session#pastKeyValues()}) are always f32.
 * @param computeType       the products' precision: {@link DType#F32} (the default: exact f32
 *                          compute, the conformance tolerance holds) or {@link DType#BF16}, which
 *                          allows passes over two or more positions per row (prompts, scored texts)
 *                          with F32, F16 or BF16 weights to round activations and weights to bf16 and
 *                          sum the products in f32 — as PyTorch's
 *                          {@code set_float32_matmul_precision("medium")} does. Each output of a linear
 *                          then carries a relative error of at most 2<sup>-7</sup> of Σ|x·w|; on the
 *                          opt-125m-shaped fixture the prompt's logits move by 0.009 of the row's
 *                          largest logit (top-1 unchanged). It takes effect where the backend has bf16
 *                          products (the CPU at kernel level {@link Isa#AVX512_VNNI} or {@link Isa#AMX} with
 *                          AVX512_BF16, where an F16 prompt runs about 1.8× faster); elsewhere, and in
 *                          decode steps and quantized products, computing stays as with F32.
 */
public record SessionOptions(int maxBatch, int maxSequenceLength, DType kvCacheType, DType computeType) {
    /** Defaults: batch 8, full context. */
    public static final SessionOptions DEFAULT = builder().build();

    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException if maxBatch is below 1, maxSequenceLength negative, the cache
     *     type not F32, F16 or Q8_0, or the compute type not F32 or BF16
     */
    public SessionOptions {
        Objects.requireNonNull(kvCacheType, "kvCacheType");
        Objects.requireNonNull(computeType, "computeType");
        if (computeType != DType.F32 && computeType != DType.BF16) {
            throw new IllegalArgumentException("computeType must be F32 or BF16, got " + computeType);
        }
        if (kvCacheType != DType.F32 && kvCacheType != DType.F16 && kvCacheType != DType.Q8_0) {
            throw new IllegalArgumentException("kvCacheType must be F32, F16 or Q8_0, got " + kvCacheType);
        }
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
        return new Builder().maxBatch(maxBatch).maxSequenceLength(maxSequenceLength).kvCacheType(kvCacheType)
                .computeType(computeType);
    }

    /** Builder of {@link SessionOptions}; not thread-safe. */
    public static final class Builder {
        private int maxBatch = 8;
        private int maxSequenceLength = 0;
        private DType kvCacheType = DType.F32;
        private DType computeType = DType.F32;

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
         * Sets how the KV cache stores keys and values (default {@link DType#F32}).
         *
         * @param v F32, F16 or Q8_0 (checked by {@link #build()})
         * @return this builder
         */
        public Builder kvCacheType(DType v) {
            kvCacheType = Objects.requireNonNull(v, "kvCacheType");
            return this;
        }

        /**
         * Sets the products' precision (default {@link DType#F32}; see {@link SessionOptions#computeType()}).
         *
         * @param v F32, or BF16 to allow bf16 products in prompt passes (checked by {@link #build()})
         * @return this builder
         */
        public Builder computeType(DType v) {
            computeType = Objects.requireNonNull(v, "computeType");
            return this;
        }

        /**
         * Makes the options.
         *
         * @return the options
         * @throws IllegalArgumentException if maxBatch is below 1, maxSequenceLength negative, the cache
         *     type not F32, F16 or Q8_0, or the compute type not F32 or BF16
         */
        public SessionOptions build() {
            return new SessionOptions(maxBatch, maxSequenceLength, kvCacheType, computeType);
        }
    }
}
