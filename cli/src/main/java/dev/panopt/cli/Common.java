package dev.panopt.cli;

import dev.panopt.Isa;
import dev.panopt.LoadOptions;
import dev.panopt.OptConfig;
import dev.panopt.Backend;
import dev.panopt.BackendOptions;
import dev.panopt.Device;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/** Options every model command shares: which checkpoint, tokenizer, device, threads and kernels. */
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
    String isa;

    @Option(names = "--device", paramLabel = "DEVICE",
            description = "Where to compute: cpu, or cuda[:N] for an NVIDIA GPU (default: cpu).")
    String device;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

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
        Device d = device == null ? Device.cpu() : Device.parse(device);
        if (d.kind() == Device.Kind.CUDA) {
            if (threads != null || isa != null) {
                throw new IllegalArgumentException("--threads and --isa set the CPU kernels; they do not apply to --device " + d);
            }
            return b.device(d).build();
        }
        if (threads != null) {
            if (threads < 0) {
                throw new IllegalArgumentException("--threads must be >= 0 (0 = all CPUs), got " + threads);
            }
            b.threads(threads);
        }
        try {
            b.isa(Isa.valueOf((isa == null ? "auto" : isa).toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--isa must be auto, scalar, avx2 or avx512, not '" + isa + "'");
        }
        return b.build();
    }

    /** The backend of this command: the device's shared one for default options, else one of its own. */
    Backend backend() {
        BackendOptions o = backendOptions();
        // A command runs once per process: its own backend lives until the process exits.
        if (o.device().kind() == Device.Kind.CUDA) {
            return Backend.shared(o.device());
        }
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
