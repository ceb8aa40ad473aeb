package dev.panopt.conformance;

import java.util.Arrays;

/** Tolerances of the shared fixture README and the element-wise comparison. */
final class Compare {
    private Compare() {}

    /** |got - expected| <= atol + rtol * |expected|; exact when both are 0. */
    record Tolerance(double atol, double rtol, boolean exact) {
        static final Tolerance FLOAT32 = new Tolerance(2e-4, 2e-4, false);
        static final Tolerance ATTENTION = new Tolerance(1e-5, 0, false);
        static final Tolerance LOSS = new Tolerance(1e-5, 1e-5, false);
        static final Tolerance EXACT = new Tolerance(0, 0, true);

        boolean accepts(double got, double expected) {
            if (exact) {
                return got == expected;
            }
            if (Double.isNaN(expected)) {
                return Double.isNaN(got);
            }
            return Math.abs(got - expected) <= atol + rtol * Math.abs(expected);
        }

        @Override
        public String toString() {
            return exact ? "exact" : "atol=" + atol + " rtol=" + rtol;
        }
    }

    /** The README's tolerance for a stored tensor name. */
    static Tolerance toleranceFor(String name, boolean integer) {
        if (integer) {
            return Tolerance.EXACT;
        }
        if (name.startsWith("attentions.")) {
            return Tolerance.ATTENTION;
        }
        if (name.startsWith("loss")) {
            return Tolerance.LOSS;
        }
        return Tolerance.FLOAT32;
    }

    /** One compared tensor. */
    record TensorResult(String call, String name, long[] shape, double maxAbs, double relL2, Tolerance tolerance,
                        long failures, String firstFailure) {
        boolean pass() {
            return failures == 0;
        }

        String shapeText() {
            return Arrays.toString(shape);
        }
    }

    static TensorResult compare(String call, String name, long[] shape, double[] got, double[] expected,
                                Tolerance tol) {
        if (got.length != expected.length) {
            return new TensorResult(call, name, shape, Double.NaN, Double.NaN, tol, Math.max(1, expected.length),
                    "got " + got.length + " values, expected " + expected.length);
        }
        double maxAbs = 0;
        double diff2 = 0;
        double ref2 = 0;
        long failures = 0;
        String first = null;
        for (int i = 0; i < got.length; i++) {
            double d = Math.abs(got[i] - expected[i]);
            if (Double.isNaN(d) && !(Double.isNaN(got[i]) && Double.isNaN(expected[i]))) {
                d = Double.POSITIVE_INFINITY;
            } else if (Double.isNaN(d)) {
                d = 0;
            }
            maxAbs = Math.max(maxAbs, d);
            diff2 += d * d;
            ref2 += expected[i] * expected[i];
            if (!tol.accepts(got[i], expected[i])) {
                if (failures++ == 0) {
                    first = "at " + Arrays.toString(unflatten(i, shape)) + ": got " + got[i] + ", expected "
                            + expected[i];
                }
            }
        }
        double rel = ref2 == 0 ? Math.sqrt(diff2) : Math.sqrt(diff2 / ref2);
        return new TensorResult(call, name, shape, maxAbs, rel, tol, failures, first);
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    static double[] toDouble(long[] l) {
        double[] d = new double[l.length];
        for (int i = 0; i < l.length; i++) {
            d[i] = l[i];
        }
        return d;
    }

    private static long[] unflatten(long i, long[] shape) {
        long[] idx = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            long n = Math.max(1, shape[d]);
            idx[d] = i % n;
            i /= n;
        }
        return idx;
    }

    /** A one-line description of an error for a report: what went wrong, without a stack trace. */
    static String describe(Throwable e) {
        if (e instanceof java.nio.file.NoSuchFileException n) {
            return "no such file: " + n.getFile();
        }
        if ((e instanceof java.io.IOException || e instanceof IllegalArgumentException) && e.getMessage() != null) {
            return e.getMessage();  // Panopt's messages name the file and the problem
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
}
