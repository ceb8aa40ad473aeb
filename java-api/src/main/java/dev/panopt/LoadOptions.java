package dev.panopt;

import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * How a model is loaded, like the keyword arguments of HF's {@code from_pretrained}. Immutable;
 * build with {@link #builder()}.
 */
public final class LoadOptions {
    /** Default session options, the checkpoint's num_labels, no new heads. */
    public static final LoadOptions DEFAULT = builder().build();

    private final SessionOptions sessionOptions;
    private final Backend backend;
    private final int numLabels;
    private final long headSeed;
    private final boolean initializeMissingHead;
    private final boolean preload;
    private final LoadProgress progress;

    /**
     * Receives loading progress: bytes of weights bound (and read, with preload) so far, of the total.
     * Each weight counts once (a tied LM head shares the embedding's bytes), so the total is the
     * size of the checkpoint tensors the model uses.
     */
    @FunctionalInterface
    public interface LoadProgress {
        void update(long doneBytes, long totalBytes);
    }

    private LoadOptions(Builder b) {
        this.preload = b.preload;
        this.progress = b.progress;
        this.sessionOptions = b.sessionOptions;
        this.backend = b.backend;
        this.numLabels = b.numLabels;
        this.headSeed = b.headSeed;
        this.initializeMissingHead = b.initializeMissingHead;
    }

    /** Options of the model's internal session (used by the session-less forward methods) and of {@code newSession()}. */
    public SessionOptions sessionOptions() {
        return sessionOptions;
    }

    /** The backend the model computes on: the one set on the builder, else {@link Backend#shared()}. */
    public Backend backend() {
        return backend != null ? backend : Backend.shared();
    }

    /** HF's {@code num_labels=} override for a classification head, if set. */
    public OptionalInt numLabels() {
        return numLabels > 0 ? OptionalInt.of(numLabels) : OptionalInt.empty();
    }

    /**
     * Seed of a newly initialised head, if asked for: when the checkpoint lacks the task head
     * ({@code score.weight}, {@code qa_outputs.*}), it is created as HF's {@code _init_weights}
     * does — weights N(0, init_std²), bias 0 — from a {@link java.util.SplittableRandom} with this
     * seed, so the same seed gives the same head. Without it a missing head is an error.
     */
    public OptionalLong newHeadSeed() {
        return initializeMissingHead ? OptionalLong.of(headSeed) : OptionalLong.empty();
    }

    /** Whether every weight page is read from disk while loading (instead of on first use). */
    public boolean preload() {
        return preload;
    }

    /** The progress listener (a no-op by default). */
    public LoadProgress progress() {
        return progress;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder of {@link LoadOptions}; not thread-safe. */
    public static final class Builder {
        private SessionOptions sessionOptions = SessionOptions.DEFAULT;
        private Backend backend;
        private int numLabels;
        private long headSeed;
        private boolean initializeMissingHead;
        private boolean preload;
        private LoadProgress progress = (done, total) -> {};

        private Builder() {}

        /**
         * Read every weight page while loading, so the first forward does not wait on the disk and
         * {@link #progress} reflects real reading; off by default (pages are read on first use).
         */
        public Builder preload(boolean v) {
            preload = v;
            return this;
        }

        /** Called as weights are bound (and read, with {@link #preload}); on the loading thread. */
        public Builder progress(LoadProgress v) {
            progress = Objects.requireNonNull(v, "progress");
            return this;
        }

        /**
         * The backend (kernels and worker threads) the model computes on; it must stay open while
         * the model is. Default: {@link Backend#shared()}.
         */
        public Builder backend(Backend v) {
            backend = Objects.requireNonNull(v, "backend");
            return this;
        }

        public Builder sessionOptions(SessionOptions v) {
            sessionOptions = Objects.requireNonNull(v, "sessionOptions");
            return this;
        }

        /** Number of labels of a sequence-classification head (overrides config.json's). */
        public Builder numLabels(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("numLabels must be >= 1, got " + v);
            }
            numLabels = v;
            return this;
        }

        /** Create a missing task head deterministically from {@code seed} (see {@link #newHeadSeed()}). */
        public Builder initializeMissingHead(long seed) {
            initializeMissingHead = true;
            headSeed = seed;
            return this;
        }

        public LoadOptions build() {
            return new LoadOptions(this);
        }
    }
}
