package dev.panopt;

import dev.panopt.tokenizer.OptTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The embedding helper of {@link OptModel}: forwards in batches and pools each row's last hidden
 * state over the positions its attention mask keeps (sentence-transformers' pooling), optionally
 * L2-normalized. Sums are in double. Stateless.
 */
final class Embeddings {
    private Embeddings() {}

    /** torch.nn.functional.normalize's floor on the norm (an all-zero vector stays zero). */
    private static final double MIN_NORM = 1e-12;

    static float[][] encode(OptModel model, OptTokenizer tokenizer, List<String> texts, EmbeddingOptions o) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(texts, "texts");
        Objects.requireNonNull(o, "options");
        model.checkTokenizer(tokenizer);
        OptConfig c = model.config();
        List<int[]> rows = new ArrayList<>(texts.size());
        int[] lengths = new int[texts.size()];
        for (int i = 0; i < texts.size(); i++) {
            int[] ids = tokenizer.encode(Objects.requireNonNull(texts.get(i), "texts[" + i + "]"), o.addSpecialTokens());
            if (ids.length == 0) {
                throw new IllegalArgumentException("texts[" + i + "] encodes to no token (addSpecialTokens(true) puts the "
                        + "BOS first)");
            }
            if (ids.length > c.maxPositionEmbeddings()) {
                throw new IllegalArgumentException("texts[" + i + "] has " + ids.length + " tokens, more than "
                        + "max_position_embeddings " + c.maxPositionEmbeddings());
            }
            rows.add(ids);
            lengths[i] = ids.length;
        }
        float[][] out = new float[rows.size()][];
        int pad = PaddedBatch.padId(c);
        for (int[] group : PaddedBatch.groups(lengths, o.batchSize())) {
            List<int[]> batch = new ArrayList<>(group.length);
            for (int i : group) {
                batch.add(rows.get(i));
            }
            PaddedBatch b = PaddedBatch.of(batch, pad, o.paddingSide());
            try (BaseModelOutput res = model.forward(b.inputIds(), b.attentionMask())) {
                for (int k = 0; k < group.length; k++) {
                    out[group[k]] = pool(res.lastHiddenState(), k, b.attentionMask()[k], o);
                }
            }
        }
        return out;
    }

    static float[][] encode(OptModel model, int[][] inputIds, int[][] attentionMask, EmbeddingOptions o) {
        Objects.requireNonNull(inputIds, "inputIds");
        Objects.requireNonNull(o, "options");
        int rows = inputIds.length;
        int width = Inputs.flatten("input_ids", inputIds).length / rows;
        Inputs.checkTokenIds(inputIds, model.config().vocabSize());
        Inputs.checkLength(width, model.config().maxPositionEmbeddings());
        int[][] mask = attentionMask;
        if (mask == null) {
            mask = new int[rows][width];
            for (int[] m : mask) {
                Arrays.fill(m, 1);
            }
        }
        Inputs.mask(mask, rows);
        if (mask[0].length != width) {
            throw new IllegalArgumentException("attention_mask must be [" + rows + ", " + width + "] like input_ids, rows "
                    + "have " + mask[0].length);
        }
        for (int b = 0; b < rows; b++) {
            if (Arrays.stream(mask[b]).noneMatch(x -> x == 1)) {
                throw new IllegalArgumentException("attention_mask[" + b + "] has no 1: the row has nothing to pool");
            }
        }
        float[][] out = new float[rows][];
        for (int from = 0; from < rows; from += o.batchSize()) {
            int to = Math.min(rows, from + o.batchSize());
            int[][] m = Arrays.copyOfRange(mask, from, to);
            try (BaseModelOutput res = model.forward(Arrays.copyOfRange(inputIds, from, to), m)) {
                for (int b = from; b < to; b++) {
                    out[b] = pool(res.lastHiddenState(), b - from, m[b - from], o);
                }
            }
        }
        return out;
    }

    /** Row {@code b} of hidden [batch, seq, dim] pooled over the positions where {@code mask} is 1. */
    static float[] pool(FloatTensor hidden, int b, int[] mask, EmbeddingOptions o) {
        int dim = Math.toIntExact(hidden.size(2));
        double[] acc = new double[dim];
        switch (o.pooling()) {
            case MEAN -> {
                int n = 0;
                for (int t = 0; t < mask.length; t++) {
                    if (mask[t] == 1) {
                        float[] h = hidden.row(b, t);
                        for (int j = 0; j < dim; j++) {
                            acc[j] += h[j];
                        }
                        n++;
                    }
                }
                for (int j = 0; j < dim; j++) {
                    acc[j] /= n;
                }
            }
            case LAST_TOKEN -> {
                int last = mask.length - 1;
                while (mask[last] != 1) {
                    last--;
                }
                float[] h = hidden.row(b, last);
                for (int j = 0; j < dim; j++) {
                    acc[j] = h[j];
                }
            }
        }
        double scale = 1;
        if (o.normalizeEmbeddings()) {
            double norm = 0;
            for (double x : acc) {
                norm += x * x;
            }
            scale = 1 / Math.max(Math.sqrt(norm), MIN_NORM);
        }
        float[] v = new float[dim];
        for (int j = 0; j < dim; j++) {
            v[j] = (float) (acc[j] * scale);
        }
        return v;
    }
}
