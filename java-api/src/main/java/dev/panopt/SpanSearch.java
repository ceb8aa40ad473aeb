package dev.panopt;

/**
 * The best answer span over the windows of a question-answering input, as transformers' pipeline
 * picks it: in each window only context tokens may start or end a span (the question, the BOS tokens
 * and padding may not), a span has {@code start <= end < start + maxAnswerLen}, and it scores
 * p(start) · p(end) under softmaxes over the window's context tokens (or the logit sum); the first
 * best span wins ties, within a window in (start, end) order and across windows in window order.
 * Mutable, thread-confined.
 */
final class SpanSearch {
    private final int maxAnswerLen;
    private final QuestionAnsweringOptions.SpanScore how;
    private int window = -1;
    private int start;
    private int end;
    private double score = Double.NEGATIVE_INFINITY;

    SpanSearch(int maxAnswerLen, QuestionAnsweringOptions.SpanScore how) {
        this.maxAnswerLen = maxAnswerLen;
        this.how = how;
    }

    /**
     * Considers one window.
     *
     * @param index       the window's number
     * @param startLogits start logits of the window's positions (padding after them is ignored)
     * @param endLogits   end logits likewise
     * @param context     per position of the window: whether it is a context token
     */
    void offer(int index, float[] startLogits, float[] endLogits, boolean[] context) {
        int n = context.length;
        double[] s = scores(startLogits, context);
        double[] e = scores(endLogits, context);
        boolean sum = how == QuestionAnsweringOptions.SpanScore.LOGIT_SUM;
        for (int i = 0; i < n; i++) {
            if (!context[i]) {
                continue;
            }
            for (int j = i; j < Math.min(n, i + maxAnswerLen); j++) {
                if (!context[j]) {
                    continue;
                }
                double v = sum ? s[i] + e[j] : s[i] * e[j];
                if (v > score) {
                    score = v;
                    window = index;
                    start = i;
                    end = j;
                }
            }
        }
    }

    /** Logits as they are (logit sum) or as the softmax over the context positions (probability). */
    private double[] scores(float[] logits, boolean[] context) {
        double[] out = new double[context.length];
        if (how == QuestionAnsweringOptions.SpanScore.LOGIT_SUM) {
            for (int i = 0; i < out.length; i++) {
                out[i] = logits[i];
            }
            return out;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < out.length; i++) {
            if (context[i]) {
                max = Math.max(max, logits[i]);
            }
        }
        double total = 0;
        for (int i = 0; i < out.length; i++) {
            if (context[i]) {
                out[i] = Math.exp(logits[i] - max);
                total += out[i];
            }
        }
        for (int i = 0; i < out.length; i++) {
            out[i] /= total;
        }
        return out;
    }

    /** {@return the best span's window} */
    int window() {
        return window;
    }

    /** {@return the best span's first position in its window} */
    int start() {
        return start;
    }

    /** {@return the best span's last position in its window} */
    int end() {
        return end;
    }

    /** {@return the best span's score} */
    double score() {
        return score;
    }
}
