package dev.panopt;

import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * How {@link OptForCausalLM#generate} continues a prompt, with Hugging Face's names and semantics
 * ({@code GenerationConfig} of transformers 4.38). Immutable; build with {@link #builder()}.
 *
 * <p>Logits go through, in HF's order: repetition penalty, no-repeat n-gram ban, the minimum-length
 * ban of EOS; then greedy takes the argmax, or sampling applies temperature, top-k and top-p and
 * draws from the softmax. A row stops at an EOS or extra stop token (which is kept, as HF keeps
 * EOS), when its text contains a stop string (kept too), or after {@code maxNewTokens}.
 */
public final class GenerationConfig {
    private final int maxNewTokens;
    private final int minNewTokens;
    private final boolean doSample;
    private final double temperature;
    private final int topK;
    private final double topP;
    private final double repetitionPenalty;
    private final int noRepeatNgramSize;
    private final Set<Integer> eosTokenIds;
    private final Set<Integer> stopTokenIds;
    private final List<String> stopStrings;
    private final Long seed;

    private GenerationConfig(Builder b) {
        if (b.maxNewTokens < 1) {
            throw new IllegalArgumentException("max_new_tokens must be >= 1, got " + b.maxNewTokens);
        }
        if (b.minNewTokens < 0 || b.minNewTokens > b.maxNewTokens) {
            throw new IllegalArgumentException("min_new_tokens must be in [0, max_new_tokens], got " + b.minNewTokens);
        }
        if (!(b.temperature > 0) || !Double.isFinite(b.temperature)) {
            throw new IllegalArgumentException("temperature must be a positive number, got " + b.temperature);
        }
        if (b.topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0 (0 = off), got " + b.topK);
        }
        if (!(b.topP > 0 && b.topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + b.topP);
        }
        if (!(b.repetitionPenalty > 0) || !Double.isFinite(b.repetitionPenalty)) {
            throw new IllegalArgumentException("repetition_penalty must be a positive number, got " + b.repetitionPenalty);
        }
        if (b.noRepeatNgramSize < 0) {
            throw new IllegalArgumentException("no_repeat_ngram_size must be >= 0, got " + b.noRepeatNgramSize);
        }
        for (String s : b.stopStrings) {
            if (s == null || s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must be non-empty");
            }
        }
        this.maxNewTokens = b.maxNewTokens;
        this.minNewTokens = b.minNewTokens;
        this.doSample = b.doSample;
        this.temperature = b.temperature;
        this.topK = b.topK;
        this.topP = b.topP;
        this.repetitionPenalty = b.repetitionPenalty;
        this.noRepeatNgramSize = b.noRepeatNgramSize;
        this.eosTokenIds = b.eosTokenIds == null ? null : Set.copyOf(b.eosTokenIds);
        this.stopTokenIds = Set.copyOf(b.stopTokenIds);
        this.stopStrings = List.copyOf(b.stopStrings);
        this.seed = b.seed;
    }

    /**
     * Greedy decoding of up to {@code maxNewTokens} new tokens per row, stopping early at the model
     * config's EOS; everything else at HF's defaults.
     *
     * @param maxNewTokens the most new tokens per row (HF {@code max_new_tokens}), at least 1
     * @return the configuration
     */
    public static GenerationConfig greedy(int maxNewTokens) {
        return builder().maxNewTokens(maxNewTokens).build();
    }

    public int maxNewTokens() {
        return maxNewTokens;
    }

    public int minNewTokens() {
        return minNewTokens;
    }

    public boolean doSample() {
        return doSample;
    }

    public double temperature() {
        return temperature;
    }

    public int topK() {
        return topK;
    }

    public double topP() {
        return topP;
    }

    public double repetitionPenalty() {
        return repetitionPenalty;
    }

    public int noRepeatNgramSize() {
        return noRepeatNgramSize;
    }

    /** EOS ids; null means "the model config's eos_token_id". */
    Set<Integer> eosTokenIdsOrNull() {
        return eosTokenIds;
    }

    /** EOS ids given explicitly, if any (otherwise the model config's eos_token_id is used). */
    public Set<Integer> eosTokenIds() {
        return eosTokenIds == null ? Set.of() : eosTokenIds;
    }

    /** Extra ids that end a row like EOS. */
    public Set<Integer> stopTokenIds() {
        return stopTokenIds;
    }

    /** Strings that end a row once its generated text contains one (needs a tokenizer). */
    public List<String> stopStrings() {
        return stopStrings;
    }

    /** Seed of the sampler; empty = a fresh random seed per call. */
    public OptionalLong seed() {
        return seed == null ? OptionalLong.empty() : OptionalLong.of(seed);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxNewTokens = maxNewTokens;
        b.minNewTokens = minNewTokens;
        b.doSample = doSample;
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.repetitionPenalty = repetitionPenalty;
        b.noRepeatNgramSize = noRepeatNgramSize;
        b.eosTokenIds = eosTokenIds == null ? null : new TreeSet<>(eosTokenIds);
        b.stopTokenIds = new TreeSet<>(stopTokenIds);
        b.stopStrings = List.copyOf(stopStrings);
        b.seed = seed;
        return b;
    }

    @Override
    public String toString() {
        return "GenerationConfig[max_new_tokens=" + maxNewTokens + ", min_new_tokens=" + minNewTokens
                + ", do_sample=" + doSample + ", temperature=" + temperature + ", top_k=" + topK + ", top_p=" + topP
                + ", repetition_penalty=" + repetitionPenalty + ", no_repeat_ngram_size=" + noRepeatNgramSize
                + ", eos_token_id=" + (eosTokenIds == null ? "model" : eosTokenIds) + ", stop_token_ids=" + stopTokenIds
                + ", stop_strings=" + stopStrings + ", seed=" + seed + "]";
    }

    /** Builder with HF's defaults (greedy, 20 new tokens, no penalties); not thread-safe. */
    public static final class Builder {
        private int maxNewTokens = 20;
        private int minNewTokens = 0;
        private boolean doSample = false;
        private double temperature = 1.0;
        private int topK = 50;
        private double topP = 1.0;
        private double repetitionPenalty = 1.0;
        private int noRepeatNgramSize = 0;
        private Set<Integer> eosTokenIds;
        private Set<Integer> stopTokenIds = new TreeSet<>();
        private List<String> stopStrings = List.of();
        private Long seed;

        private Builder() {}

        public Builder maxNewTokens(int v) {
            maxNewTokens = v;
            return this;
        }

        public Builder minNewTokens(int v) {
            minNewTokens = v;
            return this;
        }

        /** HF {@code do_sample}: false = greedy. */
        public Builder doSample(boolean v) {
            doSample = v;
            return this;
        }

        public Builder temperature(double v) {
            temperature = v;
            return this;
        }

        /** HF {@code top_k} (default 50; 0 disables). */
        public Builder topK(int v) {
            topK = v;
            return this;
        }

        public Builder topP(double v) {
            topP = v;
            return this;
        }

        public Builder repetitionPenalty(double v) {
            repetitionPenalty = v;
            return this;
        }

        public Builder noRepeatNgramSize(int v) {
            noRepeatNgramSize = v;
            return this;
        }

        /**
         * HF {@code eos_token_id}: the ids that end a row; by default the model config's. No ids at all
         * ({@code eosTokenIds()}) turns EOS stopping off.
         *
         * @param ids the EOS ids
         * @return this builder
         */
        public Builder eosTokenIds(int... ids) {
            eosTokenIds = idSet(ids);
            return this;
        }

        /**
         * Extra ids that end a row like EOS (reported as {@link FinishReason#STOP_TOKEN}).
         *
         * @param ids the stop ids
         * @return this builder
         */
        public Builder stopTokenIds(int... ids) {
            stopTokenIds = idSet(ids);
            return this;
        }

        private static Set<Integer> idSet(int[] ids) {
            Set<Integer> s = new TreeSet<>();
            for (int id : ids) {
                s.add(id);
            }
            return s;
        }

        public Builder stopStrings(String... v) {
            stopStrings = List.of(v);
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public GenerationConfig build() {
            Objects.requireNonNull(stopTokenIds);
            return new GenerationConfig(this);
        }
    }
}
