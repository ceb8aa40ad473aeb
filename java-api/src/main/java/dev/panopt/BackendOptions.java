package dev.panopt;

/**
 * How a {@link Backend} is set up. Immutable; build with {@link #builder()}.
 *
 * @param threads threads that run each parallel region of the CPU backend, a calling thread included
 *                (the backend starts {@code threads - 1} workers); 0 = all online CPUs; always 0 for
 *                a CUDA device
 * @param isa     CPU kernel instruction set; {@link Isa#AUTO} picks the best this CPU has; always
 *                {@link Isa#AUTO} for a CUDA device
 * @param device  where the backend computes: {@link Device#cpu()} (the default) or a CUDA device
 */
public record BackendOptions(int threads, Isa isa, Device device) {
    /** All CPUs (or {@code -Dpanopt.threads=N}), best ISA. */
    public static final BackendOptions DEFAULT = builder().build();

    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException if threads is outside [0, 1024], or a CUDA device is given
     *     threads other than 0 or an ISA other than {@link Isa#AUTO} (those are the CPU's)
     * @throws NullPointerException if isa or device is null
     */
    public BackendOptions {
        java.util.Objects.requireNonNull(isa, "isa");
        java.util.Objects.requireNonNull(device, "device");
        if (threads < 0 || threads > 1024) {
            throw new IllegalArgumentException("threads must be in [0, 1024], got " + threads);
        }
        if (device.kind() == Device.Kind.CUDA && (threads != 0 || isa != Isa.AUTO)) {
            throw new IllegalArgumentException("threads and isa set the CPU backend; " + device
                    + " takes neither (got threads " + threads + ", isa " + isa + ")");
        }
    }

    /**
     * Options of a CPU backend.
     *
     * @param threads as {@link #threads()}
     * @param isa     as {@link #isa()}
     * @throws IllegalArgumentException if threads is outside [0, 1024]
     * @throws NullPointerException if isa is null
     */
    public BackendOptions(int threads, Isa isa) {
        this(threads, isa, Device.cpu());
    }

    /** {@return a builder with the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder holding these values} */
    public Builder toBuilder() {
        Builder b = new Builder().isa(isa).device(device);
        if (device.kind() == Device.Kind.CPU) {
            b.threads(threads);
        }
        return b;
    }

    /** Builder of {@link BackendOptions}; not thread-safe. */
    public static final class Builder {
        private Integer threads; // null: the default, -Dpanopt.threads on the CPU
        private Isa isa = Isa.AUTO;
        private Device device = Device.cpu();

        private Builder() {}

        /**
         * Threads that run each parallel region of the CPU backend, the calling thread included
         * (default 0, or {@code -Dpanopt.threads=N}); not for a CUDA device.
         *
         * @param v threads per parallel region, in [0, 1024] (0 = all online CPUs; checked by {@link #build()})
         * @return this builder
         */
        public Builder threads(int v) {
            threads = v;
            return this;
        }

        /**
         * Kernel instruction set of the CPU backend (default {@link Isa#AUTO}, the best this CPU has).
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
         * Where the backend computes (default {@link Device#cpu()}).
         *
         * @param v the device, e.g. {@code Device.cuda(0)}
         * @return this builder
         * @throws NullPointerException if v is null
         */
        public Builder device(Device v) {
            device = java.util.Objects.requireNonNull(v, "device");
            return this;
        }

        /**
         * Makes the options.
         *
         * @return the options
         * @throws IllegalArgumentException if threads is outside [0, 1024], or threads or an ISA
         *     other than {@link Isa#AUTO} were set for a CUDA device
         */
        public BackendOptions build() {
            boolean cpu = device.kind() == Device.Kind.CPU;
            return new BackendOptions(threads != null ? threads : cpu ? defaultThreads() : 0, isa, device);
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
