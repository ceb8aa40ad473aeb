package dev.panopt.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Greedy sampling over native logits, the same code for Panopt and llama.cpp's C API. */
public final class Sampling {
    private Sampling() {}

    public static int argmax(MemorySegment logits, int n) {
        return argmax(logits, 0, n);
    }

    public static int argmax(MemorySegment logits, long firstElement, int n) {
        int best = 0;
        float bv = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = logits.getAtIndex(ValueLayout.JAVA_FLOAT, firstElement + i);
            if (v > bv) {
                bv = v;
                best = i;
            }
        }
        return best;
    }
}
