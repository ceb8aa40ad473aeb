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

    /** HF {@code output_hidden_states}: embeddings output plus every layer's output. */
    public boolean outputHiddenStates() {
        return outputHiddenStates;
    }

    /** HF {@code output_attentions}: post-softmax attention weights of every layer. */
    public boolean outputAttentions() {
        return outputAttentions;
    }

    /**
     * HF {@code use_cache} with {@code past_key_values} = the session's cache: attend over the
     * positions cached by earlier calls on the same session and append the new ones.
     */
    public boolean useCache() {
        return useCache;
    }

    /** HF {@code head_mask} as [layers][heads] (a copy), or null. */
    public float[][] headMask() {
        return headMask == null ? null : deepCopy(headMask);
    }

    float[][] headMaskUnsafe() {
        return headMask;
    }

    public static Builder builder() {
        return new Builder();
    }

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

        public Builder outputHiddenStates(boolean v) {
            outputHiddenStates = v;
            return this;
        }

        public Builder outputAttentions(boolean v) {
            outputAttentions = v;
            return this;
        }

        public Builder useCache(boolean v) {
            useCache = v;
            return this;
        }

        /** [num_hidden_layers][num_attention_heads] multipliers of the attention probabilities. */
        public Builder headMask(float[][] v) {
            headMask = v == null ? null : deepCopy(v);
            return this;
        }

        /** HF's 1-D form: the same [num_attention_heads] multipliers in every layer. */
        public Builder headMask(float[] perHead, int numLayers) {
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

        public ForwardOptions build() {
            return new ForwardOptions(this);
        }
    }
}
