package dev.panopt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * One generate call's logits processors and sampling warpers, in HF's order
 * ({@code _get_logits_processor}, {@code _get_logits_warper}), bound to its configuration, EOS ids
 * and vocabulary (ids checked against it here). Immutable; the user's processors are called on
 * the calling thread.
 */
final class LogitsPipeline {
    private final GenerationConfig cfg;
    private final Set<Integer> eos;
    private final List<int[]> badWords;
    private final int[] suppress;
    private final Set<Integer> forcedEos;

    LogitsPipeline(GenerationConfig cfg, Set<Integer> eos, int vocab) {
        this.cfg = cfg;
        this.eos = eos;
        List<int[]> words = new ArrayList<>();
        for (int[] w : cfg.badWordsIds()) {
            checkIds("bad_words_ids entry " + Arrays.toString(w), w, vocab);
            // As HF's NoBadWordsLogitsProcessor: a ban of EOS alone is ignored.
            if (!(w.length == 1 && eos.contains(w[0]))) {
                words.add(w);
            }
        }
        this.badWords = List.copyOf(words);
        this.suppress = cfg.suppressTokens();
        checkIds("suppress_tokens", suppress, vocab);
        this.forcedEos = cfg.forcedEosTokenIds();
        checkIds("forced_eos_token_id", forcedEos.stream().mapToInt(Integer::intValue).toArray(), vocab);
    }

    private static void checkIds(String what, int[] ids, int vocab) {
        for (int id : ids) {
            if (id >= vocab) {
                throw new IllegalArgumentException(what + ": token id " + id + " is not below the model's vocab_size "
                        + vocab);
            }
        }
    }

    /**
     * The processors, in place, for a row whose tokens are {@code seq[0:len]}, the last
     * {@code produced} of them generated: repetition penalty, presence/frequency penalties,
     * no-repeat n-grams, bad words, min_new_tokens, forced EOS, suppressed tokens, the user's.
     */
    void process(int[] seq, int len, int produced, float[] scores) {
        LogitsProcessing.repetitionPenalty(scores, seq, len, cfg.repetitionPenalty());
        LogitsProcessing.presenceFrequency(scores, seq, len - produced, len, cfg.presencePenalty(),
                cfg.frequencyPenalty());
        LogitsProcessing.noRepeatNgram(scores, seq, len, cfg.noRepeatNgramSize());
        LogitsProcessing.badWords(scores, seq, len, badWords);
        if (produced < cfg.minNewTokens()) {
            LogitsProcessing.banAll(scores, eos);
        }
        if (!forcedEos.isEmpty() && produced == cfg.maxNewTokens() - 1) {
            LogitsProcessing.force(scores, forcedEos);
        }
        LogitsProcessing.banAll(scores, suppress);
        for (LogitsProcessor p : cfg.logitsProcessors()) {
            p.process(Arrays.copyOf(seq, len), scores);
        }
    }

    /** The sampling warpers, in place: temperature, top-k, top-p, min-p, typical-p, epsilon. */
    void warp(float[] scores) {
        LogitsWarping.temperature(scores, cfg.temperature());
        LogitsWarping.topK(scores, cfg.topK());
        LogitsWarping.topP(scores, cfg.topP());
        LogitsWarping.minP(scores, cfg.minP());
        LogitsWarping.typical(scores, cfg.typicalP());
        LogitsWarping.epsilon(scores, cfg.epsilonCutoff());
    }
}
