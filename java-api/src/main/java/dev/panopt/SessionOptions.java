package dev.panopt;

/**
 * How a {@link Session} is set up. Immutable; build with {@link #builder()}.
 *
 * @param maxBatch         rows its KV cache can hold
 * @param maxSequenceLength cache capacity in positions (past + new); 0 = the model's
 *                         {@code max_position_embeddings}
 * @param threads          native worker threads, the calling thread included; 0 = all online CPUs
 * @param isa              kernel instruction set; {@link Isa#AUTO} picks the best available
 */
public record SessionOptions(int maxBatch, int maxSequenceLength, int threads, Isa isa) {
    /** Defaults: batch 8, full context, all CPUs, best ISA. */
    public static final SessionOptions DEFAULT = builder().build();

    public SessionOptions {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        }
        if (maxSequenceLength < 0) {
            throw new IllegalArgumentException("maxSequenceLength must be >= 0, got " + maxSequenceLength);
        }
        if (threads < 0 || threads > 1024) {
            throw new IllegalArgumentException("threads must be in [0, 1024], got " + threads);
        }
        if (isa == null) {
            throw new IllegalArgumentException("isa must not be null");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().maxBatch(maxBatch).maxSequenceLength(maxSequenceLength).threads(threads).isa(isa);
    }

    /** Builder of {@link SessionOptions}; not thread-safe. */
    public static final class Builder {
        private int maxBatch = 8;
        private int maxSequenceLength = 0;
        private int threads = defaultThreads();
        private Isa isa = Isa.AUTO;

        private Builder() {}

        public Builder maxBatch(int v) {
            maxBatch = v;
            return this;
        }

        public Builder maxSequenceLength(int v) {
            maxSequenceLength = v;
            return this;
        }

        public Builder threads(int v) {
            threads = v;
            return this;
        }

        public Builder isa(Isa v) {
            isa = v;
            return this;
        }

        public SessionOptions build() {
            return new SessionOptions(maxBatch, maxSequenceLength, threads, isa);
        }
    }

    /** {@code -Dpanopt.threads=N} when set, else 0 (all CPUs). */
    static int defaultThreads() {
        String p = System.getProperty("panopt.threads");
        if (p == null || p.isBlank()) {
            return 0;
        }
        try {
            return Integer.parseInt(p.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("panopt.threads must be an integer, got '" + p + "'", e);
        }
    }
}
