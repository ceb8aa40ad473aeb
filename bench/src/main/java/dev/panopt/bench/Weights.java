package dev.panopt.bench;

/**
 * Deterministic synthetic weights: element {@code i} of a tensor is a pure function of the tensor's
 * logical name, the seed and {@code i} (a splitmix64 hash mapped to a uniform value with the
 * requested standard deviation), so any slice can be produced on its own and every format of one
 * shape (OPT safetensors, GPT-2 GGUF, GPT-2 safetensors) gets the same numbers for the same tensor.
 * Scales follow OPT's init (std 0.02 for linear and embedding weights, LayerNorm gains near 1,
 * small biases), which keeps activations of a random network in a realistic range.
 */
public final class Weights {
    public static final long SEED = 0x5EED_0F_0B7L;
    private static final double SQRT3 = Math.sqrt(3.0);

    private Weights() {}

    /** Kinds of tensors, each with its own distribution. */
    public enum Kind {
        LINEAR(0.0, 0.02), EMBEDDING(0.0, 0.02), NORM_GAIN(1.0, 0.05), BIAS(0.0, 0.01);

        final double mean;
        final double std;

        Kind(double mean, double std) {
            this.mean = mean;
            this.std = std;
        }
    }

    /** Fills {@code out[0..n)} with elements {@code from..from+n} of the tensor {@code name}. */
    public static void fill(String name, Kind kind, long from, float[] out, int n) {
        long key = SEED ^ (name.hashCode() * 0x9E3779B97F4A7C15L) ^ ((long) name.length() << 56);
        float a = (float) (kind.std * SQRT3 * 2.0);
        float lo = (float) (kind.mean - kind.std * SQRT3);
        for (int i = 0; i < n; i++) {
            long z = key + (from + i) * 0x9E3779B97F4A7C15L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z = z ^ (z >>> 31);
            out[i] = lo + a * ((z >>> 40) * 0x1.0p-24f);
        }
    }

    /** The whole tensor as floats (small tensors only). */
    public static float[] all(String name, Kind kind, int n) {
        float[] v = new float[n];
        fill(name, kind, 0, v, n);
        return v;
    }
}
