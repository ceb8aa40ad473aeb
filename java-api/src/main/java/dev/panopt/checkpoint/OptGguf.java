package dev.panopt.checkpoint;

import dev.panopt.DType;
import dev.panopt.Nullable;
import dev.panopt.OptConfig;
import dev.panopt.Quantizer;
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
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * OPT in GGUF: converts a Hugging Face OPT checkpoint into one self-contained GGUF v3 file (config,
 * tokenizer and weights), which {@link Checkpoint#open}, the model classes' {@code fromPretrained} and
 * {@link OptTokenizer#fromPretrained} read back and ggml's own reader ({@code gguf_init_from_file}) reads too.
 *
 * <p>Metadata: {@code general.architecture = "opt"}, {@code general.name}, {@code general.alignment} (32),
 * {@code general.file_type} (llama.cpp's {@code llama_ftype} of the format), {@code general.quantization_version}
 * (2, for block-quantized files); the config as {@code opt.*} keys (context length, embedding length,
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
     * llama.cpp's {@code general.file_type} ({@code llama_ftype}) of a file whose weights are mostly
     * {@code type}: F32 0, F16 1, Q4_0 2, Q4_1 3, Q8_0 7, Q5_0 8, Q5_1 9, BF16 32.
     *
     * @param type the type of the file's matrices
     * @return the file type, or empty for a type without a {@code MOSTLY_} file type of its own
     */
    public static java.util.OptionalInt fileType(DType type) {
        Objects.requireNonNull(type, "type");
        int v = switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case Q5_0 -> 8;
            case Q5_1 -> 9;
            case BF16 -> 32;
            default -> -1;
        };
        return v < 0 ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(v);
    }

    /**
     * Converts a checkpoint into one GGUF file with every weight in {@code type}. The file is written under a
     * temporary name beside {@code out} and renamed when complete, so {@code out} is never half-written.
     *
     * @param checkpoint a Hugging Face checkpoint directory (or a GGUF file, re-encoded)
     * @param out        the {@code .gguf} file to write (replaced if it exists)
     * @param type       the weight format: F32, F16 or BF16
     * @param tokenizer  the model's tokenizer, embedded so that the file is enough on its own; null for a file
     *                   without one (its users then need the tokenizer from elsewhere)
     * @param progress   called after each chunk of tensor data
     * @throws CheckpointException if the checkpoint is invalid
     * @throws IllegalArgumentException if {@code type} is not a supported format, or the tokenizer has more
     *     tokens than the model or cannot be expressed in GGUF's keys
     * @throws IOException if reading or writing fails
     */
    public static void convert(Path checkpoint, Path out, DType type, @Nullable OptTokenizer tokenizer, Progress progress)
            throws IOException {
        Objects.requireNonNull(checkpoint, "checkpoint");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(progress, "progress");
        if (type != DType.F32 && type != DType.F16 && type != DType.BF16) {
            throw new IllegalArgumentException("GGUF formats: F32, F16, BF16; not " + type);
        }
        try (Checkpoint ck = Checkpoint.open(checkpoint)) {
            ck.validateDecoder();
            OptConfig c = ck.config();
            if (tokenizer != null && tokenizer.vocabSize() > c.vocabSize()) {
                throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize()
                        + " tokens, the model's vocab_size is " + c.vocabSize());
            }
            GgufWriter w = new GgufWriter();
            w.putString(OptGgufConfig.ARCHITECTURE_KEY, OptGgufConfig.ARCHITECTURE);
            w.putString(NAME_KEY, c.extra().get("_name_or_path") instanceof String s && !s.isEmpty() ? s
                    : String.valueOf(checkpoint.toAbsolutePath().getFileName()));
            w.putUInt32(GgufFile.ALIGNMENT_KEY, GgufFile.DEFAULT_ALIGNMENT);
            w.putUInt32(FILE_TYPE_KEY, fileType(type).orElseThrow());
            if (type.isQuantized()) {
                w.putUInt32(QUANTIZATION_VERSION_KEY, QUANTIZATION_VERSION);
            }
            OptGgufConfig.write(c, w);
            if (tokenizer != null) {
                tokenizer.writeGguf(w);
            }
            List<Planned> plan = plan(ck, c, type);
            long total = 0;
            for (Planned p : plan) {
                total += p.type().bytes(p.source().numel());
            }
            long[] done = {0};
            long all = total;
            progress.update(0, all);
            for (Planned p : plan) {
                long bytes = p.type().bytes(p.source().numel());
                w.addTensor(p.name(), p.type(), p.source().shape(), bytes, o -> {
                    encode(p.source(), p.type(), o, n -> {
                        done[0] += n;
                        progress.update(done[0], all);
                    });
                });
            }
            writeAtomically(w, out);
        }
    }

    /** One tensor of the file: its GGUF name, the checkpoint tensor and the type it is stored in. */
    private record Planned(String name, Checkpoint.CheckpointTensor source, DType type) {}

    /** The decoder's tensors in layer order, then the heads present (the LM head only when untied). */
    private static List<Planned> plan(Checkpoint ck, OptConfig c, DType type) throws CheckpointException {
        List<String> names = new ArrayList<>();
        for (WeightSpec s : WeightLayout.decoderWeights(c)) {
            names.add(s.name());
        }
        if (!c.tieWordEmbeddings()) {
            names.add("lm_head.weight");
        }
        names.add("score.weight");
        names.add("qa_outputs.weight");
        names.add("qa_outputs.bias");
        List<Planned> out = new ArrayList<>();
        for (String n : names) {
            Optional<Checkpoint.CheckpointTensor> t = ck.find(n);
            if (t.isEmpty()) {
                if (n.equals("lm_head.weight")) {
                    throw new CheckpointException(ck.directory(), "tie_word_embeddings is false but there is no"
                            + " lm_head.weight");
                }
                continue; // an absent task head
            }
            out.add(new Planned(OptGgufNames.toGguf(n).orElseThrow(), t.get(), type));
        }
        java.util.Set<String> converted = new java.util.HashSet<>(names);
        for (String n : ck.names()) {
            if (!converted.contains(n)) {
                LOG.log(System.Logger.Level.INFO, "{0}: tensor {1} is not used by OPT; not converted", ck.directory(), n);
            }
        }
        return out;
    }

    /** Elements converted per step: bounds the scratch memory of a conversion to a few MB. */
    private static final long CHUNK_ELEMENTS = 1 << 20;

    /** Writes {@code t}'s values as {@code type}; reports each chunk's byte count to {@code written}. */
    private static void encode(Checkpoint.CheckpointTensor t, DType type, OutputStream out,
                               java.util.function.LongConsumer written) throws IOException {
        MemorySegment src = t.data();
        if (t.dtype() == type) {
            for (long off = 0; off < src.byteSize(); off += CHUNK_ELEMENTS) {
                long n = Math.min(CHUNK_ELEMENTS, src.byteSize() - off);
                TensorBytes.of(src.asSlice(off, n)).writeTo(out);
                written.accept(n);
            }
            return;
        }
        long[] shape = t.shape();
        long cols = shape.length == 0 ? 1 : shape[shape.length - 1];
        long rows = cols == 0 ? 0 : t.numel() / cols;
        long rowsPerChunk = Math.max(1, CHUNK_ELEMENTS / Math.max(1, cols));
        try (Arena arena = Arena.ofConfined()) {
            long chunkRows = Math.min(rows, rowsPerChunk);
            MemorySegment f32 = arena.allocate(Math.max(4, chunkRows * cols * 4), 64);
            MemorySegment enc = arena.allocate(Math.max(1, chunkRows * type.bytes(cols)), 64);
            long srcRowBytes = t.dtype().bytes(cols);
            for (long r = 0; r < rows; r += rowsPerChunk) {
                long k = Math.min(rowsPerChunk, rows - r);
                long n = k * cols;
                Quantizer.dequantize(t.dtype(), src.asSlice(r * srcRowBytes, k * srcRowBytes), n, f32.asSlice(0, n * 4));
                long bytes = k * type.bytes(cols);
                Quantizer.quantize(type, f32.asSlice(0, n * 4), k, cols, enc.asSlice(0, bytes));
                TensorBytes.of(enc.asSlice(0, bytes)).writeTo(out);
                written.accept(bytes);
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
