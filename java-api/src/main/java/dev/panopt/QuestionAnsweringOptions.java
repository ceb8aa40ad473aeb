package dev.panopt;

import java.util.Objects;
import java.util.OptionalInt;

/**
 * How {@link OptForQuestionAnswering#answer(dev.panopt.tokenizer.OptTokenizer, String, String,
 * QuestionAnsweringOptions)} reads a context, with the names and defaults of transformers'
 * question-answering pipeline: {@code max_seq_len} (default 384, or the model's
 * {@code max_position_embeddings} when smaller), {@code doc_stride} (default
 * {@code min(max_seq_len / 2, 128)}), {@code max_question_len} (64) and {@code max_answer_len} (15),
 * plus how spans of different windows compare ({@link SpanScore}). Immutable and thread-safe; build
 * with {@link #builder()}.
 */
public final class QuestionAnsweringOptions {
    /** How the best span is chosen across windows (within one window both choose the same span). */
    public enum SpanScore {
        /**
         * p(start) · p(end), each a softmax over the context tokens of the span's own window: the
         * score transformers' pipeline gives and compares across windows.
         */
        PROBABILITY,
        /**
         * start logit + end logit: comparable across windows, as transformers' {@code run_qa}
         * example's post-processing ranks spans.
         */
        LOGIT_SUM
    }

    private static final QuestionAnsweringOptions DEFAULTS = builder().build();

    private final int maxSeqLen;
    private final int docStride;
    private final int maxQuestionLen;
    private final int maxAnswerLen;
    private final SpanScore spanScore;

    private QuestionAnsweringOptions(Builder b) {
        maxSeqLen = b.maxSeqLen;
        docStride = b.docStride;
        maxQuestionLen = b.maxQuestionLen;
        maxAnswerLen = b.maxAnswerLen;
        spanScore = b.spanScore;
    }

    /** {@return the defaults (the pipeline's)} */
    public static QuestionAnsweringOptions defaults() {
        return DEFAULTS;
    }

    /** {@return a builder starting from the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder starting from these options} */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxSeqLen = maxSeqLen;
        b.docStride = docStride;
        b.maxQuestionLen = maxQuestionLen;
        b.maxAnswerLen = maxAnswerLen;
        b.spanScore = spanScore;
        return b;
    }

    /** {@return the tokens of one window, special tokens included; empty for the default (384 or the model's length)} */
    public OptionalInt maxSeqLen() {
        return maxSeqLen == 0 ? OptionalInt.empty() : OptionalInt.of(maxSeqLen);
    }

    /** {@return the context tokens consecutive windows share; empty for the default {@code min(maxSeqLen / 2, 128)}} */
    public OptionalInt docStride() {
        return docStride < 0 ? OptionalInt.empty() : OptionalInt.of(docStride);
    }

    /** {@return the question's tokens kept (its first ones; default 64)} */
    public int maxQuestionLen() {
        return maxQuestionLen;
    }

    /** {@return the longest answer in tokens (default 15)} */
    public int maxAnswerLen() {
        return maxAnswerLen;
    }

    /** {@return how spans are ranked (default {@link SpanScore#PROBABILITY})} */
    public SpanScore spanScore() {
        return spanScore;
    }

    @Override
    public String toString() {
        return "QuestionAnsweringOptions[maxSeqLen=" + (maxSeqLen == 0 ? "default" : maxSeqLen) + ", docStride="
                + (docStride < 0 ? "default" : docStride) + ", maxQuestionLen=" + maxQuestionLen + ", maxAnswerLen="
                + maxAnswerLen + ", spanScore=" + spanScore + "]";
    }

    /** Mutable builder; not thread-safe. */
    public static final class Builder {
        private int maxSeqLen;
        private int docStride = -1;
        private int maxQuestionLen = 64;
        private int maxAnswerLen = 15;
        private SpanScore spanScore = SpanScore.PROBABILITY;

        private Builder() {}

        /**
         * Tokens per window ({@code max_seq_len}): BOS, question, BOS and a part of the context. It must
         * not exceed the model's {@code max_position_embeddings}.
         *
         * @param v the window length, at least 3
         * @return this builder
         * @throws IllegalArgumentException if {@code v} is less than 3
         */
        public Builder maxSeqLen(int v) {
            if (v < 3) {
                throw new IllegalArgumentException("maxSeqLen must be >= 3, got " + v);
            }
            maxSeqLen = v;
            return this;
        }

        /**
         * Context tokens consecutive windows share ({@code doc_stride}); it must be less than the
         * context tokens a window holds when the context needs several windows.
         *
         * @param v the overlap, at least 0
         * @return this builder
         * @throws IllegalArgumentException if {@code v} is negative
         */
        public Builder docStride(int v) {
            if (v < 0) {
                throw new IllegalArgumentException("docStride must be >= 0, got " + v);
            }
            docStride = v;
            return this;
        }

        /**
         * The question's tokens kept: longer questions lose their end ({@code max_question_len}, as
         * transformers' {@code squad_convert_examples_to_features} applies it).
         *
         * @param v at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code v} is less than 1
         */
        public Builder maxQuestionLen(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("maxQuestionLen must be >= 1, got " + v);
            }
            maxQuestionLen = v;
            return this;
        }

        /**
         * The longest answer in tokens ({@code max_answer_len}).
         *
         * @param v at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code v} is less than 1
         */
        public Builder maxAnswerLen(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("maxAnswerLen must be >= 1, got " + v);
            }
            maxAnswerLen = v;
            return this;
        }

        /**
         * How spans are ranked across windows.
         *
         * @param v the score
         * @return this builder
         * @throws NullPointerException if {@code v} is null
         */
        public Builder spanScore(SpanScore v) {
            spanScore = Objects.requireNonNull(v, "spanScore");
            return this;
        }

        /** {@return the options} */
        public QuestionAnsweringOptions build() {
            return new QuestionAnsweringOptions(this);
        }
    }
}
