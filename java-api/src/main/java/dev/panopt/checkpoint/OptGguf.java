package dev.panopt.checkpoint;

import dev.panopt.DType;
import dev.panopt.Nullable;
import dev.panopt.OptConfig;
import dev.panopt.Quantization;
import dev.panopt.bindings.PanoptH;
import dev.panopt.internal.WeightConversion;
import dev.panopt.internal.WeightLayout;
import dev.panopt.internal.WeightSpec;
import dev.panopt.tokenizer.OptTokenizer;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.LongConsumer;

/**
 * OPT in GGUF: converts a Hugging Face OPT checkpoint into one self-contained GGUF v3 file (config,
 * tokenizer and weights), which {@link Checkpoint#open}, the model classes' {@code fromPretrained} and
 * {@link OptTokenizer#fromPretrained} read back and ggml's own reader ({@code gguf_init_from_file}) reads too.
 *
 * <p>Metadata: {@code general.architecture = "opt"}, {@code general.name}, {@code general.alignment} (32),
 * {@code general.file_type} (llama.cpp's {@code llama_ftype} of the preset, when it has one),
 * {@code general.quantization_version} (2, for files with block-quantized weights); the config as {@code opt.*} keys (context length, embedding length,
 * block count, feed-forward length, head count, LayerNorm epsilon, vocab size, word_embed_proj_dim, pre/post-LN,
 * final-LN, bias and affine flags, activation, tied embeddings, special token ids, init_std, id2label,
 * problem_type); the tokenizer as {@code tokenizer.ggml.*} keys ({@link OptTokenizer#writeGguf}).
 *
 * <p>Tensor names follow ggml's gguf-py where it has one ({@code token_embd}, {@code position_embd},
 * {@code output_norm}, {@code output}, {@code blk.N.attn_q/attn_k/attn_v/attn_output/attn_norm/ffn_up/ffn_down/ffn_norm});
 * OPT's own parts keep Hugging Face's names ({@code project_in}, {@code project_out}, the task heads
 * {@code score} and {@code qa_outputs}); see {@link #ggufName} and the README's table. {@code position_embd}
 * has {@code context_length + 2} rows (OPT offsets positions by 2). A tied LM head
 * ({@code tie_word_embeddings}) is not stored: it is {@code token_embd}.
 *
 * <p>Weights: each stored in the type a {@link Quantization} gives it (F32/F16/BF16 or one of ggml's block
 * formats, byte for byte ggml's), exactly as loading the checkpoint with that policy stores it; a file's weights
 * load from its mapping without a conversion or a copy.
 *
 * <p>Thread-safety: stateless; {@link #convert} may run concurrently for different output files.
 */
public final class OptGguf {
    private static final System.Logger LOG = System.getLogger(OptGguf.class.getName());

    /** {@code general.name}: the model's name ({@code _name_or_path} of config.json, else the directory name). */
    public static final String NAME_KEY = "general.name";
    /** {@code general.file_type}: llama.cpp's {@code llama_ftype} (1 = mostly F16, 2 = mostly Q4_0, ...). */
    public static final String FILE_TYPE_KEY = "general.file_type";
    /** {@code general.quantization_version}: the version of ggml's block formats (2), for quantized files. */
    public static final String QUANTIZATION_VERSION_KEY = "general.quantization_version";
    /** The block-format version ggml's {@code GGML_QNT_VERSION} names (2 since May 2023). */
    public static final int QUANTIZATION_VERSION = 2;

    private OptGguf() {}

    /** Receives conversion progress: bytes of tensor data written so far, of the total. */
    @FunctionalInterface
    public interface Progress {
        /**
         * Reports progress; called on the converting thread.
         *
         * @param doneBytes  bytes of tensor data written, from 0 up to {@code totalBytes}
         * @param totalBytes bytes of all tensor data of the file
         */
        void update(long doneBytes, long totalBytes);
    }

    /**
     * The GGUF name of a tensor.
     *
     * @param hfName a Hugging Face name without {@code model.}, e.g. {@code decoder.layers.3.fc1.weight}
     * @return the GGUF name ({@code blk.3.ffn_up.weight}), or empty for a tensor the mapping does not know
     */
    public static Optional<String> ggufName(String hfName) {
        return OptGgufNames.toGguf(Objects.requireNonNull(hfName, "hfName"));
    }

    /**
     * The Hugging Face name of a GGUF tensor name (the inverse of {@link #ggufName}).
     *
     * @param ggufName a GGUF name, e.g. {@code blk.3.ffn_up.weight}
     * @return the Hugging Face name without {@code model.}, or empty for a name the mapping does not know
     */
    public static Optional<String> hfName(String ggufName) {
        return OptGgufNames.toHf(Objects.requireNonNull(ggufName, "ggufName"));
    }

    /**
     * llama.cpp's {@code general.file_type} ({@code llama_ftype}) of each preset: the file type
     * {@code llama-quantize} writes for it.
     */
    private static final Map<String, Integer> FILE_TYPES = Map.ofEntries(Map.entry("F32", 0), Map.entry("F16", 1),
            Map.entry("Q4_0", 2), Map.entry("Q4_1", 3), Map.entry("Q8_0", 7), Map.entry("Q5_0", 8), Map.entry("Q5_1", 9),
            Map.entry("Q4_K_M", 15), Map.entry("Q5_K_M", 17), Map.entry("Q6_K", 18), Map.entry("BF16", 32));

    /**
     * llama.cpp's {@code general.file_type} ({@code llama_ftype}) of a file whose matrices are mostly {@code type}:
     * F32 0, F16 1, Q4_0 2, Q4_1 3, Q8_0 7, Q5_0 8, Q5_1 9, Q6_K 18, BF16 32.
     *
     * @param type the type of the file's matrices
     * @return the file type, or empty for a type without a {@code MOSTLY_} file type of its own (Q4_K and Q5_K
     *     exist only as the _S/_M mixes)
     */
    public static OptionalInt fileType(DType type) {
        Integer v = FILE_TYPES.get(Objects.requireNonNull(type, "type").name());
        return v == null ? OptionalInt.empty() : OptionalInt.of(v);
    }

    /**
     * llama.cpp's {@code general.file_type} of a file written with a preset: the above for the uniform ones,
     * 15 for Q4_K_M, 17 for Q5_K_M.
     *
     * @param quantization a policy
     * @return the file type, or empty for {@link Quantization#NONE} (the stored types decide) and for policies
     *     that are no preset of llama.cpp's
     */
    public static OptionalInt fileType(Quantization quantization) {
        Integer v = FILE_TYPES.get(Objects.requireNonNull(quantization, "quantization").name());
        return v == null ? OptionalInt.empty() : OptionalInt.of(v);
    }

    /**
     * Converts a checkpoint into one GGUF file, each weight stored as {@code quantization} stores it when a model is
     * loaded with {@link dev.panopt.LoadOptions.Builder#quantization} (the same bytes: loading the file then gives
     * the same numbers as loading the checkpoint with that policy). A tied token embedding is stored once, as the
     * LM head (llama.cpp's {@code token_embd} of a tied model), unless the checkpoint has a task head
     * ({@code score}, {@code qa_outputs}), whose models do not tie it. The file is written under a temporary name
     * beside {@code out} and renamed when complete, so {@code out} is never half-written. The conversion runs on the
     * calling thread.
     *
     * @param checkpoint   a Hugging Face checkpoint directory (or a GGUF file, re-encoded)
     * @param out          the {@code .gguf} file to write (replaced if it exists)
     * @param quantization the policy: a preset ({@link Quantization#Q4_K_M}, {@link Quantization#F16}, ...),
     *                     {@link Quantization#NONE} for the stored types, or one built from a preset
     * @param tokenizer    the model's tokenizer, embedded so that the file is enough on its own; null for a file
     *                     without one (its users then need the tokenizer from elsewhere)
     * @param progress     called after each chunk of tensor data
     * @throws CheckpointException if the checkpoint is invalid
     * @throws IllegalArgumentException if the tokenizer has more tokens than the model or cannot be expressed in
     *     GGUF's keys, or a value is beyond F16's range for an F16 weight (naming it)
     * @throws IOException if reading or writing fails
     */
    public static void convert(Path checkpoint, Path out, Quantization quantization, @Nullable OptTokenizer tokenizer,
                               Progress progress) throws IOException {
        Objects.requireNonNull(checkpoint, "checkpoint");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(quantization, "quantization");
        Objects.requireNonNull(progress, "progress");
        try (Checkpoint ck = Checkpoint.open(checkpoint)) {
            ck.validateDecoder();
            OptConfig c = ck.config();
            if (tokenizer != null && tokenizer.vocabSize() > c.vocabSize()) {
                throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize()
                        + " tokens, the model's vocab_size is " + c.vocabSize());
            }
            List<Planned> plan = plan(ck, c, quantization);
            GgufWriter w = new GgufWriter();
            w.putString(OptGgufConfig.ARCHITECTURE_KEY, OptGgufConfig.ARCHITECTURE);
            w.putString(NAME_KEY, c.extra().get("_name_or_path") instanceof String s && !s.isEmpty() ? s
                    : String.valueOf(checkpoint.toAbsolutePath().getFileName()));
            w.putUInt32(GgufFile.ALIGNMENT_KEY, GgufFile.DEFAULT_ALIGNMENT);
            OptionalInt fileType = quantization.keepsEverything() ? fileType(matrixType(plan)) : fileType(quantization);
            if (fileType.isPresent()) {
                w.putUInt32(FILE_TYPE_KEY, fileType.getAsInt());
            }
            if (plan.stream().anyMatch(p -> p.type().isQuantized())) {
                w.putUInt32(QUANTIZATION_VERSION_KEY, QUANTIZATION_VERSION);
            }
            OptGgufConfig.write(c, w);
            if (tokenizer != null) {
                tokenizer.writeGguf(w);
            }
            long total = 0;
            for (Planned p : plan) {
                total += p.type().bytes(p.source().numel());
            }
            long[] done = {0};
            long all = total;
            progress.update(0, all);
            for (Planned p : plan) {
                long bytes = p.type().bytes(p.source().numel());
                w.addTensor(p.name(), p.type(), p.source().shape(), bytes, o -> encode(p.source(), p.type(), o, n -> {
                    done[0] += n;
                    progress.update(done[0], all);
                }));
            }
            writeAtomically(w, out);
        }
    }

    /** One tensor of the file: its GGUF name, the checkpoint tensor and the type it is stored in. */
    private record Planned(String name, Checkpoint.CheckpointTensor source, DType type) {}

    /** The type of the first layer's q_proj: what the file's matrices mostly are. */
    private static DType matrixType(List<Planned> plan) {
        for (Planned p : plan) {
            if (p.name().equals("blk.0.attn_q.weight")) {
                return p.type();
            }
        }
        throw new IllegalStateException("no blk.0.attn_q.weight planned");
    }

    /**
     * The decoder's tensors in layer order, then the heads present (the LM head only when untied), each with the
     * type {@code q} stores it in, decided as the loader decides it.
     */
    private static List<Planned> plan(Checkpoint ck, OptConfig c, Quantization q) throws CheckpointException {
        boolean taskHead = ck.find("score.weight").isPresent() || ck.find("qa_outputs.weight").isPresent();
        boolean tiedHead = c.tieWordEmbeddings() && !taskHead;
        List<WeightSpec> specs = new ArrayList<>(WeightLayout.decoderWeights(c));
        List<String> heads = new ArrayList<>();
        if (!c.tieWordEmbeddings()) {
            heads.add("lm_head.weight");
        }
        heads.addAll(List.of("score.weight", "qa_outputs.weight", "qa_outputs.bias"));
        List<Planned> out = new ArrayList<>();
        Set<String> converted = new HashSet<>();
        for (WeightSpec s : specs) {
            Optional<Quantization.TensorClass> cls = s.kind() == PanoptH.T_EMBED_TOKENS && tiedHead
                    ? Optional.of(Quantization.TensorClass.LM_HEAD) : Quantization.TensorClass.of(s.name());
            out.add(planned(ck.require(s.name(), s.shape()), cls, s.layer(), q, c));
            converted.add(s.name());
        }
        for (String n : heads) {
            Optional<Checkpoint.CheckpointTensor> t = ck.find(n);
            if (t.isEmpty()) {
                if (n.equals("lm_head.weight")) {
                    throw new CheckpointException(ck.directory(), "tie_word_embeddings is false but there is no"
                            + " lm_head.weight");
                }
                continue; // an absent task head
            }
            out.add(planned(t.get(), Quantization.TensorClass.of(n), -1, q, c));
            converted.add(n);
        }
        for (String n : ck.names()) {
            if (!converted.contains(n)) {
                LOG.log(System.Logger.Level.INFO, "{0}: tensor {1} is not used by OPT; not converted", ck.directory(), n);
            }
        }
        return out;
    }

    private static Planned planned(Checkpoint.CheckpointTensor t, Optional<Quantization.TensorClass> cls, int layer,
                                   Quantization q, OptConfig c) {
        List<Long> shape = new ArrayList<>();
        for (long d : t.shape()) {
            shape.add(d);
        }
        DType type = WeightConversion.storedType(q, cls, t.dtype(), shape, layer, c.numHiddenLayers());
        return new Planned(OptGgufNames.toGguf(t.name()).orElseThrow(), t, type);
    }

    /** f32 elements converted per step: bounds the scratch memory of a conversion to a few MB. */
    private static final long CHUNK_ELEMENTS = 1 << 18;

    /** Writes {@code t}'s values as {@code type}; reports each chunk's byte count to {@code written}. */
    private static void encode(Checkpoint.CheckpointTensor t, DType type, OutputStream out, LongConsumer written)
            throws IOException {
        MemorySegment src = t.data();
        if (t.dtype() == type) {
            for (long off = 0; off < src.byteSize(); off += 4 * CHUNK_ELEMENTS) {
                long n = Math.min(4 * CHUNK_ELEMENTS, src.byteSize() - off);
                TensorBytes.of(src.asSlice(off, n)).writeTo(out);
                written.accept(n);
            }
            return;
        }
        long[] shape = t.shape();
        long cols = shape[shape.length - 1];
        long rows = t.numel() / cols;
        long rowsPerChunk = Math.max(1, CHUNK_ELEMENTS / cols);
        long chunkRows = Math.min(rows, rowsPerChunk);
        long srcRow = t.dtype().bytes(cols);
        long dstRow = type.bytes(cols);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment srcCopy = arena.allocate(chunkRows * srcRow, 64);
            MemorySegment f32 = arena.allocate(chunkRows * cols * Float.BYTES, 64);
            MemorySegment enc = arena.allocate(chunkRows * dstRow, 64);
            for (long r = 0; r < rows; r += rowsPerChunk) {
                long k = Math.min(rowsPerChunk, rows - r);
                MemorySegment dst = enc.asSlice(0, k * dstRow);
                WeightConversion.convertRows(t.name(), t.dtype(), src.asSlice(r * srcRow, k * srcRow), type, dst, r, k,
                        cols, srcCopy, f32);
                TensorBytes.of(dst).writeTo(out);
                written.accept(dst.byteSize());
            }
        }
    }

    private static void writeAtomically(GgufWriter w, Path out) throws IOException {
        Path abs = out.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            w.write(tmp);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
