package dev.panopt.cli;

import dev.panopt.Isa;
import dev.panopt.LoadOptions;
import dev.panopt.OptConfig;
import dev.panopt.Quantization;
import dev.panopt.Backend;
import dev.panopt.BackendOptions;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/** Options every model command shares: which checkpoint, tokenizer, threads, kernels and weight formats. */
final class Common {
    @Option(names = {"-m", "--model"}, paramLabel = "DIR",
            description = "Checkpoint directory (config.json + safetensors or pytorch_model.bin). "
                    + "Default: the bundled opt125m-shape-f16 checkpoint (random weights).")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "Directory with vocab.json + merges.txt or tokenizer.json. Default: the model directory, "
                    + "or the bundled OPT tokenizer when it has none.")
    Path tokenizer;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Threads per parallel region; 0 = all CPUs, as in the API (default: all CPUs).")
    Integer threads;

    @Option(names = "--isa", paramLabel = "LEVEL", description = "Kernels: auto, scalar, avx2, avx512 (default: auto).")
    String isa = "auto";

    @Option(names = "--quantize", paramLabel = "NAME",
            description = "Store the weights in llama.cpp's formats while loading: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, "
                    + "Q4_K_M, Q5_K_M, Q6_K, or convert them: F16, BF16, F32 (default: none, as the checkpoint stores them).")
    String quantize;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    /** The --quantize policy ({@link Quantization#NONE} without the flag). */
    Quantization quantization() {
        return quantize == null ? Quantization.NONE : Quantization.named(quantize);
    }

    Path modelDir() {
        Path p = model != null ? model : home().resolve("conformance/fixtures/cases/opt125m-shape-f16");
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException(model != null ? "model directory not found: " + p
                    : "bundled checkpoint not found at " + p + "; pass --model DIR");
        }
        return p;
    }

    boolean bundledModel() {
        return model == null;
    }

    BackendOptions backendOptions() {
        BackendOptions.Builder b = BackendOptions.builder();
        if (threads != null) {
            if (threads < 0) {
                throw new IllegalArgumentException("--threads must be >= 0 (0 = all CPUs), got " + threads);
            }
            b.threads(threads);
        }
        try {
            b.isa(Isa.valueOf(isa.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--isa must be auto, scalar, avx2 or avx512, not '" + isa + "'");
        }
        return b.build();
    }

    /** The backend of this command: the shared one for default options, else one of its own. */
    Backend backend() {
        BackendOptions o = backendOptions();
        // A command runs once per process: its own backend lives until the process exits.
        return o.equals(BackendOptions.DEFAULT) ? Backend.shared() : Backend.create(o);
    }

    LoadOptions loadOptions() throws IOException {
        Path dir = modelDir();
        Quantization q = quantization();
        long bytes = ProgressBar.weightBytes(dir);
        LoadOptions.Builder b = LoadOptions.builder().quantization(q).backend(backend());
        if (bytes > ProgressBar.THRESHOLD) {
            String what = q.keepsEverything() ? "loading " : "loading (" + q.name() + ") ";
            b.preload(true).progress(new ProgressBar(what + dir.getFileName(), System.err,
                    ProgressBar.stderrIsTerminal()));
        }
        return b.build();
    }

    /** The tokenizer directory: --tokenizer, else the model directory when it has tokenizer files, else the bundled one. */
    Path tokenizerDir() {
        Path dir = tokenizer;
        if (dir == null) {
            Path m = modelDir();
            boolean hasOwn = Files.exists(m.resolve("vocab.json")) || Files.exists(m.resolve("tokenizer.json"));
            dir = hasOwn ? m : home().resolve("conformance/fixtures/tokenizer");
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("tokenizer directory not found: " + dir);
        }
        return dir;
    }

    OptTokenizer tokenizer() throws IOException {
        return OptTokenizer.fromPretrained(tokenizerDir());
    }

    /**
     * Fails, naming both files and both sizes, when the tokenizer can produce ids the model does not
     * have (e.g. the bundled 50265-token tokenizer with a 1000-token test checkpoint).
     */
    void checkTokenizerMatches(OptTokenizer tok, OptConfig config) {
        if (tok.vocabSize() > config.vocabSize()) {
            Path dir = tokenizerDir();
            Path file = Files.exists(dir.resolve("vocab.json")) ? dir.resolve("vocab.json") : dir.resolve("tokenizer.json");
            throw new IllegalArgumentException("the tokenizer and the model do not match: " + file + " has "
                    + tok.vocabSize() + " tokens, but " + modelDir().resolve("config.json") + " has vocab_size "
                    + config.vocabSize() + " (pass --tokenizer DIR with the model's own tokenizer)");
        }
    }

    static Path home() {
        String h = System.getProperty("panopt.home");
        return h == null ? Path.of("") : Path.of(h);
    }
}
