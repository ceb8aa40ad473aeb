package dev.panopt;

/** Checks user inputs before anything reaches native code, and flattens them. Stateless. */
final class Inputs {
    private Inputs() {}

    /** Row-major copy of a rectangular int matrix; {@code what} names it in errors. */
    static int[] flatten(String what, int[][] m) {
        if (m == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        if (m.length == 0) {
            throw new IllegalArgumentException(what + " has no rows");
        }
        int cols = -1;
        for (int b = 0; b < m.length; b++) {
            if (m[b] == null) {
                throw new IllegalArgumentException(what + "[" + b + "] is null");
            }
            if (cols < 0) {
                cols = m[b].length;
            } else if (m[b].length != cols) {
                throw new IllegalArgumentException(what + " rows differ in length: row 0 has " + cols + ", row " + b
                        + " has " + m[b].length + " (pad them and use attention_mask)");
            }
        }
        if (cols == 0) {
            throw new IllegalArgumentException(what + " has empty rows");
        }
        int[] flat = new int[Math.multiplyExact(m.length, cols)];
        for (int b = 0; b < m.length; b++) {
            System.arraycopy(m[b], 0, flat, b * cols, cols);
        }
        return flat;
    }

    static void checkTokenIds(int[][] ids, int vocabSize) {
        for (int b = 0; b < ids.length; b++) {
            for (int t = 0; t < ids[b].length; t++) {
                int id = ids[b][t];
                if (id < 0 || id >= vocabSize) {
                    throw new IllegalArgumentException("input_ids[" + b + "][" + t + "] = " + id
                            + " is outside the vocabulary [0, " + vocabSize + ")");
                }
            }
        }
    }

    /** Flat copy of a 0/1 mask with {@code batch} equal-length rows (the width is checked by the session). */
    static int[] mask(int[][] mask, int batch) {
        if (mask.length != batch) {
            throw new IllegalArgumentException("attention_mask has " + mask.length + " rows, input has " + batch);
        }
        int[] flat = flatten("attention_mask", mask);
        for (int i = 0; i < flat.length; i++) {
            if (flat[i] != 0 && flat[i] != 1) {
                int cols = mask[0].length;
                throw new IllegalArgumentException("attention_mask[" + i / cols + "][" + i % cols + "] = " + flat[i]
                        + "; must be 0 or 1");
            }
        }
        return flat;
    }

    /** Flat copy of inputs_embeds [batch][seq][dim]. */
    static float[] flattenEmbeds(float[][][] e, int dim) {
        if (e == null || e.length == 0 || e[0] == null || e[0].length == 0) {
            throw new IllegalArgumentException("inputs_embeds must be a non-empty [batch][seq][" + dim + "] array");
        }
        int batch = e.length;
        int seq = e[0].length;
        float[] flat = new float[Math.multiplyExact(Math.multiplyExact(batch, seq), dim)];
        for (int b = 0; b < batch; b++) {
            if (e[b] == null || e[b].length != seq) {
                throw new IllegalArgumentException("inputs_embeds rows differ in length (row " + b + ")");
            }
            for (int t = 0; t < seq; t++) {
                float[] v = e[b][t];
                if (v == null || v.length != dim) {
                    throw new IllegalArgumentException("inputs_embeds[" + b + "][" + t + "] must have " + dim
                            + " values (word_embed_proj_dim)");
                }
                for (float x : v) {
                    if (!Float.isFinite(x)) {
                        throw new IllegalArgumentException("inputs_embeds[" + b + "][" + t + "] is not finite");
                    }
                }
                System.arraycopy(v, 0, flat, (b * seq + t) * dim, dim);
            }
        }
        return flat;
    }

    /** Flat [layers * heads] head mask, or null. */
    static float[] headMask(ForwardOptions options, OptConfig c) {
        float[][] m = options.headMaskUnsafe();
        if (m == null) {
            return null;
        }
        int layers = c.numHiddenLayers();
        int heads = c.numAttentionHeads();
        if (m.length != layers) {
            throw new IllegalArgumentException("head_mask has " + m.length + " rows; the model has " + layers
                    + " layers (use [layers][heads] or the per-head form)");
        }
        float[] flat = new float[layers * heads];
        for (int l = 0; l < layers; l++) {
            if (m[l] == null || m[l].length != heads) {
                throw new IllegalArgumentException("head_mask[" + l + "] must have " + heads + " entries (heads)");
            }
            for (int h = 0; h < heads; h++) {
                if (!Float.isFinite(m[l][h])) {
                    throw new IllegalArgumentException("head_mask[" + l + "][" + h + "] is not finite");
                }
            }
            System.arraycopy(m[l], 0, flat, l * heads, heads);
        }
        return flat;
    }

    static void checkLength(int seqLen, int maxPositions) {
        if (seqLen > maxPositions) {
            throw new IllegalArgumentException("sequence of " + seqLen + " positions is longer than max_position_embeddings "
                    + maxPositions);
        }
    }
}
