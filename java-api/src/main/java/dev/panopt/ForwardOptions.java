package dev.panopt;

import java.util.Arrays;

/**
 * Options of one forward call, named after Hugging Face's keyword arguments. Immutable; build
 * with {@link #builder()}; {@link #DEFAULT} asks for the head's output only.
 */
public final class ForwardOptions {
    /** No extra outputs, no cache, no head mask. */
    public static final ForwardOptions DEFAULT = builder().build();

    private final boolean outputHiddenStates;
    private final boolean outputAttentions;
    private final boolean useCache;
    private final float[][] headMask;

    private ForwardOptions(Builder b) {
        this.outputHiddenStates = b.outputHiddenStates;
        this.outputAttentions = b.outputAttentions;
        this.useCache = b.useCache;
        this.headMask = b.headMask == null ? null : deepCopy(b.headMask);
    }

    /**
     * {@return HF {@code output_hidden_states}: whether to return the embeddings output plus every layer's
     * output}
     */
    public boolean outputHiddenStates() {
        return outputHiddenStates;
    }

    /** {@return HF {@code output_attentions}: whether to return every layer's post-softmax attention weights} */
    public boolean outputAttentions() {
        return outputAttentions;
    }

    /**
     * HF {@code use_cache} with {@code past_key_values} = the session's cache: attend over the
     * positions cached by earlier calls on the same session and append the new ones.
     *
     * @return whether the call uses and extends the session's cache
     */
    public boolean useCache() {
        return useCache;
    }

    /** {@return HF {@code head_mask} as [layers][heads] (a copy), or null for none} */
    public float[][] headMask() {
        return headMask == null ? null : deepCopy(headMask);
    }

    float[][] headMaskUnsafe() {
        return headMask;
    }

    /** {@return a builder with the values of {@link #DEFAULT}} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder initialised with these options} */
    public Builder toBuilder() {
        Builder b = new Builder().outputHiddenStates(outputHiddenStates).outputAttentions(outputAttentions)
                .useCache(useCache);
        b.headMask = headMask;
        return b;
    }

    private static float[][] deepCopy(float[][] m) {
        float[][] c = new float[m.length][];
        for (int i = 0; i < m.length; i++) {
            c[i] = m[i] == null ? null : m[i].clone();
        }
        return c;
    }

    @Override
    public String toString() {
        return "ForwardOptions[outputHiddenStates=" + outputHiddenStates + ", outputAttentions=" + outputAttentions
                + ", useCache=" + useCache + ", headMask=" + Arrays.deepToString(headMask) + "]";
    }

    /** Builder of {@link ForwardOptions}; not thread-safe. */
    public static final class Builder {
        private boolean outputHiddenStates;
        private boolean outputAttentions;
        private boolean useCache;
        private float[][] headMask;

        private Builder() {}

        /**
         * HF {@code output_hidden_states} (default false).
         *
         * @param v true to return num_hidden_layers + 1 hidden states
         * @return this builder
         */
        public Builder outputHiddenStates(boolean v) {
            outputHiddenStates = v;
            return this;
        }

        /**
         * HF {@code output_attentions} (default false).
         *
         * @param v true to return each layer's attention weights
         * @return this builder
         */
        public Builder outputAttentions(boolean v) {
            outputAttentions = v;
            return this;
        }

        /**
         * HF {@code use_cache} (default false); needs a session the caller owns.
         *
         * @param v true to attend over the session's cache and append the new positions to it
         * @return this builder
         */
        public Builder useCache(boolean v) {
            useCache = v;
            return this;
        }

        /**
         * HF {@code head_mask}: multipliers of the attention probabilities (default none).
         *
         * @param v [num_hidden_layers][num_attention_heads] multipliers (copied), or null for none
         * @return this builder
         */
        public Builder headMask(@Nullable float[][] v) {
            headMask = v == null ? null : deepCopy(v);
            return this;
        }

        /**
         * HF's 1-D form: the same [num_attention_heads] multipliers in every layer.
         *
         * @param perHead   [num_attention_heads] multipliers (copied into each layer), or null for no head mask
         * @param numLayers the model's num_hidden_layers
         * @return this builder
         */
        public Builder headMask(@Nullable float[] perHead, int numLayers) {
            if (perHead == null) {
                headMask = null;
                return this;
            }
            float[][] m = new float[numLayers][];
            for (int i = 0; i < numLayers; i++) {
                m[i] = perHead.clone();
            }
            headMask = m;
            return this;
        }

        /** {@return the options} */
        public ForwardOptions build() {
            return new ForwardOptions(this);
        }
    }
}
