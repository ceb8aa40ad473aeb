package dev.panopt;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * HF's logits processors for one row, in place on a float[vocab] row. Stateless; each method says
 * which HF class (or which OpenAI / llama.cpp parameter) it follows. {@link LogitsPipeline} runs
 * them in HF's order; {@link LogitsWarping} holds the sampling warpers.
 */
final class LogitsProcessing {
    private LogitsProcessing() {}

    /** RepetitionPenaltyLogitsProcessor: seen tokens' scores divided (if > 0) or multiplied by the penalty. */
    static void repetitionPenalty(float[] scores, int[] seen, int seenLength, double penalty) {
        if (penalty == 1.0) {
            return;
        }
        boolean[] done = new boolean[scores.length];
        for (int i = 0; i < seenLength; i++) {
            int t = seen[i];
            if (t < 0 || t >= scores.length || done[t]) {
                continue;
            }
            done[t] = true;
            float s = scores[t];
            scores[t] = (float) (s < 0 ? s * penalty : s / penalty);
        }
    }

    /**
     * OpenAI's presence and frequency penalties (llama.cpp's {@code presence_penalty} /
     * {@code frequency_penalty}): a token generated c &gt; 0 times in {@code seq[from:to]} loses
     * {@code c * frequency + presence}.
     */
    static void presenceFrequency(float[] scores, int[] seq, int from, int to, double presence, double frequency) {
        if ((presence == 0 && frequency == 0) || to <= from) {
            return;
        }
        int[] generated = Arrays.copyOfRange(seq, from, to);
        Arrays.sort(generated);
        for (int i = 0; i < generated.length;) {
            int t = generated[i];
            int j = i;
            while (j < generated.length && generated[j] == t) {
                j++;
            }
            if (t >= 0 && t < scores.length) {
                scores[t] = (float) (scores[t] - ((j - i) * frequency + presence));
            }
            i = j;
        }
    }

    /** NoRepeatNGramLogitsProcessor: bans tokens that would repeat an n-gram of the sequence. */
    static void noRepeatNgram(float[] scores, int[] seq, int len, int n) {
        if (n <= 0 || len + 1 < n) {
            return;
        }
        // The last n-1 tokens are the prefix; every earlier occurrence of it bans its follower.
        int start = len - (n - 1);
        for (int i = 0; i + n <= len; i++) {
            boolean match = true;
            for (int j = 0; j < n - 1 && match; j++) {
                match = seq[i + j] == seq[start + j];
            }
            if (match) {
                int banned = seq[i + n - 1];
                if (banned >= 0 && banned < scores.length) {
                    scores[banned] = Float.NEGATIVE_INFINITY;
                }
            }
        }
    }

    /**
     * NoBadWordsLogitsProcessor (a SequenceBiasLogitsProcessor of -inf biases): a one-token word is
     * banned always; a longer one bans its last token when the row ends with the rest of it (words
     * longer than the row are skipped, as HF skips those longer than its input_ids).
     */
    static void badWords(float[] scores, int[] seq, int len, List<int[]> words) {
        for (int[] w : words) {
            int last = w[w.length - 1];
            if (w.length == 1) {
                scores[last] = Float.NEGATIVE_INFINITY;
                continue;
            }
            if (w.length > len) {
                continue;
            }
            int prefix = w.length - 1;
            boolean match = true;
            for (int j = 0; j < prefix && match; j++) {
                match = seq[len - prefix + j] == w[j];
            }
            if (match) {
                scores[last] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /** MinNewTokensLengthLogitsProcessor (EOS banned) and SuppressTokensLogitsProcessor: these ids get -inf. */
    static void banAll(float[] scores, Iterable<Integer> ids) {
        for (int id : ids) {
            if (id >= 0 && id < scores.length) {
                scores[id] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /** SuppressTokensLogitsProcessor over an id array. */
    static void banAll(float[] scores, int[] ids) {
        for (int id : ids) {
            scores[id] = Float.NEGATIVE_INFINITY;
        }
    }

    /** ForcedEOSTokenLogitsProcessor at the last step: every score -inf except the forced ids, which get 0. */
    static void force(float[] scores, Set<Integer> ids) {
        Arrays.fill(scores, Float.NEGATIVE_INFINITY);
        for (int id : ids) {
            scores[id] = 0f;
        }
    }
}
