package dev.panopt;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * HF's sampling warpers, in place on a float[vocab] row (filtered tokens become -inf, HF's
 * {@code filter_value}), the draw from the softmax, and greedy's argmax. Stateless; each method
 * says which HF class it follows. Every warper keeps at least one token ({@code min_tokens_to_keep}
 * 1); probabilities are computed in double.
 */
final class LogitsWarping {
    private LogitsWarping() {}

    /** torch.argmax: the first maximum. */
    static int argmax(float[] scores) {
        int best = 0;
        for (int i = 1; i < scores.length; i++) {
            if (scores[i] > scores[best]) {
                best = i;
            }
        }
        return best;
    }

    /** TemperatureLogitsWarper: the scores divided by the temperature. */
    static void temperature(float[] s, double t) {
        if (t == 1.0) {
            return;
        }
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) (s[i] / t);
        }
    }

    /** TopKLogitsWarper: scores below the k-th largest become -inf (ties with it stay); k 0 = off. */
    static void topK(float[] s, int k) {
        if (k <= 0 || k >= s.length) {
            return;
        }
        int[] best = Logprobs.topIndices(s, k, true);
        float kth = s[best[k - 1]];
        for (int i = 0; i < s.length; i++) {
            if (s[i] < kth) {
                s[i] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /**
     * TopPLogitsWarper: in ascending order of score, tokens are dropped while the cumulative
     * probability up to and including them is at most 1 - p; the best token always stays.
     */
    static void topP(float[] s, double p) {
        if (p >= 1.0) {
            return;
        }
        int[] order = ascendingFinite(s);
        double[] prob = softmax(s);
        double cum = 0;
        for (int r = 0; r < order.length - 1; r++) {
            cum += prob[order[r]];
            if (cum > 1 - p) {
                break;
            }
            s[order[r]] = Float.NEGATIVE_INFINITY;
        }
    }

    /** MinPLogitsWarper: tokens with probability below p times the best token's become -inf (the best stays). */
    static void minP(float[] s, double p) {
        if (p <= 0) {
            return;
        }
        double[] prob = softmax(s);
        int best = argmax(s);
        double cut = p * prob[best];
        for (int i = 0; i < s.length; i++) {
            if (prob[i] < cut && i != best) {
                s[i] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /**
     * TypicalLogitsWarper: order tokens by |-log p - H| (H the entropy), keep them in that order
     * until their probability reaches {@code mass} (the token that reaches it included, and every
     * token as typical as it), drop the rest; the most typical token always stays.
     */
    static void typical(float[] s, double mass) {
        if (mass >= 1.0) {
            return;
        }
        double lse = Logprobs.logSumExp(s);
        double entropy = 0;
        for (float x : s) {
            if (x != Float.NEGATIVE_INFINITY) {
                double lp = x - lse;
                entropy -= lp * Math.exp(lp);
            }
        }
        // |-log p - H| in float, as HF computes it: -inf scores give +inf and sort last.
        float[] shifted = new float[s.length];
        for (int i = 0; i < s.length; i++) {
            shifted[i] = s[i] == Float.NEGATIVE_INFINITY ? Float.POSITIVE_INFINITY : (float) Math.abs(-(s[i] - lse) - entropy);
        }
        int[] order = ascending(shifted);
        int last = 0; // the number of tokens before the cumulative probability reaches mass
        double cum = 0;
        for (int idx : order) {
            cum += s[idx] == Float.NEGATIVE_INFINITY ? 0 : Math.exp(s[idx] - lse);
            if (!(cum < mass)) {
                break;
            }
            last++;
        }
        last = Math.min(last, s.length - 1);
        float cut = shifted[order[last]];
        for (int r = 1; r < order.length; r++) {
            if (shifted[order[r]] > cut) {
                s[order[r]] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /** EpsilonLogitsWarper: tokens of probability below epsilon become -inf, except those tied with the best. */
    static void epsilon(float[] s, double epsilon) {
        if (epsilon <= 0) {
            return;
        }
        double[] prob = softmax(s);
        float max = s[argmax(s)];
        for (int i = 0; i < s.length; i++) {
            if (prob[i] < epsilon && s[i] < max) {
                s[i] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /** A draw from softmax(s) (torch.multinomial of one sample): the first token whose cumulative probability exceeds u. */
    static int sample(float[] s, SplittableRandom rnd) {
        double[] p = softmax(s);
        double u = rnd.nextDouble();
        double cum = 0;
        int last = -1;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                cum += p[i];
                last = i;
                if (u < cum) {
                    return i;
                }
            }
        }
        return last < 0 ? argmax(s) : last;
    }

    /** softmax(s) in double; all zeros when every entry is -inf. */
    static double[] softmax(float[] s) {
        double lse = Logprobs.logSumExp(s);
        double[] p = new double[s.length];
        if (lse == Double.NEGATIVE_INFINITY) {
            return p;
        }
        for (int i = 0; i < s.length; i++) {
            p[i] = Math.exp(s[i] - lse);
        }
        return p;
    }

    /** Indices of the entries other than -inf, by ascending value (ties by index). */
    private static int[] ascendingFinite(float[] s) {
        int n = 0;
        for (float x : s) {
            n += x != Float.NEGATIVE_INFINITY ? 1 : 0;
        }
        int[] all = ascending(s);
        return Arrays.copyOfRange(all, all.length - n, all.length);
    }

    /**
     * Indices of s by ascending value, ties by index, sorted as primitive longs (order-preserving
     * float bits in the high half, index in the low half): no boxing on the per-token path.
     */
    private static int[] ascending(float[] s) {
        long[] keys = new long[s.length];
        for (int i = 0; i < s.length; i++) {
            int bits = Float.floatToIntBits(s[i]);
            int ordered = bits >= 0 ? bits : bits ^ 0x7fffffff; // monotone in the float value
            keys[i] = ((long) ordered << 32) | i;
        }
        Arrays.sort(keys);
        int[] order = new int[s.length];
        for (int r = 0; r < s.length; r++) {
            order[r] = (int) keys[r];
        }
        return order;
    }
}
