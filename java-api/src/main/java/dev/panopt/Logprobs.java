package dev.panopt;

import java.util.ArrayList;
import java.util.List;

/**
 * Log-probabilities of a score row and its best entries, without materialising the softmax:
 * {@code log p(t) = s[t] - logsumexp(s)} (what HF's {@code compute_transition_scores} takes with
 * {@code normalize_logits}). Stateless.
 */
final class Logprobs {
    private Logprobs() {}

    /** log(sum(exp(s))) over the row, in double; -inf when every entry is -inf. */
    static double logSumExp(float[] s) {
        float max = Float.NEGATIVE_INFINITY;
        for (float x : s) {
            max = Math.max(max, x);
        }
        if (max == Float.NEGATIVE_INFINITY) {
            return Double.NEGATIVE_INFINITY;
        }
        double sum = 0;
        for (float x : s) {
            sum += Math.exp((double) x - max);
        }
        return max + Math.log(sum);
    }

    /** In place: s = log_softmax(s) (HF's {@code nn.functional.log_softmax}, as beam search applies to logits). */
    static void logSoftmax(float[] s) {
        double lse = logSumExp(s);
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) (s[i] - lse);
        }
    }

    /**
     * The n best entries of s minus {@code offset} (their log-probabilities when offset is the row's
     * logsumexp), best first; entries of -inf are left out.
     */
    static List<TokenLogprob> top(float[] s, int n, double offset) {
        int[] best = topIndices(s, n, false);
        List<TokenLogprob> out = new ArrayList<>(best.length);
        for (int t : best) {
            out.add(new TokenLogprob(t, s[t] - offset));
        }
        return out;
    }

    /**
     * Indices of the n largest entries, best first, ties to the lower index (so the first is
     * {@code torch.argmax}'s choice); with {@code withNegInf} false, -inf entries are never
     * returned (fewer than n then). A size-n heap: O(v log n).
     */
    static int[] topIndices(float[] s, int n, boolean withNegInf) {
        int k = Math.min(n, s.length);
        int[] heap = new int[k]; // the worst kept entry at the root
        int size = 0;
        for (int i = 0; i < s.length; i++) {
            if (!withNegInf && s[i] == Float.NEGATIVE_INFINITY) {
                continue;
            }
            if (size < k) {
                heap[size] = i;
                for (int c = size++; c > 0 && better(s, heap[(c - 1) / 2], heap[c]); c = (c - 1) / 2) {
                    swap(heap, c, (c - 1) / 2);
                }
            } else if (k > 0 && better(s, i, heap[0])) {
                heap[0] = i;
                siftDown(s, heap, size);
            }
        }
        int[] out = new int[size];
        for (int r = size - 1; r >= 0; r--) { // pop the worst into the back
            out[r] = heap[0];
            heap[0] = heap[--size];
            siftDown(s, heap, size);
        }
        return out;
    }

    /** Restores the heap (worst entry at the root) after its root changed. */
    private static void siftDown(float[] s, int[] heap, int size) {
        for (int c = 0;;) {
            int l = 2 * c + 1;
            if (l >= size) {
                return;
            }
            int w = l + 1 < size && better(s, heap[l], heap[l + 1]) ? l + 1 : l; // the worse child
            if (!better(s, heap[c], heap[w])) {
                return;
            }
            swap(heap, c, w);
            c = w;
        }
    }

    /** Whether entry a ranks before entry b: a larger value, or an equal one at a lower index. */
    private static boolean better(float[] s, int a, int b) {
        return s[a] > s[b] || (s[a] == s[b] && a < b);
    }

    private static void swap(int[] h, int i, int j) {
        int t = h[i];
        h[i] = h[j];
        h[j] = t;
    }
}
