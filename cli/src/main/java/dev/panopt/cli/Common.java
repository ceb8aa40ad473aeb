package dev.panopt.cli;

import dev.panopt.Isa;
import dev.panopt.LoadOptions;
import dev.panopt.SessionOptions;
import dev.panopt.OptConfig;
import dev.panopt.Quantization;
import dev.panopt.Backend;
import dev.panopt.BackendOptions;
import dev.panopt.hub.HubClient;
import dev.panopt.hub.HubOptions;
import dev.panopt.DType;
import dev.panopt.Device;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options every model command shares: which checkpoint, tokenizer, device, threads, kernels and weight formats. */
final class Common {
    @Option(names = {"-m", "--model"}, paramLabel = "DIR|FILE.gguf|ID",
            description = "Checkpoint directory (config.json + safetensors or pytorch_model.bin), a GGUF file (panopt "
                    + "convert), or a Hugging Face model id org/name[@revision] taken from the Hugging Face cache or "
                    + "downloaded into it (HF_* variables). Default: the bundled opt125m-shape-f16 checkpoint (random weights).")
    String model;

    @Option(names = "--tokenizer", paramLabel = "DIR|FILE.gguf|ID",
            description = "Directory with vocab.json + merges.txt or tokenizer.json, a GGUF file, or a Hugging Face "
                    + "model id. Default: the model's (its directory's files, or the GGUF file's), or the bundled OPT "
                    + "tokenizer when it has none.")
    String tokenizer;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Threads per parallel region; 0 = all CPUs, as in the API (default: all CPUs).")
    Integer threads;

    @Option(names = "--isa", paramLabel = "LEVEL", description = "Kernels: auto, scalar, avx2, avx512, avx512_vnni, amx, neon (default: auto).")
    String isa;

    @Option(names = "--device", paramLabel = "DEVICE",
            description = "Where to compute: cpu, or cuda[:N] for an NVIDIA GPU (default: cpu).")
    String device;

    @Option(names = "--quantize", paramLabel = "NAME",
            description = "Store the weights in llama.cpp's formats while loading: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, "
                    + "Q4_K_M, Q5_K_M, Q6_K, or convert them: F16, BF16, F32 (default: none, as the checkpoint stores them).")
    String quantize;

    @Option(names = "--compute-type", paramLabel = "TYPE",
            description = "Products' precision: f32 (exact), or bf16 to let prompts over F32/F16/BF16 weights multiply in "
                    + "bf16 where the CPU has AVX512_BF16 (faster; logits within 2^-7 of sum|x w| per product; default: f32).")
    String computeType;

    @Option(names = "--no-repack", description = "Keep every weight where the checkpoint maps it (default: block-format "
            + "weights are copied into the 8-row groups the CPU decodes faster from).")
    boolean noRepack;

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    private final Map<String, String> environment;
    private HubClient hub;
    private Path modelDir;
    private String modelLabel;

    Common() {
        this(System.getenv());
    }

    /** Options whose hub settings come from {@code environment} (the process's variables, or a test's). */
    Common(Map<String, String> environment) {
        this.environment = environment;
    }

    /** The --compute-type: F32 or BF16. */
    DType computeType() {
        return switch (computeType.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            default -> throw new IllegalArgumentException("--compute-type is f32 or bf16, not '" + computeType + "'");
        };
    }

    /** The --quantize policy ({@link Quantization#NONE} without the flag). */
    Quantization quantization() {
        return quantize == null ? Quantization.NONE : Quantization.named(quantize);
    }

    /** The Hugging Face hub client, configured by the HF_* variables, with download progress on stderr. */
    private HubClient hub() {
        if (hub == null) {
            // A command runs once per process: the client lives until the process exits.
            hub = HubClient.create(HubOptions.builder(environment)
                    .progress(new DownloadProgressBars(System.err, ProgressBar.stderrIsTerminal())).build());
        }
        return hub;
    }

    /**
     * The model directory (or GGUF file): --model as a path, else as a hub model id (resolved once), else the
     * bundled checkpoint.
     */
    Path modelDir() throws IOException {
        if (modelDir == null) {
            Path p;
            if (model == null) {
                p = home().resolve("conformance/fixtures/cases/opt125m-shape-f16");
                if (!Files.isDirectory(p)) {
                    throw new IllegalArgumentException("bundled checkpoint not found at " + p + "; pass --model DIR");
                }
            } else {
                p = resolve(model, true, "model directory not found: ");
                // a hub snapshot's directory is named by its commit: call it by the model id instead
                modelLabel = Files.exists(Path.of(model)) ? p.getFileName().toString() : model;
            }
            modelDir = p;
        }
        return modelDir;
    }

    /** A path that exists, else a hub model id's snapshot (model or tokenizer files), else an error with {@code notFound}. */
    private Path resolve(String pathOrId, boolean model, String notFound) throws IOException {
        Path p;
        try {
            p = model ? hub().resolveModel(pathOrId) : hub().resolveTokenizer(pathOrId);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(notFound + pathOrId + " (nor is it a Hugging Face model id"
                    + " org/name[@revision])");
        }
        if (!Files.isDirectory(p) && !Files.isRegularFile(p)) {
            throw new IllegalArgumentException(notFound + p);
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
            throw new IllegalArgumentException("--isa must be auto, scalar, avx2, avx512, avx512_vnni, amx or neon, not '" + isa + "'");
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
        Quantization q = quantization();
        long bytes = ProgressBar.weightBytes(dir);
        LoadOptions.Builder b = LoadOptions.builder().quantization(q).backend(backend()).repack(!noRepack);
        if (computeType != null) {
            b.sessionOptions(SessionOptions.builder().computeType(computeType()).build());
        }
        if (bytes > ProgressBar.THRESHOLD) {
            String what = q.keepsEverything() ? "loading " : "loading (" + q.name() + ") ";
            b.preload(true).progress(new ProgressBar(what + (modelLabel != null ? modelLabel : dir.getFileName()),
                    System.err,
                    ProgressBar.stderrIsTerminal()));
        }
        return b.build();
    }

    /**
     * The tokenizer: --tokenizer, else the model's own (a GGUF model file, or the model directory when it has
     * tokenizer files), else the bundled one. A directory or a GGUF file.
     */
    Path tokenizerDir() throws IOException {
        if (tokenizer != null) {
            return resolve(tokenizer, false, "tokenizer directory not found: ");
        }
        Path m = modelDir();
        if (Files.isRegularFile(m)) {
            return m;
        }
        boolean hasOwn = Files.exists(m.resolve("vocab.json")) || Files.exists(m.resolve("tokenizer.json"));
        Path dir = hasOwn ? m : home().resolve("conformance/fixtures/tokenizer");
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
    void checkTokenizerMatches(OptTokenizer tok, OptConfig config) throws IOException {
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
