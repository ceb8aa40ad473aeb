package dev.panopt.cli;

import dev.panopt.DType;
import dev.panopt.LoadOptions;
import dev.panopt.LoadReport;
import dev.panopt.OptConfig;
import dev.panopt.OptForCausalLM;
import dev.panopt.OptForQuestionAnswering;
import dev.panopt.OptForSequenceClassification;
import dev.panopt.OptModel;
import dev.panopt.OptPreTrainedModel;
import dev.panopt.Quantization;
import dev.panopt.checkpoint.Checkpoint;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/**
 * {@code panopt info}: a checkpoint's config, parameter count, dtypes and memory; with
 * {@code --quantize}, the model is loaded so (as its {@code architectures} class) and each weight's
 * stored format, the fallbacks and the quantized size are listed from its {@link LoadReport}.
 */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Describe a checkpoint without running it; "
        + "with --quantize, load it so and list each weight's format and the quantized size.")
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
        Quantization q = common.quantization();
        if (!q.keepsEverything()) {
            LoadReport r = loadReport(common.modelDir(), common.loadOptions());
            out.printf(Locale.ROOT, "%s %.1f MB of weights (from %.1f MB; %.1f MB converted into memory, the rest "
                    + "memory-mapped)%n", r.quantization(), r.storedBytes() / 1e6, r.sourceBytes() / 1e6,
                    r.convertedBytes() / 1e6);
            r.parametersByType().forEach((t, n) -> out.printf(Locale.ROOT, "  %-5s      %,d parameters%n", t, n));
            List<LoadReport.TensorFormat> fb = r.fallbacks();
            out.printf(Locale.ROOT, "fallbacks    %s%n", fb.isEmpty() ? "none" : fb.size() + " (below)");
            out.print(r.table());
            out.flush();
        }
        return 0;
    }

    /** Loads the checkpoint as the class its config names (the causal LM by default) and returns the report. */
    private static LoadReport loadReport(Path dir, LoadOptions o) throws IOException {
        OptConfig c = OptConfig.load(dir);
        List<String> arch = c.architectures();
        OptPreTrainedModel m = arch.contains("OPTForSequenceClassification") ? OptForSequenceClassification.fromPretrained(dir, o)
                : arch.contains("OPTForQuestionAnswering") ? OptForQuestionAnswering.fromPretrained(dir, o)
                : arch.contains("OPTModel") ? OptModel.fromPretrained(dir, o)
                : OptForCausalLM.fromPretrained(dir, o);
        try (m) {
            return m.loadReport();
        }
    }
}
