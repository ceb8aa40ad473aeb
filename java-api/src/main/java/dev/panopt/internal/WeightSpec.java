package dev.panopt.internal;

import java.util.Arrays;
import java.util.Objects;

/**
 * One decoder tensor a config requires: its canonical name (HF name without {@code model.}),
 * shape, {@code PANOPT_T_*} kind of panopt.h and layer index ({@code -1} for model-level tensors).
 *
 * <p>Immutable (the shape is copied in and out); thread-safe.
 */
public record WeightSpec(String name, long[] shape, int kind, int layer) {
    public WeightSpec {
        Objects.requireNonNull(name, "name");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Product of the dimensions. */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightSpec w && name.equals(w.name) && Arrays.equals(shape, w.shape) && kind == w.kind
                && layer == w.layer;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, Arrays.hashCode(shape), kind, layer);
    }

    @Override
    public String toString() {
        return name + " " + Arrays.toString(shape) + " kind=" + kind + " layer=" + layer;
    }
}
