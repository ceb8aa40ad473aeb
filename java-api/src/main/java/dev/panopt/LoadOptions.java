package dev.panopt;

import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * How a model is loaded, like the keyword arguments of HF's {@code from_pretrained}. Immutable;
 * build with {@link #builder()}.
 */
public final class LoadOptions {
    /** The CPU, default session options, the checkpoint's num_labels, no new heads, weights as stored. */
    public static final LoadOptions DEFAULT = builder().build();

    private final SessionOptions sessionOptions;
    private final Backend backend;
    private final Device device;
    private final int numLabels;
    private final long headSeed;
    private final boolean initializeMissingHead;
    private final boolean preload;
    private final boolean repack;
    private final LoadProgress progress;
    private final Quantization quantization;

    /**
     * Receives loading progress: bytes of weights bound (and read, with preload, or converted, with a
     * {@link #quantization() quantization}) so far, of the total. Each weight counts once (a tied LM
     * head shares the embedding's bytes), so the total is the size of the checkpoint tensors the
     * model uses.
     */
    @FunctionalInterface
    public interface LoadProgress {
        /**
         * Reports progress; called on the loading thread.
         *
         * @param doneBytes  bytes of weights handled so far, from 0 up to {@code totalBytes}
         * @param totalBytes bytes of all the weights the model uses
         */
        void update(long doneBytes, long totalBytes);
    }

    private LoadOptions(Builder b) {
        this.preload = b.preload;
        this.repack = b.repack;
        this.progress = b.progress;
        this.quantization = b.quantization;
        this.sessionOptions = b.sessionOptions;
        this.backend = b.backend;
        this.device = b.device;
        this.numLabels = b.numLabels;
        this.headSeed = b.headSeed;
        this.initializeMissingHead = b.initializeMissingHead;
    }

    /**
     * {@return the options of the model's internal session (used by the session-less forward methods) and of
     * {@code newSession()}}
     */
    public SessionOptions sessionOptions() {
        return sessionOptions;
    }

    /**
     * The backend the model computes on: the one set on the builder, else the shared backend of the
     * builder's device ({@link Backend#shared(Device)}; {@link Backend#shared()} by default).
     *
     * @return the backend
     * @throws UnsupportedOperationException if the device cannot be used here (see {@link Backend#shared(Device)})
     */
    public Backend backend() {
        return backend != null ? backend : Backend.shared(device);
    }

    /** {@return the device the model computes on: the backend's, if one was set, else the builder's device (CPU by default)} */
    public Device device() {
        return backend != null ? backend.device() : device;
    }

    /** {@return HF's {@code num_labels=} override for a classification head, if set} */
    public OptionalInt numLabels() {
        return numLabels > 0 ? OptionalInt.of(numLabels) : OptionalInt.empty();
    }

    /**
     * Seed of a newly initialised head, if asked for: when the checkpoint lacks the task head
     * ({@code score.weight}, {@code qa_outputs.*}), it is created as HF's {@code _init_weights}
     * does — weights N(0, init_std²), bias 0 — from a {@link java.util.SplittableRandom} with this
     * seed, so the same seed gives the same head. Without it a missing head is an error.
     *
     * @return the seed, or empty when a missing head is an error
     */
    public OptionalLong newHeadSeed() {
        return initializeMissingHead ? OptionalLong.of(headSeed) : OptionalLong.empty();
    }

    /** {@return whether the backend may keep its own copy of a weight in a faster layout (true by default)} */
    public boolean repack() {
        return repack;
    }

    /** {@return whether every weight page is read from disk while loading (instead of on first use)} */
    public boolean preload() {
        return preload;
    }

    /** {@return the progress listener (a no-op by default)} */
    public LoadProgress progress() {
        return progress;
    }

    /** {@return the formats the weights are stored in: {@link Quantization#NONE} (as the checkpoint stores them) by default} */
    public Quantization quantization() {
        return quantization;
    }

    /** {@return a builder with the defaults of {@link #DEFAULT}} */
    public static Builder builder() {
        return new Builder();
    }

    /** Builder of {@link LoadOptions}; not thread-safe. */
    public static final class Builder {
        private SessionOptions sessionOptions = SessionOptions.DEFAULT;
        private Backend backend;
        private Device device = Device.cpu();
        private boolean deviceSet;
        private int numLabels;
        private long headSeed;
        private boolean initializeMissingHead;
        private boolean preload;
        private boolean repack = true;
        private LoadProgress progress = (done, total) -> {};
        private Quantization quantization = Quantization.NONE;

        private Builder() {}

        /**
         * Stores the weights in the formats {@code v} gives them, converting them from the
         * checkpoint while loading (e.g. {@link Quantization#Q4_K_M}). The conversion runs on the
         * loading thread plus {@code threads - 1} helper threads of the {@linkplain #backend backend}'s
         * thread count, tensor by tensor, so memory grows by the converted size plus a few MB of f32
         * scratch per thread; the source pages of converted tensors are released from memory as each
         * is done. {@link #progress} then counts converted bytes. Default {@link Quantization#NONE}:
         * the checkpoint's mapped bytes are used as they are.
         *
         * @param v the policy
         * @return this builder
         * @throws NullPointerException if {@code v} is null
         */
        public Builder quantization(Quantization v) {
            quantization = Objects.requireNonNull(v, "quantization");
            return this;
        }

        /**
         * Read every weight page while loading, so the first forward does not wait on the disk and
         * {@link #progress} reflects real reading; off by default (pages are read on first use).
         *
         * @param v true to read every page while loading
         * @return this builder
         */
        public Builder preload(boolean v) {
            preload = v;
            return this;
        }

        /**
         * Whether the backend may keep its own copy of a weight in a layout its kernels read faster,
         * as llama.cpp's CPU backend repacks: the CPU keeps weights of every block format (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K: the Linears, the
         * token embedding and a tied LM head) in groups of 8 rows, which decodes about 1.3x faster
         * for Q4_0 on AVX2. The source is then released (a converted copy freed, a mapped file's
         * pages unloaded), so memory stays one copy of the weights, but a GGUF file of block-format weights is
         * read and copied while loading (opt-1.3b Q4_0: about half a second on 2 cores) instead of
         * mapped as it is. On by default; false keeps every weight where the checkpoint maps it.
         *
         * @param v false to keep the weights as stored
         * @return this builder
         */
        public Builder repack(boolean v) {
            repack = v;
            return this;
        }

        /**
         * Called as weights are bound (and read, with {@link #preload}); on the loading thread.
         *
         * @param v the listener
         * @return this builder
         * @throws NullPointerException if {@code v} is null
         */
        public Builder progress(LoadProgress v) {
            progress = Objects.requireNonNull(v, "progress");
            return this;
        }

        /**
         * The backend (kernels and worker threads) the model computes on; it must stay open while
         * the model is. Default: {@link Backend#shared()}.
         *
         * @param v the backend
         * @return this builder
         * @throws NullPointerException if {@code v} is null
         */
        public Builder backend(Backend v) {
            backend = Objects.requireNonNull(v, "backend");
            return this;
        }

        /**
         * The device the model computes on, through that device's shared backend
         * ({@link Backend#shared(Device)}), e.g. {@code Device.cuda(0)}; default the CPU. With
         * {@link #backend(Backend)} as well, the two must agree.
         *
         * @param v the device
         * @return this builder
         * @throws NullPointerException if {@code v} is null
         */
        public Builder device(Device v) {
            device = Objects.requireNonNull(v, "device");
            deviceSet = true;
            return this;
        }

        /**
         * Options of the model's internal session and of the sessions {@code newSession()} makes (default
         * {@link SessionOptions#DEFAULT}).
         *
         * @param v the session options
         * @return this builder
         * @throws NullPointerException if {@code v} is null
         */
        public Builder sessionOptions(SessionOptions v) {
            sessionOptions = Objects.requireNonNull(v, "sessionOptions");
            return this;
        }

        /**
         * Number of labels of a sequence-classification head (overrides config.json's).
         *
         * @param v the number of labels, at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code v} is less than 1
         */
        public Builder numLabels(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("numLabels must be >= 1, got " + v);
            }
            numLabels = v;
            return this;
        }

        /**
         * Create a missing task head deterministically from {@code seed} (see {@link LoadOptions#newHeadSeed()}).
         *
         * @param seed the seed of the head's random weights
         * @return this builder
         */
        public Builder initializeMissingHead(long seed) {
            initializeMissingHead = true;
            headSeed = seed;
            return this;
        }

        /**
         * Makes the options.
         *
         * @return the options
         * @throws IllegalArgumentException if a backend and a device were both set and differ
         */
        public LoadOptions build() {
            if (backend != null && deviceSet && !backend.device().equals(device)) {
                throw new IllegalArgumentException("backend(" + backend + ") and device(" + device
                        + ") name different devices; set one of them");
            }
            return new LoadOptions(this);
        }
    }
}
