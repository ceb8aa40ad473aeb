package dev.panopt.cli;

import dev.panopt.DType;
import dev.panopt.OptConfig;
import dev.panopt.checkpoint.Checkpoint;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/** {@code panopt info}: a checkpoint's config, parameter count, dtypes and memory. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Describe a checkpoint without running it.")
final class InfoCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (Checkpoint ck = Checkpoint.open(common.modelDir())) {
            ck.validateDecoder();
            OptConfig c = ck.config();
            Map<DType, long[]> byType = new TreeMap<>();
            for (String n : ck.names()) {
                var t = ck.find(n).orElseThrow();
                long[] acc = byType.computeIfAbsent(t.info().dtype(), k -> new long[2]);
                acc[0] += t.info().numel();
                acc[1] += t.info().byteSize();
            }
            out.printf(Locale.ROOT, "checkpoint   %s%n", ck.directory());
            out.printf(Locale.ROOT, "architecture %s%n", c.architectures().isEmpty() ? "OPT" : String.join(", ", c.architectures()));
            out.printf(Locale.ROOT, "layers       %d, hidden %d, heads %d (head dim %d), ffn %d%n", c.numHiddenLayers(),
                    c.hiddenSize(), c.numAttentionHeads(), c.headDim(), c.ffnDim());
            out.printf(Locale.ROOT, "vocab        %d, context %d, word_embed_proj_dim %d%n", c.vocabSize(),
                    c.maxPositionEmbeddings(), c.wordEmbedProjDim());
            out.printf(Locale.ROOT, "layer norm   %s%s, activation %s, bias %s%n",
                    c.doLayerNormBefore() ? "pre-LN" : "post-LN", c.hasFinalLayerNorm() ? " + final LN" : "",
                    c.activationFunction(), c.enableBias());
            out.printf(Locale.ROOT, "parameters   %,d%n", ck.parameterCount());
            long bytes = 0;
            for (var e : byType.entrySet()) {
                out.printf(Locale.ROOT, "  %-5s      %,d parameters, %.1f MB%n", e.getKey(), e.getValue()[0],
                        e.getValue()[1] / 1e6);
                bytes += e.getValue()[1];
            }
            out.printf(Locale.ROOT, "weights      %.1f MB (memory-mapped, not copied)%n", bytes / 1e6);
            long kvPerToken = 2L * c.numHiddenLayers() * c.hiddenSize() * Float.BYTES;
            out.printf(Locale.ROOT, "KV cache     %.1f KB per position and row (f32); %.1f MB at full context%n",
                    kvPerToken / 1e3, kvPerToken * (double) c.maxPositionEmbeddings() / 1e6);
        }
        return 0;
    }
}
