package dev.panopt.cli;

import dev.panopt.DType;
import dev.panopt.checkpoint.GgufFile;
import dev.panopt.checkpoint.OptGguf;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
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
            description = "Weight format: F32, F16 or BF16.")
    String format;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE.gguf", required = true, description = "The GGUF file to write.")
    Path out;

    @Option(names = "--no-tokenizer",
            description = "Write no tokenizer into the file (its users then need --tokenizer), e.g. for a test checkpoint"
                    + " that has none of its own.")
    boolean noTokenizer;

    @Override
    public Integer call() throws Exception {
        DType type = parseFormat(format);
        Path model = common.modelDir();
        OptTokenizer tok = noTokenizer ? null : common.tokenizer();
        ProgressBar bar = new ProgressBar("converting " + model.getFileName(), System.err, ProgressBar.stderrIsTerminal());
        long t0 = System.nanoTime();
        OptGguf.convert(model, out, type, tok, bar::update);
        PrintWriter o = spec.commandLine().getOut();
        try (GgufFile g = GgufFile.open(out)) {
            o.printf(Locale.ROOT, "wrote %s: %s, %d tensors, %.1f MB in %.1f s%n", out, type, g.tensorNames().size(),
                    Files.size(out) / 1e6, (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }

    static DType parseFormat(String f) {
        for (DType d : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            if (d.name().equalsIgnoreCase(f)) {
                return d;
            }
        }
        throw new IllegalArgumentException("--format must be F32, F16 or BF16, not '" + f + "'");
    }
}
