package dev.panopt;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * HF's logits processors and warpers for one row, in place on a float[vocab] row, and the token
 * choice. Stateless; each method says which HF class it follows.
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

    /** MinNewTokensLengthLogitsProcessor: EOS banned until enough new tokens exist. */
    static void banAll(float[] scores, Iterable<Integer> ids) {
        for (int id : ids) {
            if (id >= 0 && id < scores.length) {
                scores[id] = Float.NEGATIVE_INFINITY;
            }
        }
    }

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

    /**
     * Sampling: TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper (min_tokens_to_keep 1),
     * then a draw from the softmax of what is left.
     */
    static int sample(float[] scores, double temperature, int topK, double topP, SplittableRandom rnd) {
        int v = scores.length;
        double[] s = new double[v];
        for (int i = 0; i < v; i++) {
            s[i] = scores[i] / temperature;
        }
        if (topK > 0 && topK < v) {
            double kth = kthLargest(s, topK);
            for (int i = 0; i < v; i++) {
                if (s[i] < kth) {
                    s[i] = Double.NEGATIVE_INFINITY;
                }
            }
        }
        if (topP < 1.0) {
            // Ascending order of the surviving tokens (top-k leaves few); drop the low tail whose
            // cumulative probability is <= 1 - top_p, always keeping the best one.
            int[] order = ascendingFinite(s);
            double[] p = softmax(s);
            double cum = 0;
            for (int r = 0; r < order.length - 1; r++) {
                cum += p[order[r]];
                if (cum > 1 - topP) {
                    break;
                }
                s[order[r]] = Double.NEGATIVE_INFINITY;
            }
        }
        double[] p = softmax(s);
        double u = rnd.nextDouble();
        double cum = 0;
        int last = -1;
        for (int i = 0; i < v; i++) {
            if (p[i] > 0) {
                cum += p[i];
                last = i;
                if (u < cum) {
                    return i;
                }
            }
        }
        return last < 0 ? argmax(scores) : last;
    }

    /**
     * Indices of the finite entries of {@code s} by ascending value, sorted as primitive longs
     * (order-preserving float bits in the high half, index in the low half): no boxing on the
     * per-token path.
     */
    private static int[] ascendingFinite(double[] s) {
        long[] keys = new long[s.length];
        int n = 0;
        for (int i = 0; i < s.length; i++) {
            if (s[i] != Double.NEGATIVE_INFINITY) {
                int bits = Float.floatToIntBits((float) s[i]);
                int ordered = bits >= 0 ? bits : bits ^ 0x7fffffff; // monotone in the float value
                keys[n++] = ((long) ordered << 32) | i;
            }
        }
        Arrays.sort(keys, 0, n);
        int[] order = new int[n];
        for (int r = 0; r < n; r++) {
            order[r] = (int) keys[r];
        }
        return order;
    }

    static double[] softmax(double[] s) {
        double max = Double.NEGATIVE_INFINITY;
        for (double x : s) {
            max = Math.max(max, x);
        }
        double[] p = new double[s.length];
        if (max == Double.NEGATIVE_INFINITY) {
            return p;
        }
        double sum = 0;
        for (int i = 0; i < s.length; i++) {
            p[i] = Math.exp(s[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < s.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** The k-th largest value, with a size-k min-heap (O(v log k), not a full sort per token). */
    private static double kthLargest(double[] s, int k) {
        double[] heap = new double[k];
        int n = 0;
        for (double x : s) {
            if (n < k) {
                heap[n] = x;
                for (int c = n++; c > 0 && heap[(c - 1) / 2] > heap[c]; c = (c - 1) / 2) {
                    double t = heap[c];
                    heap[c] = heap[(c - 1) / 2];
                    heap[(c - 1) / 2] = t;
                }
            } else if (x > heap[0]) {
                heap[0] = x;
                for (int c = 0;;) {
                    int l = 2 * c + 1;
                    int m = l + 1 < k && heap[l + 1] < heap[l] ? l + 1 : l;
                    if (l >= k || heap[c] <= heap[m]) {
                        break;
                    }
                    double t = heap[c];
                    heap[c] = heap[m];
                    heap[m] = t;
                    c = m;
                }
            }
        }
        return heap[0];
    }
}
