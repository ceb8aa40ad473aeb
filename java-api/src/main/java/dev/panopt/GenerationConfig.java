package dev.panopt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * How {@link OptForCausalLM#generate} continues a prompt, with Hugging Face's names and semantics
 * ({@code GenerationConfig} of transformers 4.38; {@code min_p} as HF added it in 4.39; presence and
 * frequency penalties as OpenAI and llama.cpp define them). Immutable (the
 * {@link LogitsProcessor}s it holds are the caller's objects); build with {@link #builder()}.
 *
 * <p>Decoding: greedy search (the default), sampling ({@link #doSample()}), or beam search
 * ({@link #numBeams()} &gt; 1). Each step's scores go through, in HF's order: repetition penalty,
 * presence and frequency penalties, no-repeat n-gram ban, bad-word bans, the minimum-length ban of
 * EOS, forced EOS at the last step, suppressed tokens, then the user's {@link #logitsProcessors()}.
 * Greedy search takes the argmax of the processed logits; sampling then applies the warpers
 * (temperature, top-k, top-p, min-p, typical-p, epsilon cutoff) and draws from the softmax; beam
 * search processes the log-softmax of the logits and keeps the best {@code numBeams} continuations
 * (HF's {@code BeamSearchScorer}). A row stops at an EOS or extra stop token (which is kept, as HF
 * keeps EOS), when its text contains a stop string (kept too), or after {@code maxNewTokens}.
 */
public final class GenerationConfig {
    /**
     * HF's {@code early_stopping}: when beam search stops for a prompt once it holds
     * {@link #numBeams()} finished hypotheses.
     */
    public enum EarlyStopping {
        /**
         * HF {@code False} (the default): stop when the best running beam, scored at the current length,
         * cannot beat the worst finished hypothesis (a heuristic when {@code lengthPenalty > 0}).
         */
        FALSE,
        /** HF {@code True}: stop as soon as {@code numBeams} hypotheses are finished. */
        TRUE,
        /**
         * HF {@code "never"}: stop only when no running beam can beat the worst finished hypothesis at
         * any length up to {@code maxNewTokens} (canonical beam search).
         */
        NEVER
    }

    private final int maxNewTokens;
    private final int minNewTokens;
    private final boolean doSample;
    private final double temperature;
    private final int topK;
    private final double topP;
    private final double minP;
    private final double typicalP;
    private final double epsilonCutoff;
    private final double repetitionPenalty;
    private final double presencePenalty;
    private final double frequencyPenalty;
    private final int noRepeatNgramSize;
    private final List<int[]> badWordsIds;
    private final int[] suppressTokens;
    private final Set<Integer> forcedEosTokenIds;
    private final List<LogitsProcessor> logitsProcessors;
    private final int numBeams;
    private final double lengthPenalty;
    private final EarlyStopping earlyStopping;
    private final int numReturnSequences;
    private final boolean logprobs;
    private final int topLogprobs;
    private final boolean outputScores;
    private final boolean outputLogits;
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
        if (!(b.minP >= 0 && b.minP <= 1)) {
            throw new IllegalArgumentException("min_p must be in [0, 1], got " + b.minP);
        }
        if (!(b.typicalP > 0 && b.typicalP <= 1)) {
            throw new IllegalArgumentException("typical_p must be in (0, 1], got " + b.typicalP);
        }
        if (!(b.epsilonCutoff >= 0 && b.epsilonCutoff < 1)) {
            throw new IllegalArgumentException("epsilon_cutoff must be in [0, 1), got " + b.epsilonCutoff);
        }
        if (!(b.repetitionPenalty > 0) || !Double.isFinite(b.repetitionPenalty)) {
            throw new IllegalArgumentException("repetition_penalty must be a positive number, got " + b.repetitionPenalty);
        }
        if (!Double.isFinite(b.presencePenalty) || !Double.isFinite(b.frequencyPenalty)) {
            throw new IllegalArgumentException("presence_penalty and frequency_penalty must be finite, got "
                    + b.presencePenalty + " and " + b.frequencyPenalty);
        }
        if (b.noRepeatNgramSize < 0) {
            throw new IllegalArgumentException("no_repeat_ngram_size must be >= 0, got " + b.noRepeatNgramSize);
        }
        for (int i = 0; i < b.badWordsIds.size(); i++) {
            int[] w = b.badWordsIds.get(i);
            if (w.length == 0) {
                throw new IllegalArgumentException("bad_words_ids[" + i + "] is empty");
            }
            checkIds("bad_words_ids[" + i + "]", w);
        }
        checkIds("suppress_tokens", b.suppressTokens);
        checkIds("forced_eos_token_id", b.forcedEosTokenIds.stream().mapToInt(Integer::intValue).toArray());
        if (b.numBeams < 1) {
            throw new IllegalArgumentException("num_beams must be >= 1, got " + b.numBeams);
        }
        if (!Double.isFinite(b.lengthPenalty)) {
            throw new IllegalArgumentException("length_penalty must be finite, got " + b.lengthPenalty);
        }
        if (b.numReturnSequences < 1) {
            throw new IllegalArgumentException("num_return_sequences must be >= 1, got " + b.numReturnSequences);
        }
        if (b.numBeams > 1) {
            if (b.doSample) {
                throw new IllegalArgumentException("beam sampling (do_sample with num_beams > 1) is not supported: "
                        + "use beam search (do_sample false) or sampling with num_beams 1");
            }
            if (b.numReturnSequences > b.numBeams) {
                throw new IllegalArgumentException("num_return_sequences (" + b.numReturnSequences
                        + ") must be <= num_beams (" + b.numBeams + ")");
            }
            if (!b.stopStrings.isEmpty()) {
                throw new IllegalArgumentException("stop strings are not supported with beam search (num_beams > 1)");
            }
        } else if (!b.doSample && b.numReturnSequences != 1) {
            // HF raises the same: every returned sequence of greedy search would be the same.
            throw new IllegalArgumentException("num_return_sequences has to be 1 when doing greedy search, but is "
                    + b.numReturnSequences + " (use do_sample or num_beams > 1)");
        }
        if (b.topLogprobs < 0) {
            throw new IllegalArgumentException("top_logprobs must be >= 0, got " + b.topLogprobs);
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
        this.minP = b.minP;
        this.typicalP = b.typicalP;
        this.epsilonCutoff = b.epsilonCutoff;
        this.repetitionPenalty = b.repetitionPenalty;
        this.presencePenalty = b.presencePenalty;
        this.frequencyPenalty = b.frequencyPenalty;
        this.noRepeatNgramSize = b.noRepeatNgramSize;
        this.badWordsIds = b.badWordsIds.stream().map(int[]::clone).toList();
        this.suppressTokens = b.suppressTokens.clone();
        this.forcedEosTokenIds = Set.copyOf(b.forcedEosTokenIds);
        this.logitsProcessors = List.copyOf(b.logitsProcessors);
        this.numBeams = b.numBeams;
        this.lengthPenalty = b.lengthPenalty;
        this.earlyStopping = b.earlyStopping;
        this.numReturnSequences = b.numReturnSequences;
        this.logprobs = b.logprobs;
        this.topLogprobs = b.topLogprobs;
        this.outputScores = b.outputScores;
        this.outputLogits = b.outputLogits;
        this.eosTokenIds = b.eosTokenIds == null ? null : Set.copyOf(b.eosTokenIds);
        this.stopTokenIds = Set.copyOf(b.stopTokenIds);
        this.stopStrings = List.copyOf(b.stopStrings);
        this.seed = b.seed;
    }

    private static void checkIds(String what, int[] ids) {
        for (int id : ids) {
            if (id < 0) {
                throw new IllegalArgumentException(what + " holds a negative token id: " + id);
            }
        }
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

    /** {@return HF {@code max_new_tokens}: the most new tokens per row (default 20)} */
    public int maxNewTokens() {
        return maxNewTokens;
    }

    /** {@return HF {@code min_new_tokens}: EOS is banned until a row has this many new tokens (default 0)} */
    public int minNewTokens() {
        return minNewTokens;
    }

    /** {@return HF {@code do_sample}: true to sample, false for greedy or beam search (default)} */
    public boolean doSample() {
        return doSample;
    }

    /** {@return HF {@code temperature}: sampling divides the logits by it (default 1.0)} */
    public double temperature() {
        return temperature;
    }

    /** {@return HF {@code top_k}: sampling keeps the k best tokens; 0 = off (default 50)} */
    public int topK() {
        return topK;
    }

    /**
     * {@return HF {@code top_p}: sampling keeps the smallest set of best tokens whose probability reaches it;
     * 1.0 = off (default)}
     */
    public double topP() {
        return topP;
    }

    /**
     * {@return HF {@code min_p}: sampling drops tokens less likely than this fraction of the most likely
     * token's probability; 0 = off (default)}
     */
    public double minP() {
        return minP;
    }

    /**
     * {@return HF {@code typical_p}: sampling keeps the tokens whose surprise is closest to the entropy,
     * until their probability reaches it (typical decoding); 1.0 = off (default)}
     */
    public double typicalP() {
        return typicalP;
    }

    /** {@return HF {@code epsilon_cutoff}: sampling drops tokens of probability below it; 0 = off (default)} */
    public double epsilonCutoff() {
        return epsilonCutoff;
    }

    /**
     * {@return HF {@code repetition_penalty}: scores of tokens already in the row are divided by it when
     * positive, multiplied when negative; 1.0 = off (default)}
     */
    public double repetitionPenalty() {
        return repetitionPenalty;
    }

    /**
     * {@return OpenAI's and llama.cpp's {@code presence_penalty}: subtracted from the score of every token the
     * row has already generated; 0 = off (default)}
     */
    public double presencePenalty() {
        return presencePenalty;
    }

    /**
     * {@return OpenAI's and llama.cpp's {@code frequency_penalty}: subtracted from a token's score once per
     * time the row has generated it; 0 = off (default)}
     */
    public double frequencyPenalty() {
        return frequencyPenalty;
    }

    /**
     * {@return HF {@code no_repeat_ngram_size}: bans a token that would repeat an n-gram of this size already
     * in the row; 0 = off (default)}
     */
    public int noRepeatNgramSize() {
        return noRepeatNgramSize;
    }

    /** {@return HF {@code bad_words_ids}: token sequences that are never generated (copies)} */
    public List<int[]> badWordsIds() {
        return badWordsIds.stream().map(int[]::clone).toList();
    }

    /** {@return HF {@code suppress_tokens}: ids whose scores are set to -infinity at every step (a copy)} */
    public int[] suppressTokens() {
        return suppressTokens.clone();
    }

    /** {@return HF {@code forced_eos_token_id}: the ids forced as a row's last token at max_new_tokens; empty = off} */
    public Set<Integer> forcedEosTokenIds() {
        return forcedEosTokenIds;
    }

    /** {@return the user's logits processors, run after the built-in ones in this order} */
    public List<LogitsProcessor> logitsProcessors() {
        return logitsProcessors;
    }

    /** {@return HF {@code num_beams}: beams of beam search; 1 = no beam search (default)} */
    public int numBeams() {
        return numBeams;
    }

    /**
     * {@return HF {@code length_penalty}: beam search divides a hypothesis' summed log-probabilities by its
     * length to this power; &gt; 0 favours longer sequences (default 1.0)}
     */
    public double lengthPenalty() {
        return lengthPenalty;
    }

    /** {@return HF {@code early_stopping}: when beam search stops (default {@link EarlyStopping#FALSE})} */
    public EarlyStopping earlyStopping() {
        return earlyStopping;
    }

    /**
     * {@return HF {@code num_return_sequences}: result rows per prompt: the best hypotheses of beam search, or
     * independent samples (default 1)}
     */
    public int numReturnSequences() {
        return numReturnSequences;
    }

    /**
     * {@return whether each generated token carries its log-probability (OpenAI's {@code logprobs}; HF's
     * {@code compute_transition_scores}): the log-softmax, at the token, of the scores it was chosen from
     * (the processed logits of greedy search, the warped ones of sampling); for beam search, the token's
     * processed log-probability, what its beam's score added (always given). Default false; implied by
     * {@link #topLogprobs()} &gt; 0}
     */
    public boolean logprobs() {
        return logprobs || topLogprobs > 0;
    }

    /**
     * {@return how many of the most likely tokens each generated token lists with their log-probabilities
     * (OpenAI's {@code top_logprobs}, llama.cpp's {@code n_probs}); 0 = none (default)}
     */
    public int topLogprobs() {
        return topLogprobs;
    }

    /**
     * {@return HF {@code output_scores}: keep, per generated token, the whole processed score vector it was
     * chosen from (see {@link SequenceScores#scores()}; default false)}
     */
    public boolean outputScores() {
        return outputScores;
    }

    /** {@return HF {@code output_logits}: keep, per generated token, the model's raw logits (default false)} */
    public boolean outputLogits() {
        return outputLogits;
    }

    /** EOS ids; null means "the model config's eos_token_id". */
    Set<Integer> eosTokenIdsOrNull() {
        return eosTokenIds;
    }

    /** {@return the EOS ids given explicitly, if any (otherwise the model config's eos_token_id is used)} */
    public Set<Integer> eosTokenIds() {
        return eosTokenIds == null ? Set.of() : eosTokenIds;
    }

    /** {@return the extra ids that end a row like EOS} */
    public Set<Integer> stopTokenIds() {
        return stopTokenIds;
    }

    /** {@return the strings that end a row once its generated text contains one (needs a tokenizer)} */
    public List<String> stopStrings() {
        return stopStrings;
    }

    /** {@return the seed of the sampler; empty = a fresh random seed per call} */
    public OptionalLong seed() {
        return seed == null ? OptionalLong.empty() : OptionalLong.of(seed);
    }

    /** {@return a builder with HF's defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder initialised with this configuration's values} */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxNewTokens = maxNewTokens;
        b.minNewTokens = minNewTokens;
        b.doSample = doSample;
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.minP = minP;
        b.typicalP = typicalP;
        b.epsilonCutoff = epsilonCutoff;
        b.repetitionPenalty = repetitionPenalty;
        b.presencePenalty = presencePenalty;
        b.frequencyPenalty = frequencyPenalty;
        b.noRepeatNgramSize = noRepeatNgramSize;
        b.badWordsIds = badWordsIds;
        b.suppressTokens = suppressTokens;
        b.forcedEosTokenIds = new TreeSet<>(forcedEosTokenIds);
        b.logitsProcessors = logitsProcessors;
        b.numBeams = numBeams;
        b.lengthPenalty = lengthPenalty;
        b.earlyStopping = earlyStopping;
        b.numReturnSequences = numReturnSequences;
        b.logprobs = logprobs;
        b.topLogprobs = topLogprobs;
        b.outputScores = outputScores;
        b.outputLogits = outputLogits;
        b.eosTokenIds = eosTokenIds == null ? null : new TreeSet<>(eosTokenIds);
        b.stopTokenIds = new TreeSet<>(stopTokenIds);
        b.stopStrings = List.copyOf(stopStrings);
        b.seed = seed;
        return b;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("GenerationConfig[max_new_tokens=").append(maxNewTokens)
                .append(", min_new_tokens=").append(minNewTokens).append(", do_sample=").append(doSample)
                .append(", temperature=").append(temperature).append(", top_k=").append(topK)
                .append(", top_p=").append(topP).append(", min_p=").append(minP).append(", typical_p=").append(typicalP)
                .append(", epsilon_cutoff=").append(epsilonCutoff)
                .append(", repetition_penalty=").append(repetitionPenalty)
                .append(", presence_penalty=").append(presencePenalty)
                .append(", frequency_penalty=").append(frequencyPenalty)
                .append(", no_repeat_ngram_size=").append(noRepeatNgramSize)
                .append(", bad_words_ids=").append(badWordsIds.stream().map(Arrays::toString).toList())
                .append(", suppress_tokens=").append(Arrays.toString(suppressTokens))
                .append(", forced_eos_token_id=").append(forcedEosTokenIds)
                .append(", logits_processors=").append(logitsProcessors.size())
                .append(", num_beams=").append(numBeams).append(", length_penalty=").append(lengthPenalty)
                .append(", early_stopping=").append(earlyStopping)
                .append(", num_return_sequences=").append(numReturnSequences)
                .append(", logprobs=").append(logprobs).append(", top_logprobs=").append(topLogprobs)
                .append(", output_scores=").append(outputScores).append(", output_logits=").append(outputLogits)
                .append(", eos_token_id=").append(eosTokenIds == null ? "model" : eosTokenIds)
                .append(", stop_token_ids=").append(stopTokenIds).append(", stop_strings=").append(stopStrings)
                .append(", seed=").append(seed);
        return s.append(']').toString();
    }

    /** Builder with HF's defaults (greedy, 20 new tokens, no penalties); not thread-safe. */
    public static final class Builder {
        private int maxNewTokens = 20;
        private int minNewTokens = 0;
        private boolean doSample = false;
        private double temperature = 1.0;
        private int topK = 50;
        private double topP = 1.0;
        private double minP = 0.0;
        private double typicalP = 1.0;
        private double epsilonCutoff = 0.0;
        private double repetitionPenalty = 1.0;
        private double presencePenalty = 0.0;
        private double frequencyPenalty = 0.0;
        private int noRepeatNgramSize = 0;
        private List<int[]> badWordsIds = List.of();
        private int[] suppressTokens = new int[0];
        private Set<Integer> forcedEosTokenIds = new TreeSet<>();
        private List<LogitsProcessor> logitsProcessors = List.of();
        private int numBeams = 1;
        private double lengthPenalty = 1.0;
        private EarlyStopping earlyStopping = EarlyStopping.FALSE;
        private int numReturnSequences = 1;
        private boolean logprobs = false;
        private int topLogprobs = 0;
        private boolean outputScores = false;
        private boolean outputLogits = false;
        private Set<Integer> eosTokenIds;
        private Set<Integer> stopTokenIds = new TreeSet<>();
        private List<String> stopStrings = List.of();
        private Long seed;

        private Builder() {}

        /**
         * HF {@code max_new_tokens} (default 20).
         *
         * @param v the most new tokens per row, at least 1
         * @return this builder
         */
        public Builder maxNewTokens(int v) {
            maxNewTokens = v;
            return this;
        }

        /**
         * HF {@code min_new_tokens} (default 0): EOS is banned until a row has this many new tokens.
         *
         * @param v in [0, max_new_tokens]
         * @return this builder
         */
        public Builder minNewTokens(int v) {
            minNewTokens = v;
            return this;
        }

        /**
         * HF {@code do_sample} (default false).
         *
         * @param v true to sample from the processed softmax, false for greedy (argmax) or beam search
         * @return this builder
         */
        public Builder doSample(boolean v) {
            doSample = v;
            return this;
        }

        /**
         * HF {@code temperature} (default 1.0); used only when sampling.
         *
         * @param v a finite positive number that divides the logits
         * @return this builder
         */
        public Builder temperature(double v) {
            temperature = v;
            return this;
        }

        /**
         * HF {@code top_k} (default 50); used only when sampling.
         *
         * @param v how many of the best tokens to keep, &gt;= 0; 0 disables
         * @return this builder
         */
        public Builder topK(int v) {
            topK = v;
            return this;
        }

        /**
         * HF {@code top_p} (default 1.0); used only when sampling.
         *
         * @param v in (0, 1]: keep the smallest set of best tokens whose probabilities sum to at least this; 1
         *          disables
         * @return this builder
         */
        public Builder topP(double v) {
            topP = v;
            return this;
        }

        /**
         * HF {@code min_p} (default 0); used only when sampling, after top-p.
         *
         * @param v in [0, 1]: drop tokens whose probability is below v times the best token's; 0 disables
         * @return this builder
         */
        public Builder minP(double v) {
            minP = v;
            return this;
        }

        /**
         * HF {@code typical_p} (default 1.0); used only when sampling, after min-p.
         *
         * @param v in (0, 1]: keep the tokens whose -log p is closest to the distribution's entropy until their
         *          probabilities sum to v; 1 disables
         * @return this builder
         */
        public Builder typicalP(double v) {
            typicalP = v;
            return this;
        }

        /**
         * HF {@code epsilon_cutoff} (default 0); used only when sampling, after typical-p.
         *
         * @param v in [0, 1): drop tokens of probability below v (the best token always stays); 0 disables
         * @return this builder
         */
        public Builder epsilonCutoff(double v) {
            epsilonCutoff = v;
            return this;
        }

        /**
         * HF {@code repetition_penalty} (default 1.0).
         *
         * @param v a finite positive number; scores of tokens already in the row (prompt included) are divided
         *          by it when positive and multiplied when negative; 1 disables
         * @return this builder
         */
        public Builder repetitionPenalty(double v) {
            repetitionPenalty = v;
            return this;
        }

        /**
         * OpenAI's {@code presence_penalty} (default 0), as llama.cpp's {@code presence_penalty} too.
         *
         * @param v finite; subtracted once from the score of each token the row has generated so far (the
         *          prompt does not count); negative values favour repeats
         * @return this builder
         */
        public Builder presencePenalty(double v) {
            presencePenalty = v;
            return this;
        }

        /**
         * OpenAI's {@code frequency_penalty} (default 0), as llama.cpp's {@code frequency_penalty} too.
         *
         * @param v finite; subtracted from a token's score once per time the row has generated it (the
         *          prompt does not count)
         * @return this builder
         */
        public Builder frequencyPenalty(double v) {
            frequencyPenalty = v;
            return this;
        }

        /**
         * HF {@code no_repeat_ngram_size} (default 0).
         *
         * @param v n &gt;= 0: a token that would repeat an n-gram already in the row is banned; 0 disables
         * @return this builder
         */
        public Builder noRepeatNgramSize(int v) {
            noRepeatNgramSize = v;
            return this;
        }

        /**
         * HF {@code bad_words_ids}: token sequences never to generate. A one-token sequence bans that token
         * at every step; a longer one bans its last token whenever the row ends with the others. As in HF,
         * a one-token sequence that is an EOS id is ignored.
         *
         * @param v the sequences, each non-empty, of ids &gt;= 0 (and below the model's vocab_size)
         * @return this builder
         * @throws NullPointerException if a sequence is null
         */
        public Builder badWordsIds(int[]... v) {
            List<int[]> l = new ArrayList<>(v.length);
            for (int[] w : v) {
                l.add(Objects.requireNonNull(w, "bad_words_ids entry").clone());
            }
            badWordsIds = List.copyOf(l);
            return this;
        }

        /**
         * HF {@code suppress_tokens}: ids never to generate (their scores are set to -infinity).
         *
         * @param ids ids &gt;= 0 (and below the model's vocab_size)
         * @return this builder
         */
        public Builder suppressTokens(int... ids) {
            suppressTokens = ids.clone();
            return this;
        }

        /**
         * HF {@code forced_eos_token_id}: at a row's last possible step (its {@code max_new_tokens}-th token)
         * only these ids are allowed, each with score 0.
         *
         * @param ids the ids; none disables
         * @return this builder
         */
        public Builder forcedEosTokenId(int... ids) {
            forcedEosTokenIds = idSet(ids);
            return this;
        }

        /**
         * Custom processors (HF's {@code logits_processor} argument of {@code generate}), run after the
         * built-in ones in this order.
         *
         * @param v the processors
         * @return this builder
         * @throws NullPointerException if a processor is null
         */
        public Builder logitsProcessors(LogitsProcessor... v) {
            logitsProcessors = List.of(v);
            return this;
        }

        /**
         * HF {@code num_beams} (default 1).
         *
         * @param v &gt;= 1; more than 1 runs beam search (then {@code do_sample} must be false)
         * @return this builder
         */
        public Builder numBeams(int v) {
            numBeams = v;
            return this;
        }

        /**
         * HF {@code length_penalty} (default 1.0); used only by beam search.
         *
         * @param v finite exponent of the length that divides a hypothesis' summed log-probabilities
         * @return this builder
         */
        public Builder lengthPenalty(double v) {
            lengthPenalty = v;
            return this;
        }

        /**
         * HF {@code early_stopping} as a boolean: {@link EarlyStopping#TRUE} or {@link EarlyStopping#FALSE}.
         *
         * @param v HF's True or False
         * @return this builder
         */
        public Builder earlyStopping(boolean v) {
            earlyStopping = v ? EarlyStopping.TRUE : EarlyStopping.FALSE;
            return this;
        }

        /**
         * HF {@code early_stopping} (default {@link EarlyStopping#FALSE}); used only by beam search.
         *
         * @param v when beam search stops
         * @return this builder
         */
        public Builder earlyStopping(EarlyStopping v) {
            earlyStopping = Objects.requireNonNull(v, "earlyStopping");
            return this;
        }

        /**
         * HF {@code num_return_sequences} (default 1).
         *
         * @param v result rows per prompt: at most {@code num_beams} with beam search, any number when sampling,
         *          1 for greedy search
         * @return this builder
         */
        public Builder numReturnSequences(int v) {
            numReturnSequences = v;
            return this;
        }

        /**
         * Whether each token carries its log-probability (OpenAI's {@code logprobs}; default false).
         *
         * @param v true to compute them (one pass over the vocabulary per token)
         * @return this builder
         */
        public Builder logprobs(boolean v) {
            logprobs = v;
            return this;
        }

        /**
         * How many of the most likely alternatives each token lists (OpenAI's {@code top_logprobs},
         * llama.cpp's {@code n_probs}; default 0); more than 0 turns {@link #logprobs(boolean)} on.
         *
         * @param v &gt;= 0
         * @return this builder
         */
        public Builder topLogprobs(int v) {
            topLogprobs = v;
            return this;
        }

        /**
         * HF {@code output_scores} (default false): keep every step's processed score vector.
         *
         * @param v true to keep them (vocab_size floats per token)
         * @return this builder
         */
        public Builder outputScores(boolean v) {
            outputScores = v;
            return this;
        }

        /**
         * HF {@code output_logits} (default false): keep every step's raw logits.
         *
         * @param v true to keep them (vocab_size floats per token)
         * @return this builder
         */
        public Builder outputLogits(boolean v) {
            outputLogits = v;
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

        /**
         * Strings that end a row once its generated text contains one (the string is kept); needs a tokenizer.
         *
         * @param v the stop strings, non-empty
         * @return this builder
         * @throws NullPointerException if a string is null
         */
        public Builder stopStrings(String... v) {
            stopStrings = List.of(v);
            return this;
        }

        /**
         * Seeds the sampler, so a call with the same inputs draws the same tokens.
         *
         * @param v the seed
         * @return this builder
         */
        public Builder seed(long v) {
            seed = v;
            return this;
        }

        /**
         * Validates the values and makes the configuration.
         *
         * @return the configuration
         * @throws IllegalArgumentException if a value is out of its range, a stop string is empty, or options
         *                                  conflict (beam search with sampling or stop strings, several return
         *                                  sequences of greedy search, more return sequences than beams)
         */
        public GenerationConfig build() {
            Objects.requireNonNull(stopTokenIds);
            return new GenerationConfig(this);
        }
    }
}
