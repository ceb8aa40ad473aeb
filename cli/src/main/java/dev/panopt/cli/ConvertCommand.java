package dev.panopt.cli;

import dev.panopt.DType;
import dev.panopt.Quantization;
import dev.panopt.checkpoint.GgufFile;
import dev.panopt.checkpoint.OptGguf;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code panopt convert}: a checkpoint (and its tokenizer) into one GGUF file. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a checkpoint and its tokenizer into one GGUF file (read back by --model FILE.gguf, and by ggml).")
final class ConvertCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = {"-f", "--format"}, paramLabel = "FORMAT", required = true,
            description = "A preset as llama-quantize names it (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K_M, Q5_K_M, Q6_K), "
                    + "F16, BF16 or F32 (every matrix in that type), NONE (as stored), or one of ggml's block formats "
                    + "(Q4_K, Q5_K, ...: the Q8_0 preset's tensors in that format). Biases and norms stay as stored.")
    String format;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE.gguf", required = true, description = "The GGUF file to write.")
    Path out;

    @Option(names = "--no-tokenizer",
            description = "Write no tokenizer into the file (its users then need --tokenizer), e.g. for a test checkpoint"
                    + " that has none of its own.")
    boolean noTokenizer;

    @Override
    public Integer call() throws Exception {
        if (common.quantize != null) {
            throw new IllegalArgumentException("convert stores the weights as --format says; --quantize is for loading");
        }
        Quantization q = parseFormat(format);
        Path model = common.modelDir();
        OptTokenizer tok = noTokenizer ? null : common.tokenizer();
        ProgressBar bar = new ProgressBar("converting " + model.getFileName(), System.err, ProgressBar.stderrIsTerminal());
        long t0 = System.nanoTime();
        OptGguf.convert(model, out, q, tok, bar::update);
        PrintWriter o = spec.commandLine().getOut();
        try (GgufFile g = GgufFile.open(out)) {
            Map<DType, Integer> types = new TreeMap<>();
            for (String n : g.tensorNames()) {
                types.merge(g.tensor(n).dtype(), 1, Integer::sum);
            }
            o.printf(Locale.ROOT, "wrote %s: %s, %d tensors %s, %.1f MB in %.1f s%n", out, q.name(), g.tensorNames().size(),
                    types, Files.size(out) / 1e6, (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }

    /** A preset by name, else a block format: the Q8_0 preset with each of its quantized classes in that format. */
    static Quantization parseFormat(String f) {
        try {
            return Quantization.named(f);
        } catch (IllegalArgumentException notAPreset) {
            for (DType d : DType.values()) {
                if (d.isQuantized() && d.name().equalsIgnoreCase(f.trim())) {
                    Quantization.Builder b = Quantization.builder(Quantization.Q8_0);
                    for (Quantization.TensorClass c : Quantization.TensorClass.values()) {
                        if (Quantization.Q8_0.requestedType(c, c.perLayer() ? 0 : -1, 1).isPresent()) {
                            b.type(c, d);
                        }
                    }
                    return b.build();
                }
            }
            throw new IllegalArgumentException("--format: " + notAPreset.getMessage() + ", or a block format ("
                    + java.util.Arrays.stream(DType.values()).filter(DType::isQuantized).map(Enum::name).toList() + ")");
        }
    }
}
