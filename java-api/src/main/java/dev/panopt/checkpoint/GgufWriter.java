package dev.panopt.checkpoint;

import dev.panopt.DType;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes GGUF version 3 files as ggml's own writer lays them out: the header, the key/value pairs in the
 * order they were added, the tensor infos (dimensions innermost first, ggml type, offset), padding to the
 * alignment, then each tensor's data padded to the alignment, in the order the tensors were added, so
 * every offset is the previous tensor's offset plus its padded size (which ggml's reader requires).
 * The alignment is the UINT32 value of {@link GgufFile#ALIGNMENT_KEY} when one was put, else 32.
 *
 * <p>This writer is generic: it knows GGUF, not OPT ({@link OptGguf} maps an OPT checkpoint onto it).
 * Tensor data is streamed to disk from a {@link MemorySegment}, an array or a
 * {@link SafetensorsWriter.TensorData} callback (the same callback type as the safetensors writer's), so
 * multi-gigabyte files never sit in memory.
 *
 * <p>Ownership: the writer keeps references to the arrays, segments and callbacks given to it (no copy)
 * until {@link #write} returns. Thread-safety: not thread-safe; use from one thread.
 */
public final class GgufWriter {
    private record Value(GgufType type, GgufType elementType, Object payload) {}

    private record Tensor(String name, DType dtype, long[] shape, long byteSize, SafetensorsWriter.TensorData data) {}

    private final Map<String, Value> kv = new LinkedHashMap<>();
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    /** An empty writer. */
    public GgufWriter() {}

    // ---------------------------------------------------------------- metadata

    private GgufWriter put(String key, Value v) {
        Objects.requireNonNull(key, "key");
        int len = utf8(key, "key").length;
        if (len == 0 || len > GgufFile.MAX_KEY_BYTES) {
            throw new IllegalArgumentException("key \"" + key + "\" has " + len + " UTF-8 bytes; GGUF takes 1.."
                    + GgufFile.MAX_KEY_BYTES);
        }
        if (key.equals(GgufFile.ALIGNMENT_KEY)) {
            if (v.type() != GgufType.UINT32 || Long.bitCount((Long) v.payload()) != 1) {
                throw new IllegalArgumentException(key + " must be a UINT32 power of two, got " + v.type() + " "
                        + v.payload());
            }
        }
        if (kv.putIfAbsent(key, v) != null) {
            throw new IllegalArgumentException("key " + key + " was already put");
        }
        return this;
    }

    /**
     * Adds a STRING value.
     *
     * @param key   a key not yet put (1..65535 UTF-8 bytes)
     * @param value the string (no unpaired surrogates)
     * @return this writer
     * @throws IllegalArgumentException if the key is taken or invalid, or the value is not encodable as UTF-8
     */
    public GgufWriter putString(String key, String value) {
        Objects.requireNonNull(value, "value");
        return put(key, new Value(GgufType.STRING, null, utf8(value, "value of " + key)));
    }

    /**
     * Adds a BOOL value.
     *
     * @param key   a key not yet put
     * @param value the value
     * @return this writer
     * @throws IllegalArgumentException if the key is taken or invalid
     */
    public GgufWriter putBool(String key, boolean value) {
        return put(key, new Value(GgufType.BOOL, null, value));
    }

    /**
     * Adds a FLOAT32 value.
     *
     * @param key   a key not yet put
     * @param value the value
     * @return this writer
     * @throws IllegalArgumentException if the key is taken or invalid
     */
    public GgufWriter putFloat32(String key, float value) {
        return put(key, new Value(GgufType.FLOAT32, null, value));
    }

    /**
     * Adds a FLOAT64 value.
     *
     * @param key   a key not yet put
     * @param value the value
     * @return this writer
     * @throws IllegalArgumentException if the key is taken or invalid
     */
    public GgufWriter putFloat64(String key, double value) {
        return put(key, new Value(GgufType.FLOAT64, null, value));
    }

    /**
     * Adds an integer value of one of the eight integer types.
     *
     * @param key   a key not yet put
     * @param type  an integer type
     * @param value the value, within the type's range (UINT64: 0..{@link Long#MAX_VALUE})
     * @return this writer
     * @throws IllegalArgumentException if the type is not an integer type, the value is out of its range, or
     *     the key is taken or invalid
     */
    public GgufWriter putInteger(String key, GgufType type, long value) {
        checkInteger(type, value, key);
        return put(key, new Value(type, null, value));
    }

    /**
     * Adds a UINT32 value (the type of GGUF's counts and ids).
     *
     * @param key   a key not yet put
     * @param value the value, 0..2^32-1
     * @return this writer
     * @throws IllegalArgumentException if the value is out of range or the key is taken or invalid
     */
    public GgufWriter putUInt32(String key, long value) {
        return putInteger(key, GgufType.UINT32, value);
    }

    /**
     * Adds an array of strings.
     *
     * @param key    a key not yet put
     * @param values the strings (copied)
     * @return this writer
     * @throws IllegalArgumentException if a string is not encodable as UTF-8 or the key is taken or invalid
     */
    public GgufWriter putStringArray(String key, List<String> values) {
        Objects.requireNonNull(values, "values");
        List<byte[]> encoded = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            encoded.add(utf8(Objects.requireNonNull(values.get(i), "values[" + i + "]"), key + "[" + i + "]"));
        }
        return put(key, new Value(GgufType.ARRAY, GgufType.STRING, encoded));
    }

    /**
     * Adds an array of integers of one integer type.
     *
     * @param key         a key not yet put
     * @param elementType an integer type
     * @param values      the values (copied), each within the type's range
     * @return this writer
     * @throws IllegalArgumentException if the type is not an integer type, a value is out of range, or the key
     *     is taken or invalid
     */
    public GgufWriter putIntegerArray(String key, GgufType elementType, long[] values) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(elementType, "elementType");
        Objects.requireNonNull(values, "values");
        for (long v : values) {
            checkInteger(elementType, v, key);
        }
        return put(key, new Value(GgufType.ARRAY, elementType, values.clone()));
    }

    private static void checkInteger(GgufType type, long value, String key) {
        Objects.requireNonNull(type, "type");
        if (!type.isInteger()) {
            throw new IllegalArgumentException(key + ": " + type + " is not an integer type");
        }
        if (value < type.min() || value > type.max()) {
            throw new IllegalArgumentException(key + ": " + value + " is out of the range of " + type);
        }
    }

    private static byte[] utf8(String s, String what) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).encode(java.nio.CharBuffer.wrap(s));
            return Arrays.copyOfRange(b.array(), b.arrayOffset() + b.position(), b.arrayOffset() + b.limit());
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(what + " is not encodable as UTF-8 (an unpaired surrogate?)", e);
        }
    }

    // ---------------------------------------------------------------- tensors

    /**
     * Adds a tensor whose {@code byteSize} bytes {@code data} produces while the file is written.
     *
     * @param name     a name not yet added, 1..63 UTF-8 bytes (ggml's limit)
     * @param dtype    a type ggml has ({@link DType#ggmlType()})
     * @param shape    1 to 4 dimensions, outermost first (copied; written innermost first, as GGUF stores them);
     *                 the innermost a whole number of the type's blocks
     * @param byteSize {@code dtype.bytes(numel(shape))}
     * @param data     writes exactly those bytes (ggml's row-major layout)
     * @return this writer
     * @throws IllegalArgumentException if the name is taken or too long, ggml has no such type, the shape does
     *     not fit it, or the size is wrong
     */
    public GgufWriter addTensor(String name, DType dtype, long[] shape, long byteSize, SafetensorsWriter.TensorData data) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(data, "data");
        long[] s = Objects.requireNonNull(shape, "shape").clone();
        int len = utf8(name, "tensor name").length;
        if (len == 0 || len > GgufFile.MAX_TENSOR_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name \"" + name + "\" has " + len + " UTF-8 bytes; ggml takes 1.."
                    + GgufFile.MAX_TENSOR_NAME_BYTES);
        }
        if (dtype.ggmlType().isEmpty()) {
            throw new IllegalArgumentException("tensor " + name + ": ggml has no type for " + dtype);
        }
        if (s.length < 1 || s.length > GgufFile.MAX_DIMS) {
            throw new IllegalArgumentException("tensor " + name + ": " + s.length + " dimensions, GGUF takes 1.."
                    + GgufFile.MAX_DIMS);
        }
        long inner = s[s.length - 1];
        if (inner < 0 || inner % dtype.blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + ": rows of " + inner + " elements are not a whole number"
                    + " of " + dtype + " blocks of " + dtype.blockSize());
        }
        long expected = dtype.bytes(TensorInfo.numel(s));
        if (byteSize != expected) {
            throw new IllegalArgumentException("tensor " + name + ": " + byteSize + " bytes given, shape "
                    + Arrays.toString(s) + " of " + dtype + " needs " + expected);
        }
        if (tensors.putIfAbsent(name, new Tensor(name, dtype, s, byteSize, data)) != null) {
            throw new IllegalArgumentException("duplicate tensor name " + name);
        }
        return this;
    }

    /**
     * Adds a tensor whose bytes are the contents of {@code data}, streamed when written.
     *
     * @param name  a name not yet added, 1..63 UTF-8 bytes
     * @param dtype a type ggml has
     * @param shape 1 to 4 dimensions, outermost first (copied)
     * @param data  exactly {@code dtype.bytes(numel(shape))} bytes; must stay alive until {@link #write} returns
     * @return this writer
     * @throws IllegalArgumentException as {@link #addTensor(String, DType, long[], long, SafetensorsWriter.TensorData)}
     */
    public GgufWriter addTensor(String name, DType dtype, long[] shape, MemorySegment data) {
        Objects.requireNonNull(data, "data");
        return addTensor(name, dtype, shape, data.byteSize(), TensorBytes.of(data));
    }

    /**
     * Adds a tensor whose bytes are {@code data}.
     *
     * @param name  a name not yet added, 1..63 UTF-8 bytes
     * @param dtype a type ggml has
     * @param shape 1 to 4 dimensions, outermost first (copied)
     * @param data  exactly {@code dtype.bytes(numel(shape))} bytes; kept, not copied, until {@link #write}
     * @return this writer
     * @throws IllegalArgumentException as {@link #addTensor(String, DType, long[], long, SafetensorsWriter.TensorData)}
     */
    public GgufWriter addTensor(String name, DType dtype, long[] shape, byte[] data) {
        Objects.requireNonNull(data, "data");
        return addTensor(name, dtype, shape, data.length, out -> out.write(data));
    }

    /** {@return the alignment the file will have: the value of {@code general.alignment}, else 32} */
    public long alignment() {
        Value v = kv.get(GgufFile.ALIGNMENT_KEY);
        return v == null ? GgufFile.DEFAULT_ALIGNMENT : (Long) v.payload();
    }

    // ---------------------------------------------------------------- writing

    /**
     * Writes the file (replacing an existing one).
     *
     * @param file the file to write
     * @throws IOException if writing fails or a data callback writes the wrong number of bytes
     */
    public void write(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        long align = alignment();
        try (Le out = new Le(new BufferedOutputStream(Files.newOutputStream(file), 1 << 20))) {
            out.bytes("GGUF".getBytes(StandardCharsets.US_ASCII));
            out.u32(3);
            out.u64(tensors.size());
            out.u64(kv.size());
            for (Map.Entry<String, Value> e : kv.entrySet()) {
                out.string(utf8(e.getKey(), "key"));
                Value v = e.getValue();
                out.u32(v.type().id());
                if (v.type() == GgufType.ARRAY) {
                    out.u32(v.elementType().id());
                    if (v.elementType() == GgufType.STRING) {
                        @SuppressWarnings("unchecked")
                        List<byte[]> strings = (List<byte[]>) v.payload();
                        out.u64(strings.size());
                        for (byte[] s : strings) {
                            out.string(s);
                        }
                    } else {
                        long[] values = (long[]) v.payload();
                        out.u64(values.length);
                        for (long x : values) {
                            out.fixed(v.elementType(), x);
                        }
                    }
                } else {
                    scalar(out, v);
                }
            }
            long offset = 0;
            for (Tensor t : tensors.values()) {
                out.string(utf8(t.name(), "tensor name"));
                out.u32(t.shape().length);
                for (int d = t.shape().length - 1; d >= 0; d--) {
                    out.u64(t.shape()[d]);
                }
                out.u32(t.dtype().ggmlType().getAsInt());
                out.u64(offset);
                offset += pad(t.byteSize(), align);
            }
            if (!tensors.isEmpty()) {
                out.padTo(align);
            }
            for (Tensor t : tensors.values()) {
                out.tensor(t, file);
                out.padTo(align);
            }
        }
    }

    private static void scalar(Le out, Value v) throws IOException {
        switch (v.type()) {
            case STRING -> out.string((byte[]) v.payload());
            case BOOL -> out.fixed(GgufType.UINT8, (Boolean) v.payload() ? 1 : 0);
            case FLOAT32 -> out.fixed(GgufType.UINT32, Float.floatToRawIntBits((Float) v.payload()));
            case FLOAT64 -> out.fixed(GgufType.UINT64, Double.doubleToRawLongBits((Double) v.payload()));
            default -> out.fixed(v.type(), (Long) v.payload());
        }
    }

    private static long pad(long n, long align) {
        return (n + align - 1) / align * align;
    }

    /** Little-endian output that tracks its position (for the alignment padding). */
    private static final class Le implements AutoCloseable {
        private final OutputStream os;
        private final byte[] b8 = new byte[8];
        private long pos;

        Le(OutputStream os) {
            this.os = os;
        }

        void fixed(GgufType type, long v) throws IOException {
            int n = type.size();
            for (int i = 0; i < n; i++) {
                b8[i] = (byte) (v >>> (8 * i));
            }
            os.write(b8, 0, n);
            pos += n;
        }

        void u32(long v) throws IOException {
            fixed(GgufType.UINT32, v);
        }

        void u64(long v) throws IOException {
            fixed(GgufType.UINT64, v);
        }

        void string(byte[] utf8) throws IOException {
            u64(utf8.length);
            bytes(utf8);
        }

        void bytes(byte[] b) throws IOException {
            os.write(b);
            pos += b.length;
        }

        void tensor(Tensor t, Path file) throws IOException {
            TensorBytes.write(os, t.data(), t.byteSize(), file, t.name());
            pos += t.byteSize();
        }

        void padTo(long align) throws IOException {
            int n = (int) (pad(pos, align) - pos);
            if (n > 0) {
                bytes(new byte[n]);
            }
        }

        @Override
        public void close() throws IOException {
            os.close();
        }
    }
}
