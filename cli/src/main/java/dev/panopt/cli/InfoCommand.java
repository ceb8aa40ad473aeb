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
import dev.panopt.checkpoint.CheckpointException;
import dev.panopt.checkpoint.GgufFile;
import dev.panopt.checkpoint.GgufType;
import dev.panopt.checkpoint.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
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
 * {@code panopt info}: a checkpoint's config, parameter count, dtypes and memory (for a GGUF file first its
 * keys and each tensor's format); with {@code --quantize}, the model is loaded so (as its
 * {@code architectures} class) and each weight's stored format, the fallbacks and the quantized size are
 * listed from its {@link LoadReport}.
 */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Describe a checkpoint without running it (a GGUF "
        + "file: also its keys and each tensor's format); with --quantize, load it so and list each weight's format and "
        + "the quantized size.")
final class InfoCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (Files.isRegularFile(common.modelDir())) {
            try (GgufFile g = GgufFile.open(common.modelDir())) {
                printGguf(out, g);
            }
        }
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
            out.printf(Locale.ROOT, "repacked     %s%n", r.repacked().isEmpty() ? "none"
                    : String.format(Locale.ROOT, "%d tensors, %.1f MB held by the model in 8-row groups (--no-repack: "
                    + "as stored)", r.repacked().size(), r.repackedBytes() / 1e6));
            List<LoadReport.TensorFormat> fb = r.fallbacks();
            out.printf(Locale.ROOT, "fallbacks    %s%n", fb.isEmpty() ? "none" : fb.size() + " (below)");
            out.print(r.table());
            out.flush();
        }
        return 0;
    }

    /** The file's layout, every key with its type and value (arrays: length and first elements), every tensor's format. */
    static void printGguf(PrintWriter out, GgufFile g) throws CheckpointException {
        out.printf(Locale.ROOT, "GGUF         v%d, alignment %d, data at byte %d; %d keys, %d tensors%n", g.version(),
                g.alignment(), g.dataOffset(), g.keys().size(), g.tensorNames().size());
        for (String key : g.keys()) {
            GgufType t = g.type(key).orElseThrow();
            String type;
            String value;
            if (t == GgufType.ARRAY) {
                GgufType e = g.arrayType(key);
                type = "ARRAY[" + e + "] x" + g.arrayLength(key);
                List<String> first = new ArrayList<>();
                switch (e) {
                    case STRING -> g.getStringArray(key).stream().limit(4).forEach(v -> first.add(quote(v)));
                    case BOOL -> {
                        boolean[] v = g.getBooleanArray(key);
                        for (int i = 0; i < Math.min(4, v.length); i++) {
                            first.add(Boolean.toString(v[i]));
                        }
                    }
                    case FLOAT32, FLOAT64 -> Arrays.stream(g.getDoubleArray(key)).limit(4).forEach(v -> first.add(Double.toString(v)));
                    default -> Arrays.stream(g.getLongArray(key)).limit(4).forEach(v -> first.add(Long.toString(v)));
                }
                value = String.join(", ", first) + (g.arrayLength(key) > first.size() ? ", ..." : "");
            } else {
                type = t.toString();
                value = switch (t) {
                    case STRING -> quote(g.getString(key));
                    case BOOL -> Boolean.toString(g.getBoolean(key));
                    case FLOAT32 -> Float.toString((float) g.getDouble(key));
                    case FLOAT64 -> Double.toString(g.getDouble(key));
                    default -> Long.toString(g.getLong(key));
                };
            }
            out.printf(Locale.ROOT, "  %-40s %-22s %s%n", key, type, value);
        }
        out.println("tensors");
        for (String name : g.tensorNames()) {
            TensorInfo t = g.tensor(name);
            out.printf(Locale.ROOT, "  %-40s %-5s %-16s %10.3f MB%n", name, t.dtype(), Arrays.toString(t.shape()),
                    t.byteSize() / 1e6);
        }
    }

    private static String quote(String s) {
        String q = s.length() > 60 ? s.substring(0, 60) + "..." : s;
        return "\"" + q.replace("\n", "\\n") + "\"";
    }

    /** Loads the checkpoint as the class its config names (the causal LM by default) and returns the report. */
    private static LoadReport loadReport(Path dir, LoadOptions o) throws IOException {
        OptConfig c;
        try (Checkpoint ck = Checkpoint.open(dir)) { // a directory's config.json, or a GGUF file's keys
            c = ck.config();
        }
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
