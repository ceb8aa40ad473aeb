package dev.panopt.conformance;

import dev.panopt.DType;
import dev.panopt.checkpoint.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The outputs one implementation computed for a case, by reference tensor name, written as the
 * outputs protocol's {@code cases/<name>/outputs.safetensors} (floats as F32, integers as I64). The
 * first value recorded under a name is kept. Thread-confined.
 */
final class OutputTensors {
    /** The file an implementation writes into a case's folder of the outputs directory. */
    static final String FILE = "outputs.safetensors";

    private record Value(long[] shape, float[] floats, long[] longs) {}

    private final Map<String, Value> values = new LinkedHashMap<>();

    void floats(String name, long[] shape, double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        values.putIfAbsent(name, new Value(fit(shape, v.length), f, null));
    }

    void longs(String name, long[] shape, double[] v) {
        long[] l = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            l[i] = (long) v[i];
        }
        values.putIfAbsent(name, new Value(fit(shape, v.length), null, l));
    }

    /** The reference's shape when the values fill it, else a flat shape (the comparison then fails on it). */
    private static long[] fit(long[] shape, int n) {
        return dev.panopt.checkpoint.TensorInfo.numel(shape) == n ? shape.clone() : new long[] {n};
    }

    /** Writes {@code dir/cases/<caseName>/outputs.safetensors} (nothing when no value was recorded). */
    void write(Path dir, String caseName) throws IOException {
        if (values.isEmpty()) {
            return;
        }
        SafetensorsWriter w = new SafetensorsWriter().metadata("producer", "Panopt conformance check --write-outputs");
        values.forEach((name, v) -> {
            if (v.floats() != null) {
                w.addFloats(name, DType.F32, v.shape(), v.floats());
            } else {
                w.addLongs(name, DType.I64, v.shape(), v.longs());
            }
        });
        Path caseDir = Files.createDirectories(dir.resolve("cases").resolve(caseName));
        w.write(caseDir.resolve(FILE));
    }
}
