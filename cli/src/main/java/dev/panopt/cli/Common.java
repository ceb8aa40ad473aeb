package dev.panopt.cli;

import dev.panopt.Isa;
import dev.panopt.LoadOptions;
import dev.panopt.OptConfig;
import dev.panopt.Backend;
import dev.panopt.BackendOptions;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/** Options every model command shares: which checkpoint, tokenizer, threads and kernels. */
final class Common {
    @Option(names = {"-m", "--model"}, paramLabel = "DIR|FILE.gguf",
            description = "Checkpoint directory (config.json + safetensors or pytorch_model.bin) or a GGUF file "
                    + "(panopt convert). Default: the bundled opt125m-shape-f16 checkpoint (random weights).")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "DIR|FILE.gguf",
            description = "Directory with vocab.json + merges.txt or tokenizer.json, or a GGUF file. Default: the "
                    + "model's own (its directory's files, or the GGUF file's), else the bundled OPT tokenizer.")
    Path tokenizer;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Threads per parallel region; 0 = all CPUs, as in the API (default: all CPUs).")
    Integer threads;

    @Option(names = "--isa", paramLabel = "LEVEL", description = "Kernels: auto, scalar, avx2, avx512 (default: auto).")
    String isa = "auto";

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    /** The checkpoint: a directory, or a GGUF file. */
    Path modelDir() {
        Path p = model != null ? model : home().resolve("conformance/fixtures/cases/opt125m-shape-f16");
        if (!Files.isDirectory(p) && !Files.isRegularFile(p)) {
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
        long bytes = ProgressBar.weightBytes(dir);
        LoadOptions.Builder b = LoadOptions.builder().backend(backend());
        if (bytes > ProgressBar.THRESHOLD) {
            b.preload(true).progress(new ProgressBar("loading " + dir.getFileName(), System.err,
                    ProgressBar.stderrIsTerminal()));
        }
        return b.build();
    }

    /**
     * The tokenizer: --tokenizer, else the model's own (a GGUF model file, or the model directory when it has
     * tokenizer files), else the bundled one. A directory or a GGUF file.
     */
    Path tokenizerDir() {
        Path dir = tokenizer;
        if (dir == null) {
            Path m = modelDir();
            boolean hasOwn = Files.isRegularFile(m) || Files.exists(m.resolve("vocab.json"))
                    || Files.exists(m.resolve("tokenizer.json"));
            dir = hasOwn ? m : home().resolve("conformance/fixtures/tokenizer");
        }
        if (!Files.isDirectory(dir) && !Files.isRegularFile(dir)) {
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
            Path file = Files.isRegularFile(dir) ? dir
                    : Files.exists(dir.resolve("vocab.json")) ? dir.resolve("vocab.json") : dir.resolve("tokenizer.json");
            Path m = modelDir();
            throw new IllegalArgumentException("the tokenizer and the model do not match: " + file + " has "
                    + tok.vocabSize() + " tokens, but " + (Files.isRegularFile(m) ? m : m.resolve("config.json"))
                    + " has vocab_size "
                    + config.vocabSize() + " (pass --tokenizer DIR with the model's own tokenizer)");
        }
    }

    static Path home() {
        String h = System.getProperty("panopt.home");
        return h == null ? Path.of("") : Path.of(h);
    }
}
