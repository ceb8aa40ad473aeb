package dev.panopt;

import java.util.Objects;

/**
 * The arguments of one forward call, with Hugging Face's keyword names: {@code input_ids} or
 * {@code inputs_embeds}, {@code attention_mask}, the {@code past_key_values} (a {@link Session}),
 * the labels of the model's loss, and the {@link ForwardOptions}. Every model class takes it in
 * {@code forward(ForwardRequest)}; what is not set (or set to null) is absent, as an omitted keyword
 * or {@code None} is in HF.
 *
 * <pre>{@code
 * var cached = ForwardOptions.builder().useCache(true).build();
 * lm.forward(ForwardRequest.inputIds(prompt).session(s).options(cached).build()).close();
 * try (CausalLMOutput step = lm.forward(ForwardRequest.inputIds(new int[] {next})
 *         .attentionMask(new int[] {1, 1, 1, 1}).session(s).options(cached).build())) { ... }
 * }</pre>
 *
 * <p>Labels are typed per model and a model rejects those of another: {@link Builder#labels(int[][])}
 * (token ids, {@link OptForCausalLM}), {@link Builder#labels(ClassificationLabels)}
 * ({@link OptForSequenceClassification}), {@link Builder#startPositions(int[])} and
 * {@link Builder#endPositions(int[])} ({@link OptForQuestionAnswering}); {@link OptModel} takes none.
 *
 * <p>Immutable once built, but it holds the arrays it was given, not copies: do not change them
 * until the calls that use the request have returned. Thread-safe under that rule.
 */
public final class ForwardRequest {
    private final int[][] inputIds;
    private final float[][][] inputsEmbeds;
    private final int[][] attentionMask;
    private final Session session;
    private final ForwardOptions options;
    private final int[][] tokenLabels;
    private final ClassificationLabels classificationLabels;
    private final int[] startPositions;
    private final int[] endPositions;

    private ForwardRequest(Builder b) {
        this.inputIds = b.inputIds;
        this.inputsEmbeds = b.inputsEmbeds;
        this.attentionMask = b.attentionMask;
        this.session = b.session;
        this.options = b.options;
        this.tokenLabels = b.tokenLabels;
        this.classificationLabels = b.classificationLabels;
        this.startPositions = b.startPositions;
        this.endPositions = b.endPositions;
    }

    /**
     * A request over token ids.
     *
     * @param inputIds [batch][seq] token ids in [0, vocab_size)
     * @return a builder holding them
     */
    public static Builder inputIds(int[][] inputIds) {
        Builder b = new Builder();
        b.inputIds = Objects.requireNonNull(inputIds, "inputIds");
        return b;
    }

    /**
     * A request over one row of token ids (batch 1).
     *
     * @param inputIds [seq] token ids in [0, vocab_size)
     * @return a builder holding them as {@code [1][seq]}
     */
    public static Builder inputIds(int[] inputIds) {
        return inputIds(new int[][] {Objects.requireNonNull(inputIds, "inputIds")});
    }

    /**
     * A request over embeddings instead of ids (HF {@code inputs_embeds}).
     *
     * @param inputsEmbeds [batch][seq][word_embed_proj_dim]
     * @return a builder holding them
     */
    public static Builder inputsEmbeds(float[][][] inputsEmbeds) {
        Builder b = new Builder();
        b.inputsEmbeds = Objects.requireNonNull(inputsEmbeds, "inputsEmbeds");
        return b;
    }

    int[][] inputIdsOrNull() {
        return inputIds;
    }

    float[][][] inputsEmbedsOrNull() {
        return inputsEmbeds;
    }

    int[][] attentionMaskOrNull() {
        return attentionMask;
    }

    /** The request's session, or the model's internal one (which forbids the cache). */
    Session sessionOf(OptPreTrainedModel model) {
        if (session != null) {
            return session;
        }
        OptPreTrainedModel.noCache(options);
        return model.defaultSession();
    }

    ForwardOptions options() {
        return options;
    }

    int[][] tokenLabelsOrNull() {
        return tokenLabels;
    }

    ClassificationLabels classificationLabelsOrNull() {
        return classificationLabels;
    }

    int[] startPositionsOrNull() {
        return startPositions;
    }

    int[] endPositionsOrNull() {
        return endPositions;
    }

    /** Rejects labels that {@code hfClass} does not take; the flags say which kind it takes. */
    void checkLabels(String hfClass, boolean tokens, boolean classification, boolean spans) {
        String wrong = !tokens && tokenLabels != null ? "labels(int[][])"
                : !classification && classificationLabels != null ? "labels(ClassificationLabels)"
                : !spans && (startPositions != null || endPositions != null) ? "startPositions/endPositions" : null;
        if (wrong != null) {
            throw new IllegalArgumentException(hfClass + " does not take " + wrong + (tokens ? "; its labels are token ids"
                    : classification ? "; its labels are ClassificationLabels"
                    : spans ? "; its labels are startPositions and endPositions" : "; it has no loss"));
        }
    }

    @Override
    public String toString() {
        return "ForwardRequest[" + (inputIds != null ? "inputIds " + inputIds.length + " rows"
                : "inputsEmbeds " + inputsEmbeds.length + " rows") + (attentionMask != null ? ", attentionMask" : "")
                + (session != null ? ", session" : "") + (tokenLabels != null || classificationLabels != null
                ? ", labels" : "") + (startPositions != null ? ", startPositions" : "")
                + (endPositions != null ? ", endPositions" : "") + ", " + options + "]";
    }

    /** Builder of a {@link ForwardRequest}; not thread-safe. */
    public static final class Builder {
        private int[][] inputIds;
        private float[][][] inputsEmbeds;
        private int[][] attentionMask;
        private Session session;
        private ForwardOptions options = ForwardOptions.DEFAULT;
        private int[][] tokenLabels;
        private ClassificationLabels classificationLabels;
        private int[] startPositions;
        private int[] endPositions;

        private Builder() {}

        /**
         * HF {@code attention_mask}: [batch][past + seq] of 0/1; without it every position is attended.
         *
         * @param mask the mask, or null for all ones
         * @return this builder
         */
        public Builder attentionMask(@Nullable int[][] mask) {
            attentionMask = mask;
            return this;
        }

        /**
         * The attention mask of a one-row request.
         *
         * @param mask [past + seq] of 0/1, or null for all ones
         * @return this builder
         */
        public Builder attentionMask(@Nullable int[] mask) {
            attentionMask = mask == null ? null : new int[][] {mask};
            return this;
        }

        /**
         * HF {@code past_key_values}: the session to run on; with {@link ForwardOptions#useCache()} the
         * call attends over its cache and appends to it. Without one the model's internal session
         * runs the call, without the cache.
         *
         * @param s a session of the model the request is given to, or null for the internal one
         * @return this builder
         */
        public Builder session(@Nullable Session s) {
            session = s;
            return this;
        }

        /**
         * Extra outputs, cache use and head mask (default {@link ForwardOptions#DEFAULT}).
         *
         * @param o the options (null = the default)
         * @return this builder
         */
        public Builder options(@Nullable ForwardOptions o) {
            options = o == null ? ForwardOptions.DEFAULT : o;
            return this;
        }

        /**
         * {@link OptForCausalLM}'s labels: [batch][seq] target ids or -100 (ignored); the loss is the
         * mean cross-entropy of logits[:, :-1] against labels[:, 1:], as HF computes it.
         *
         * @param labels the token labels, or null for none
         * @return this builder
         */
        public Builder labels(@Nullable int[][] labels) {
            tokenLabels = labels;
            return this;
        }

        /**
         * {@link OptForSequenceClassification}'s labels (the loss follows HF's problem type).
         *
         * @param labels the classification labels, or null for none
         * @return this builder
         */
        public Builder labels(@Nullable ClassificationLabels labels) {
            classificationLabels = labels;
            return this;
        }

        /**
         * {@link OptForQuestionAnswering}'s HF {@code start_positions} [batch] (with {@link #endPositions}).
         *
         * @param positions one per row, or null for none
         * @return this builder
         */
        public Builder startPositions(@Nullable int[] positions) {
            startPositions = positions;
            return this;
        }

        /**
         * {@link OptForQuestionAnswering}'s HF {@code end_positions} [batch] (with {@link #startPositions}).
         *
         * @param positions one per row, or null for none
         * @return this builder
         */
        public Builder endPositions(@Nullable int[] positions) {
            endPositions = positions;
            return this;
        }

        /** {@return the request} */
        public ForwardRequest build() {
            return new ForwardRequest(this);
        }
    }
}
