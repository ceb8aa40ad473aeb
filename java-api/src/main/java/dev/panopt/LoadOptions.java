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
    private final int numLabels;
    private final long headSeed;
    private final boolean initializeMissingHead;

    private LoadOptions(Builder b) {
        this.sessionOptions = b.sessionOptions;
        this.numLabels = b.numLabels;
        this.headSeed = b.headSeed;
        this.initializeMissingHead = b.initializeMissingHead;
    }

    /** Options of the model's internal session (used by the session-less forward methods) and of {@code newSession()}. */
    public SessionOptions sessionOptions() {
        return sessionOptions;
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

    public static Builder builder() {
        return new Builder();
    }

    /** Builder of {@link LoadOptions}; not thread-safe. */
    public static final class Builder {
        private SessionOptions sessionOptions = SessionOptions.DEFAULT;
        private int numLabels;
        private long headSeed;
        private boolean initializeMissingHead;

        private Builder() {}

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
