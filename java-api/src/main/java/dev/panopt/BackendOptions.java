package dev.panopt;

/**
 * How a {@link Backend} is set up. Immutable; build with {@link #builder()}.
 *
 * @param threads threads that run each parallel region, a calling thread included (the backend
 *                starts {@code threads - 1} workers); 0 = all online CPUs
 * @param isa     kernel instruction set; {@link Isa#AUTO} picks the best this CPU has
 */
public record BackendOptions(int threads, Isa isa) {
    /** All CPUs (or {@code -Dpanopt.threads=N}), best ISA. */
    public static final BackendOptions DEFAULT = builder().build();

    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException if threads is outside [0, 1024]
     * @throws NullPointerException if isa is null
     */
    public BackendOptions {
        if (threads < 0 || threads > 1024) {
            throw new IllegalArgumentException("threads must be in [0, 1024], got " + threads);
        }
        java.util.Objects.requireNonNull(isa, "isa");
    }

    /** {@return a builder with the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder holding these values} */
    public Builder toBuilder() {
        return new Builder().threads(threads).isa(isa);
    }

    /** Builder of {@link BackendOptions}; not thread-safe. */
    public static final class Builder {
        private int threads = defaultThreads();
        private Isa isa = Isa.AUTO;

        private Builder() {}

        /**
         * Threads that run each parallel region, the calling thread included (default 0, or
         * {@code -Dpanopt.threads=N}).
         *
         * @param v threads per parallel region, in [0, 1024] (0 = all online CPUs; checked by {@link #build()})
         * @return this builder
         */
        public Builder threads(int v) {
            threads = v;
            return this;
        }

        /**
         * Kernel instruction set (default {@link Isa#AUTO}, the best this CPU has).
         *
         * @param v the kernel instruction set
         * @return this builder
         * @throws NullPointerException if v is null
         */
        public Builder isa(Isa v) {
            isa = java.util.Objects.requireNonNull(v, "isa");
            return this;
        }

        /**
         * Makes the options.
         *
         * @return the options
         * @throws IllegalArgumentException if threads is outside [0, 1024]
         */
        public BackendOptions build() {
            return new BackendOptions(threads, isa);
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
