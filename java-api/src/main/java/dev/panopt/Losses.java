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

    /** -log softmax(row)[target]. */
    static double crossEntropy(float[] row, int target) {
        return logSumExp(row) - row[target];
    }

    /** log(sum(exp(row))) in double, with the max subtracted for range: log softmax(row)[i] = row[i] - this. */
    static double logSumExp(float[] row) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (float v : row) {
            s += Math.exp(v - max);
        }
        return Math.log(s) + max;
    }

    /** A resolved sequence-classification loss: problem type plus validated targets. */
    record Classification(String problemType, int numLabels, int[] ids, float[] targets) {
        double compute(FloatTensor pooled) {
            int batch = (int) pooled.size(0);
            switch (problemType) {
                case "regression" -> {
                    double s = 0;
                    for (int i = 0; i < targets.length; i++) {
                        double d = pooled.getFlat(i) - targets[i];
                        s += d * d;
                    }
                    return s / targets.length;
                }
                case "single_label_classification" -> {
                    double s = 0;
                    int n = 0;
                    for (int b = 0; b < batch; b++) {
                        if (ids[b] == IGNORE) {
                            continue;
                        }
                        s += crossEntropy(pooled.row(b), ids[b]);
                        n++;
                    }
                    return s / n;
                }
                default -> {
                    // BCE with logits, mean over all elements: max(x,0) - x*y + log(1 + exp(-|x|)).
                    double s = 0;
                    for (int i = 0; i < targets.length; i++) {
                        double x = pooled.getFlat(i);
                        double y = targets[i];
                        s += Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
                    }
                    return s / targets.length;
                }
            }
        }
    }

    /** HF's problem-type inference and label checks for sequence classification. */
    static Classification classification(ClassificationLabels labels, String problemType, int numLabels, int batch) {
        boolean integer = labels instanceof ClassificationLabels.ClassIds;
        String p = problemType;
        if (p == null) {
            p = numLabels == 1 ? "regression" : integer ? "single_label_classification" : "multi_label_classification";
        }
        switch (p) {
            case "regression" -> {
                float[] t = switch (labels) {
                    case ClassificationLabels.Values v when numLabels == 1 -> v.values();
                    case ClassificationLabels.Matrix m -> flatMatrix(m.rows(), batch, numLabels);
                    case ClassificationLabels.Values v -> throw new IllegalArgumentException(
                            "regression with num_labels " + numLabels + " needs [batch][num_labels] labels (matrix)");
                    case ClassificationLabels.ClassIds c -> throw new IllegalArgumentException(
                            "regression needs float labels (values or matrix), not class ids");
                };
                if (t.length != batch * numLabels) {
                    throw new IllegalArgumentException("regression labels must have " + batch * numLabels
                            + " values ([batch" + (numLabels == 1 ? "" : ", num_labels") + "]), have " + t.length);
                }
                return new Classification(p, numLabels, null, t);
            }
            case "single_label_classification" -> {
                if (!(labels instanceof ClassificationLabels.ClassIds c)) {
                    throw new IllegalArgumentException("single_label_classification needs class ids, not float labels");
                }
                int[] ids = c.ids();
                if (ids.length != batch) {
                    throw new IllegalArgumentException("labels must have " + batch + " class ids, have " + ids.length);
                }
                for (int i = 0; i < ids.length; i++) {
                    if (ids[i] != IGNORE && (ids[i] < 0 || ids[i] >= numLabels)) {
                        throw new IllegalArgumentException("labels[" + i + "] = " + ids[i]
                                + " is neither -100 nor a class id in [0, " + numLabels + ")");
                    }
                }
                return new Classification(p, numLabels, ids, null);
            }
            case "multi_label_classification" -> {
                if (!(labels instanceof ClassificationLabels.Matrix m)) {
                    throw new IllegalArgumentException("multi_label_classification needs [batch][num_labels] float "
                            + "labels (matrix)");
                }
                return new Classification(p, numLabels, null, flatMatrix(m.rows(), batch, numLabels));
            }
            default -> throw new IllegalArgumentException("unknown problem_type " + p);
        }
    }

    private static float[] flatMatrix(float[][] rows, int batch, int numLabels) {
        if (rows.length != batch) {
            throw new IllegalArgumentException("labels must have " + batch + " rows, have " + rows.length);
        }
        float[] t = new float[batch * numLabels];
        for (int b = 0; b < batch; b++) {
            if (rows[b].length != numLabels) {
                throw new IllegalArgumentException("labels[" + b + "] must have " + numLabels + " values (num_labels)");
            }
            for (int j = 0; j < numLabels; j++) {
                if (!Float.isFinite(rows[b][j])) {
                    throw new IllegalArgumentException("labels[" + b + "][" + j + "] is not finite");
                }
            }
            System.arraycopy(rows[b], 0, t, b * numLabels, numLabels);
        }
        return t;
    }

    /** HF's QA cross-entropy: positions clamped to [0, seq], seq ignored, mean over the rest. */
    static double spanCrossEntropy(FloatTensor logits, int[] positions) {
        int seq = (int) logits.size(1);
        double s = 0;
        int n = 0;
        for (int b = 0; b < positions.length; b++) {
            int p = Math.clamp(positions[b], 0, seq);
            if (p == seq) {
                continue;
            }
            s += crossEntropy(logits.row(b), p);
            n++;
        }
        return s / n;
    }
}
