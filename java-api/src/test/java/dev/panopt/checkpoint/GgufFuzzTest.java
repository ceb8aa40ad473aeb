package dev.panopt.checkpoint;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.panopt.fuzz.Fuzz;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzzes the GGUF reader: {@link GgufFile#open} and every getter, {@link Checkpoint#open} of a {@code .gguf}
 * file (the OPT config keys and tensor names) with {@link Checkpoint#validateDecoder()}, and
 * {@link OptTokenizer#fromPretrained} of the file (the {@code tokenizer.ggml.*} keys). Each either succeeds or
 * throws a {@link CheckpointException}; a file that opens is self-consistent (every tensor inside the file,
 * of its size, aligned; every value readable by its type).
 */
class GgufFuzzTest {
    @FuzzTest
    @DictionaryEntries({"GGUF", "general.alignment", "general.architecture", "opt", "gpt2", "gpt-2",
            "opt.block_count", "opt.embedding_length", "opt.attention.head_count", "opt.vocab_size",
            "tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges", "tokenizer.ggml.model",
            "token_embd.weight", "blk.0.attn_q.weight", "\u0003\u0000\u0000\u0000", "\u0009\u0000\u0000\u0000",
            "\u0008\u0000\u0000\u0000", "\u0020\u0000\u0000\u0000"})
    void ggufFile(byte[] data) throws IOException {
        Path file = Fuzz.file("model.gguf", data);
        Fuzz.expect(data.length, () -> {
            try (GgufFile g = GgufFile.open(file)) {
                check(g, Files.size(file));
            }
        }, CheckpointException.class);
        Fuzz.expect(data.length, () -> {
            try (Checkpoint c = Checkpoint.open(file)) {
                c.config();
                for (String name : c.names()) {
                    Checkpoint.CheckpointTensor t = c.find(name).orElseThrow();
                    if (t.data().byteSize() != t.info().byteSize()) {
                        throw new AssertionError(name);
                    }
                }
                c.parameterCount();
                c.validateDecoder();
            }
        }, CheckpointException.class);
        Fuzz.expect(data.length, () -> OptTokenizer.fromPretrained(file).encode("Hello world, <pad></s> é"),
                CheckpointException.class);
    }

    /** Reads every value by its type and every tensor's bytes; checks offsets, sizes and alignment. */
    static void check(GgufFile g, long fileSize) throws CheckpointException {
        for (String key : g.keys()) {
            GgufType t = g.type(key).orElseThrow();
            switch (t) {
                case STRING -> g.getString(key);
                case BOOL -> g.getBoolean(key);
                case FLOAT32, FLOAT64 -> g.getDouble(key);
                case ARRAY -> {
                    GgufType e = g.arrayType(key);
                    long n = g.arrayLength(key);
                    long got = switch (e) {
                        case STRING -> g.getStringArray(key).size();
                        case BOOL -> g.getBooleanArray(key).length;
                        case FLOAT32, FLOAT64 -> g.getDoubleArray(key).length;
                        default -> g.getLongArray(key).length;
                    };
                    if (got != n) {
                        throw new AssertionError(key + ": " + got + " of " + n);
                    }
                }
                default -> g.getLong(key);
            }
        }
        for (String name : g.tensorNames()) {
            TensorInfo t = g.tensor(name);
            MemorySegment seg = g.data(name);
            if (seg.byteSize() != t.byteSize() || t.byteSize() != t.dtype().bytes(t.numel())) {
                throw new AssertionError(name + ": " + seg.byteSize() + " bytes for " + t);
            }
            if (t.offset() < g.dataOffset() || t.offset() + t.byteSize() > fileSize
                    || (t.offset() - g.dataOffset()) % g.alignment() != 0) {
                throw new AssertionError(name + " lies outside the data section or is misaligned: " + t);
            }
            if (t.byteSize() > 0) {
                seg.get(ValueLayout.JAVA_BYTE, t.byteSize() - 1);
            }
        }
    }
}
