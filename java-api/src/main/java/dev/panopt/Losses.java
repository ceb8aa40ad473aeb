package dev.panopt;

/** The losses of HF's OPT heads, computed in double from the f32 outputs. Stateless. */
final class Losses {
    private Losses() {}

    /** HF's ignore_index. */
    static final int IGNORE = -100;

    /** Checks LM labels [batch][seq] (ids or -100) and flattens them. */
    static int[] checkLmLabels(int[][] labels, int batch, int seq, int vocab) {
        if (labels.length != batch) {
            throw new IllegalArgumentException("labels has " + labels.length + " rows, input_ids has " + batch);
        }
        int[] flat = Inputs.flatten("labels", labels);
        if (labels[0].length != seq) {
            throw new IllegalArgumentException("labels must be [" + batch + ", " + seq + "], rows have "
                    + labels[0].length);
        }
        for (int i = 0; i < flat.length; i++) {
            int v = flat[i];
            if (v != IGNORE && (v < 0 || v >= vocab)) {
                throw new IllegalArgumentException("labels[" + i / seq + "][" + i % seq + "] = " + v
                        + " is neither -100 nor a token id in [0, " + vocab + ")");
            }
        }
        return flat;
    }

    /** Mean cross-entropy of logits[:, :-1] against labels[:, 1:], skipping -100 (NaN if none counts). */
    static double causalLm(FloatTensor logits, int[] labels, int batch, int seq) {
        int vocab = Math.toIntExact(logits.size(2));
        float[] row = new float[vocab];
        double sum = 0;
        long n = 0;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t + 1 < seq; t++) {
                int target = labels[b * seq + t + 1];
                if (target == IGNORE) {
                    continue;
                }
                logits.copyTo(((long) b * seq + t) * vocab, row);
                sum += crossEntropy(row, target);
                n++;
            }
        }
        return sum / n;
    }

    /** -log softmax(row)[target], with the max subtracted for range. */
    static double crossEntropy(float[] row, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (float v : row) {
            s += Math.exp(v - max);
        }
        return Math.log(s) + max - row[target];
    }
}
