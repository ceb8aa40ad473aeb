package dev.panopt.bench;

import dev.panopt.DType;
import dev.panopt.OptConfig;
import dev.panopt.Quantizer;
import dev.panopt.checkpoint.GgufFile;
import dev.panopt.checkpoint.GgufType;
import dev.panopt.checkpoint.GgufWriter;
import dev.panopt.checkpoint.OptGguf;
import dev.panopt.checkpoint.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Generates the synthetic checkpoints on demand into a cache directory (system property
 * {@code panopt.bench.cache}, else {@code ~/.cache/panopt/bench}); nothing is committed. Each
 * artifact is written to a temporary name and renamed, so an interrupted run never leaves a
 * half-written file that a later run would trust.
 *
 * <ul>
 *   <li>{@link #opt}: an OPT checkpoint directory (config.json + model.safetensors) in F16/F32/BF16;
 *   <li>{@link #gguf}: a GPT-2 GGUF file for llama.cpp (F16, Q8_0 or Q4_0 matmuls and LM head; F32
 *       norms, biases and positions), with a byte-level vocabulary of the shape's size;
 *   <li>{@link #gpt2Dir}: a Hugging Face GPT-2 directory in F32 for Jlama (config.json,
 *       tokenizer.json, model.safetensors).
 * </ul>
 */
public final class Checkpoints {
    /** Bump when the generator changes, so stale cached files are not reused. */
    private static final String VERSION = "v2";

    private Checkpoints() {}

    public static Path cacheDir() {
        String p = System.getProperty("panopt.bench.cache");
        Path dir = p != null && !p.isBlank() ? Path.of(p) : Path.of(System.getProperty("user.home"), ".cache", "panopt", "bench");
        return dir.toAbsolutePath();
    }

    // ---------------------------------------------------------------- OPT (Panopt)

    public static synchronized Path opt(ModelShape s, String format) {
        DType dtype = DType.valueOf(format);
        Path dir = cacheDir().resolve("opt").resolve(s.name() + "-" + format.toLowerCase() + "-" + VERSION);
        return produce(dir, tmp -> writeOpt(s, dtype, tmp));
    }

    /**
     * The F16 checkpoint of {@code s} converted to GGUF in {@code format} by the library's own converter
     * ({@link OptGguf#convert}), with {@link PanoptBench#quantization}'s policy: a plain ggml format puts every
     * matrix in it (as the GPT-2 twins), a preset is Panopt's llama.cpp-style policy. No tokenizer inside.
     */
    public static synchronized Path optGguf(ModelShape s, String format) {
        Path file = cacheDir().resolve("gguf").resolve(s.name() + "-opt-" + format.toLowerCase(java.util.Locale.ROOT) + "-" + VERSION + ".gguf");
        return produce(file, tmp -> OptGguf.convert(opt(s, "F16"), tmp, PanoptBench.quantization(format), null, (done, total) -> { }));
    }

    static OptConfig optConfig(ModelShape s) {
        return OptConfig.builder()
                .vocabSize(s.vocab()).hiddenSize(s.hidden()).numHiddenLayers(s.layers()).ffnDim(s.ffn())
                .numAttentionHeads(s.heads()).maxPositionEmbeddings(s.maxPositions())
                .doLayerNormBefore(s.preLayerNorm()).wordEmbedProjDim(s.wordEmbedProjDim())
                .activationFunction("relu").padTokenId(1).bosTokenId(2).eosTokenId(2)
                .torchDtype("float16").tieWordEmbeddings(true).build();
    }

    private static void writeOpt(ModelShape s, DType dtype, Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), optConfig(s).toJson());
        Ggml enc = switch (dtype) {
            case F32 -> Ggml.F32;
            case F16 -> Ggml.F16;
            default -> throw new IllegalArgumentException("synthetic OPT checkpoints in F32 or F16, not " + dtype);
        };
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt")
                .metadata("generator", "panopt-bench synthetic " + VERSION);
        String p = "model.decoder.";
        int h = s.hidden(), f = s.ffn(), e = s.wordEmbedProjDim();
        add(w, dtype, enc, p + "embed_tokens.weight", "tok_embd", Weights.Kind.EMBEDDING, s.vocab(), e);
        add(w, dtype, enc, p + "embed_positions.weight", "pos_embd", Weights.Kind.EMBEDDING, s.maxPositions() + 2, h);
        if (s.hasProjection()) {
            add(w, dtype, enc, p + "project_in.weight", "project_in", Weights.Kind.LINEAR, h, e);
            add(w, dtype, enc, p + "project_out.weight", "project_out", Weights.Kind.LINEAR, e, h);
        }
        if (s.preLayerNorm()) {
            add(w, dtype, enc, p + "final_layer_norm.weight", "out_norm.w", Weights.Kind.NORM_GAIN, h);
            add(w, dtype, enc, p + "final_layer_norm.bias", "out_norm.b", Weights.Kind.BIAS, h);
        }
        for (int l = 0; l < s.layers(); l++) {
            String lp = p + "layers." + l + ".";
            String src = "blk." + l + ".";
            for (String proj : new String[] {"q", "k", "v"}) {
                add(w, dtype, enc, lp + "self_attn." + proj + "_proj.weight", src + proj, Weights.Kind.LINEAR, h, h);
                add(w, dtype, enc, lp + "self_attn." + proj + "_proj.bias", src + proj + ".b", Weights.Kind.BIAS, h);
            }
            add(w, dtype, enc, lp + "self_attn.out_proj.weight", src + "o", Weights.Kind.LINEAR, h, h);
            add(w, dtype, enc, lp + "self_attn.out_proj.bias", src + "o.b", Weights.Kind.BIAS, h);
            add(w, dtype, enc, lp + "self_attn_layer_norm.weight", src + "ln1.w", Weights.Kind.NORM_GAIN, h);
            add(w, dtype, enc, lp + "self_attn_layer_norm.bias", src + "ln1.b", Weights.Kind.BIAS, h);
            add(w, dtype, enc, lp + "fc1.weight", src + "up", Weights.Kind.LINEAR, f, h);
            add(w, dtype, enc, lp + "fc1.bias", src + "up.b", Weights.Kind.BIAS, f);
            add(w, dtype, enc, lp + "fc2.weight", src + "down", Weights.Kind.LINEAR, h, f);
            add(w, dtype, enc, lp + "fc2.bias", src + "down.b", Weights.Kind.BIAS, h);
            add(w, dtype, enc, lp + "final_layer_norm.weight", src + "ln2.w", Weights.Kind.NORM_GAIN, h);
            add(w, dtype, enc, lp + "final_layer_norm.bias", src + "ln2.b", Weights.Kind.BIAS, h);
        }
        w.write(dir.resolve("model.safetensors"));
    }

    private static void add(SafetensorsWriter w, DType dtype, Ggml enc, String name, String source, Weights.Kind kind,
                            long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        final long total = n;
        w.add(name, dtype, shape, dtype.bytes(total), out -> {
            float[] buf = new float[1 << 16];
            byte[] b = new byte[buf.length * 4];
            for (long from = 0; from < total; from += buf.length) {
                int len = (int) Math.min(buf.length, total - from);
                Weights.fill(source, kind, from, buf, len);
                out.write(b, 0, enc.encode(buf, len, b, 0));
            }
        });
    }

    // ---------------------------------------------------------------- GPT-2 GGUF (llama.cpp)

    public static synchronized Path gguf(ModelShape s, Ggml type) {
        return gguf(s, type.name());
    }

    /** The GPT-2 twin in {@code format}: a {@link Ggml} name, or {@code Q4_K_M} (llama.cpp's mix, {@link TwinTypes}). */
    public static synchronized Path gguf(ModelShape s, String format) {
        String f = format.toUpperCase(java.util.Locale.ROOT);
        TwinTypes.of(f, "output", -1, s.layers()); // rejects unknown names before producing anything
        Path file = cacheDir().resolve("gguf").resolve(s.name() + "-gpt2-" + f.toLowerCase(java.util.Locale.ROOT) + "-" + VERSION + ".gguf");
        return produce(file, tmp -> writeGguf(s, f, tmp));
    }

    private static void writeGguf(ModelShape s, String format, Path file) throws IOException {
        int h = s.hidden(), f = s.ffn(), n = s.layers();
        String[] tokens = vocabulary(s.vocab());
        long[] types = new long[tokens.length];
        java.util.Arrays.fill(types, 1); // LLAMA_TOKEN_TYPE_NORMAL
        GgufWriter g = new GgufWriter()
                .putString("general.architecture", "gpt2")
                .putString(OptGguf.NAME_KEY, "panopt-bench synthetic " + s.name() + " GPT-2 twin")
                .putUInt32(GgufFile.ALIGNMENT_KEY, GgufFile.DEFAULT_ALIGNMENT)
                .putUInt32(OptGguf.FILE_TYPE_KEY, TwinTypes.fileType(format));
        if (TwinTypes.of(format, "output", -1, n).isQuantized()) {
            g.putUInt32(OptGguf.QUANTIZATION_VERSION_KEY, OptGguf.QUANTIZATION_VERSION);
        }
        g.putUInt32("gpt2.context_length", s.maxPositions())
                .putUInt32("gpt2.embedding_length", h)
                .putUInt32("gpt2.feed_forward_length", f)
                .putUInt32("gpt2.block_count", s.layers())
                .putUInt32("gpt2.attention.head_count", s.heads())
                .putFloat32("gpt2.attention.layer_norm_epsilon", 1e-5f)
                .putString("tokenizer.ggml.model", "gpt2")
                .putString("tokenizer.ggml.pre", "gpt-2")
                .putStringArray("tokenizer.ggml.tokens", java.util.List.of(tokens))
                .putIntegerArray("tokenizer.ggml.token_type", GgufType.INT32, types)
                .putStringArray("tokenizer.ggml.merges", java.util.List.of("t o"))
                .putUInt32("tokenizer.ggml.bos_token_id", 2)
                .putUInt32("tokenizer.ggml.eos_token_id", 2)
                .putUInt32("tokenizer.ggml.padding_token_id", 1)
                .putBool("tokenizer.ggml.add_bos_token", false);
        // Token embedding and the LM head (a copy, llama.cpp's GPT-2 loader wants output.weight) are
        // the same values, in the matmul format, as OPT's tied head. Shapes are outermost first ([rows, row
        // length]); GGUF stores them innermost first, as ggml's ne.
        tensor(g, "token_embd.weight", TwinTypes.of(format, "token_embd", -1, n), "tok_embd", Weights.Kind.EMBEDDING, s.vocab(), h);
        tensor(g, "position_embd.weight", DType.F32, "pos_embd", Weights.Kind.EMBEDDING, s.maxPositions(), h);
        tensor(g, "output_norm.weight", DType.F32, "out_norm.w", Weights.Kind.NORM_GAIN, h);
        tensor(g, "output_norm.bias", DType.F32, "out_norm.b", Weights.Kind.BIAS, h);
        tensor(g, "output.weight", TwinTypes.of(format, "output", -1, n), "tok_embd", Weights.Kind.EMBEDDING, s.vocab(), h);
        for (int l = 0; l < n; l++) {
            String b = "blk." + l + ".";
            tensor(g, b + "attn_norm.weight", DType.F32, b + "ln1.w", Weights.Kind.NORM_GAIN, h);
            tensor(g, b + "attn_norm.bias", DType.F32, b + "ln1.b", Weights.Kind.BIAS, h);
            tensor(g, b + "attn_qkv.weight", TwinTypes.of(format, "attn_qkv", l, n), b + "qkv", Weights.Kind.LINEAR, 3L * h, h);
            tensor(g, b + "attn_qkv.bias", DType.F32, b + "qkv.b", Weights.Kind.BIAS, 3L * h);
            tensor(g, b + "attn_output.weight", TwinTypes.of(format, "attn_output", l, n), b + "o", Weights.Kind.LINEAR, h, h);
            tensor(g, b + "attn_output.bias", DType.F32, b + "o.b", Weights.Kind.BIAS, h);
            tensor(g, b + "ffn_norm.weight", DType.F32, b + "ln2.w", Weights.Kind.NORM_GAIN, h);
            tensor(g, b + "ffn_norm.bias", DType.F32, b + "ln2.b", Weights.Kind.BIAS, h);
            tensor(g, b + "ffn_up.weight", TwinTypes.of(format, "ffn_up", l, n), b + "up", Weights.Kind.LINEAR, f, h);
            tensor(g, b + "ffn_up.bias", DType.F32, b + "up.b", Weights.Kind.BIAS, f);
            tensor(g, b + "ffn_down.weight", TwinTypes.of(format, "ffn_down", l, n), b + "down", Weights.Kind.LINEAR, h, f);
            tensor(g, b + "ffn_down.bias", DType.F32, b + "down.b", Weights.Kind.BIAS, h);
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        g.write(file);
    }

    /** Adds a synthetic tensor ({@code shape} outermost first), generated and encoded while the file is written. */
    private static void tensor(GgufWriter g, String name, DType type, String source, Weights.Kind kind, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        final long total = n;
        g.addTensor(name, type, shape, type.bytes(total), out -> {
            // whole blocks per chunk: a multiple of every block size (32, 256)
            float[] buf = new float[1 << 16];
            for (long from = 0; from < total; from += buf.length) {
                int len = (int) Math.min(buf.length, total - from);
                Weights.fill(source, kind, from, buf, len);
                byte[] enc = Quantizer.quantize(type, len == buf.length ? buf : java.util.Arrays.copyOf(buf, len));
                out.write(enc, 0, enc.length);
            }
        });
    }

    /**
     * A byte-level BPE vocabulary of {@code n} distinct entries: GPT-2's 256 byte symbols first (so
     * any text tokenizes and every id detokenizes to valid bytes), then {@code tok<i>}.
     */
    static String[] vocabulary(int n) {
        String[] v = new String[n];
        int[] bytes = gpt2ByteSymbols();
        for (int i = 0; i < n; i++) {
            v[i] = i < 256 ? new String(Character.toChars(bytes[i])) : "tok" + i;
        }
        return v;
    }

    /** GPT-2's bytes_to_unicode(): the code point standing for each byte 0..255. */
    private static int[] gpt2ByteSymbols() {
        int[] map = new int[256];
        boolean[] direct = new boolean[256];
        for (int b = '!'; b <= '~'; b++) direct[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) direct[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) direct[b] = true;
        int next = 256;
        for (int b = 0; b < 256; b++) {
            map[b] = direct[b] ? b : next++;
        }
        return map;
    }

    // ---------------------------------------------------------------- GPT-2 safetensors (Jlama)

    public static synchronized Path gpt2Dir(ModelShape s) {
        Path dir = cacheDir().resolve("gpt2").resolve(s.name() + "-f32-" + VERSION);
        return produce(dir, tmp -> writeGpt2(s, tmp));
    }

    private static void writeGpt2(ModelShape s, Path dir) throws IOException {
        if (s.ffn() != 4 * s.hidden()) {
            throw new IllegalArgumentException("Jlama's GPT-2 has ffn = 4 · hidden");
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), """
                {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_ctx": %d, "n_positions": %d,
                 "n_embd": %d, "n_head": %d, "n_layer": %d, "n_inner": null, "layer_norm_epsilon": 1e-05,
                 "vocab_size": %d, "bos_token_id": 2, "eos_token_id": 2, "activation_function": "gelu_new"}
                """.formatted(s.maxPositions(), s.maxPositions(), s.hidden(), s.heads(), s.layers(), s.vocab()));
        StringBuilder tj = new StringBuilder("{\"version\": \"1.0\", \"added_tokens\": [], \"model\": {\"type\": \"BPE\", \"vocab\": {");
        String[] vocab = vocabulary(s.vocab());
        for (int i = 0; i < vocab.length; i++) {
            if (i > 0) tj.append(", ");
            tj.append('"').append(jsonEscape(vocab[i])).append("\": ").append(i);
        }
        tj.append("}, \"merges\": [\"t o\"]}}");
        Files.writeString(dir.resolve("tokenizer.json"), tj, StandardCharsets.UTF_8);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        DType d = DType.F32;
        Ggml e = Ggml.F32;
        int h = s.hidden(), f = s.ffn();
        add(w, d, e, "wte.weight", "tok_embd", Weights.Kind.EMBEDDING, s.vocab(), h);
        add(w, d, e, "wpe.weight", "pos_embd", Weights.Kind.EMBEDDING, s.maxPositions(), h);
        add(w, d, e, "ln_f.weight", "out_norm.w", Weights.Kind.NORM_GAIN, h);
        add(w, d, e, "ln_f.bias", "out_norm.b", Weights.Kind.BIAS, h);
        for (int l = 0; l < s.layers(); l++) {
            String p = "h." + l + ".";
            String b = "blk." + l + ".";
            // Conv1D weights are [in, out].
            add(w, d, e, p + "ln_1.weight", b + "ln1.w", Weights.Kind.NORM_GAIN, h);
            add(w, d, e, p + "ln_1.bias", b + "ln1.b", Weights.Kind.BIAS, h);
            add(w, d, e, p + "attn.c_attn.weight", b + "qkv", Weights.Kind.LINEAR, h, 3L * h);
            add(w, d, e, p + "attn.c_attn.bias", b + "qkv.b", Weights.Kind.BIAS, 3L * h);
            add(w, d, e, p + "attn.c_proj.weight", b + "o", Weights.Kind.LINEAR, h, h);
            add(w, d, e, p + "attn.c_proj.bias", b + "o.b", Weights.Kind.BIAS, h);
            add(w, d, e, p + "ln_2.weight", b + "ln2.w", Weights.Kind.NORM_GAIN, h);
            add(w, d, e, p + "ln_2.bias", b + "ln2.b", Weights.Kind.BIAS, h);
            add(w, d, e, p + "mlp.c_fc.weight", b + "up", Weights.Kind.LINEAR, h, f);
            add(w, d, e, p + "mlp.c_fc.bias", b + "up.b", Weights.Kind.BIAS, f);
            add(w, d, e, p + "mlp.c_proj.weight", b + "down", Weights.Kind.LINEAR, f, h);
            add(w, d, e, p + "mlp.c_proj.bias", b + "down.b", Weights.Kind.BIAS, h);
        }
        w.write(dir.resolve("model.safetensors"));
    }

    private static String jsonEscape(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }

    // ---------------------------------------------------------------- plumbing

    private interface Producer {
        void write(Path tmp) throws IOException;
    }

    private static Path produce(Path target, Producer p) {
        if (Files.exists(target)) {
            return target;
        }
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            Files.createDirectories(target.getParent());
            deleteTree(tmp);
            long t0 = System.nanoTime();
            p.write(tmp);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                deleteTree(tmp); // another JVM won the race; its copy is identical
            }
            System.err.printf("[bench] generated %s in %.1f s%n", target, (System.nanoTime() - t0) / 1e9);
            return target;
        } catch (IOException e) {
            try {
                deleteTree(tmp);
            } catch (IOException ignored) {
                // best effort
            }
            throw new UncheckedIOException("generating " + target, e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    /** Generates every artifact the given shapes need: {@code java ... Checkpoints opt-125m ...}. */
    public static void main(String[] args) {
        for (String a : args) {
            ModelShape s = ModelShape.of(a);
            opt(s, "F16");
            for (Ggml t : new Ggml[] {Ggml.F16, Ggml.Q8_0, Ggml.Q4_0}) {
                gguf(s, t);
            }
        }
    }
}
