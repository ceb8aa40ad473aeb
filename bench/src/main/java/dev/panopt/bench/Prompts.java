package dev.panopt.bench;

import java.util.SplittableRandom;

/** Deterministic prompts: token ids drawn from the vocabulary (skipping the first 4 special ids). */
public final class Prompts {
    private Prompts() {}

    public static int[][] ids(int batch, int len, int vocab) {
        SplittableRandom r = new SplittableRandom(42);
        int[][] ids = new int[batch][len];
        for (int[] row : ids) {
            for (int j = 0; j < len; j++) {
                row[j] = 4 + r.nextInt(Math.min(vocab, 50000) - 4);
            }
        }
        return ids;
    }

    public static int[][] ones(int batch, int len) {
        int[][] m = new int[batch][len];
        for (int[] row : m) {
            java.util.Arrays.fill(row, 1);
        }
        return m;
    }
}
