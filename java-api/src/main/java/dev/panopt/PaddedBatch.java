package dev.panopt;

import dev.panopt.tokenizer.PaddingSide;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Rows of different lengths made into one rectangular forward call: ids padded to the longest row on
 * one side, a 0/1 mask, and where each row's first token landed. Used by the helpers that batch
 * texts themselves (scoring, embeddings). Immutable by convention (package-private, never exposed).
 *
 * @param inputIds      [rows][width] ids, padding included
 * @param attentionMask [rows][width]: 1 for a token, 0 for padding
 * @param offsets       per row, the padded position of its first token
 */
record PaddedBatch(int[][] inputIds, int[][] attentionMask, int[] offsets) {

    /**
     * Pads {@code rows} to the longest. The pad id never reaches a result (padding is masked out of
     * every real position's attention), but it must be a valid id.
     */
    static PaddedBatch of(List<int[]> rows, int padId, PaddingSide side) {
        int width = 0;
        for (int[] r : rows) {
            width = Math.max(width, r.length);
        }
        int[][] ids = new int[rows.size()][width];
        int[][] mask = new int[rows.size()][width];
        int[] offsets = new int[rows.size()];
        for (int b = 0; b < rows.size(); b++) {
            int[] r = rows.get(b);
            int off = side == PaddingSide.LEFT ? width - r.length : 0;
            Arrays.fill(ids[b], padId);
            System.arraycopy(r, 0, ids[b], off, r.length);
            Arrays.fill(mask[b], off, off + r.length, 1);
            offsets[b] = off;
        }
        return new PaddedBatch(ids, mask, offsets);
    }

    /**
     * Row indices grouped into batches of at most {@code batchSize}, longest rows first, so rows of
     * similar length share a batch and little is spent on padding.
     */
    static List<int[]> groups(int[] lengths, int batchSize) {
        int[] order = IntStream.range(0, lengths.length).boxed()
                .sorted(Comparator.comparingInt((Integer i) -> -lengths[i]).thenComparingInt(i -> i))
                .mapToInt(Integer::intValue).toArray();
        List<int[]> out = new ArrayList<>();
        for (int from = 0; from < order.length; from += batchSize) {
            out.add(Arrays.copyOfRange(order, from, Math.min(order.length, from + batchSize)));
        }
        return out;
    }

    /** A pad id the model accepts: its {@code pad_token_id} when that is in the vocabulary, else 0. */
    static int padId(OptConfig c) {
        int pad = c.padTokenId().orElse(0);
        return pad >= 0 && pad < c.vocabSize() ? pad : 0;
    }
}
