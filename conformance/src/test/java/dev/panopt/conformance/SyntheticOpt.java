package dev.panopt.conformance;

import dev.panopt.DType;
import dev.panopt.OptConfig;
import dev.panopt.checkpoint.SafetensorsWriter;
import dev.panopt.internal.WeightLayout;
import dev.panopt.internal.WeightSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Seeded synthetic OPT checkpoints for tests: every decoder weight of a config (as
 * {@link WeightLayout} lists them) with values that are a pure function of the seed, the tensor's
 * name and the element's index (a splitmix64 hash to a uniform value), at OPT's init scales: std
 * 0.02 for matrices, LayerNorm weights 1 ± 0.05, biases std 0.01. Streamed to disk, so OPT-125m's
 * shape (125M parameters) costs no heap.
 */
final class SyntheticOpt {
    private SyntheticOpt() {}

    /** OPT-125m's configuration (facebook/opt-125m's config.json values). */
    static OptConfig opt125m() {
        return OptConfig.builder().vocabSize(50272).hiddenSize(768).numHiddenLayers(12).numAttentionHeads(12)
                .ffnDim(3072).maxPositionEmbeddings(2048).wordEmbedProjDim(768).doLayerNormBefore(true)
                .activationFunction("relu").padTokenId(1).bosTokenId(2).eosTokenId(2).torchDtype("float16")
                .tieWordEmbeddings(true).build();
    }

    /** Writes config.json and model.safetensors (weights in {@code dtype}) into {@code dir}. */
    static Path write(Path dir, OptConfig c, long seed, DType dtype) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), c.toJson());
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        for (WeightSpec s : WeightLayout.decoderWeights(c)) {
            long n = s.numel();
            double mean = s.name().endsWith("layer_norm.weight") ? 1 : 0;
            double std = s.shape().length == 2 ? 0.02 : mean == 1 ? 0.05 : 0.01;
            long key = seed ^ (s.name().hashCode() * 0x9E3779B97F4A7C15L);
            w.add("model." + s.name(), dtype, s.shape(), dtype.bytes(n), out -> {
                float[] buf = new float[1 << 15];
                for (long from = 0; from < n; from += buf.length) {
                    int len = (int) Math.min(buf.length, n - from);
                    for (int i = 0; i < len; i++) {
                        buf[i] = (float) (mean + std * Math.sqrt(3) * (2 * uniform(key, from + i) - 1));
                    }
                    byte[] bytes = SafetensorsWriter.encode(dtype, len == buf.length ? buf : java.util.Arrays.copyOf(buf, len));
                    out.write(bytes, 0, bytes.length);
                }
            });
        }
        w.write(dir.resolve("model.safetensors"));
        return dir;
    }

    /** A uniform value in [0, 1) from splitmix64 of {@code key + i}. */
    private static double uniform(long key, long i) {
        long z = key + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53;
    }
}
