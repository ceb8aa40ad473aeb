package dev.panopt.checkpoint;

import dev.panopt.DType;
import dev.panopt.internal.Json;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Writes safetensors files the way Hugging Face's implementation does: header JSON padded with
 * spaces to a multiple of 8, {@code __metadata__} first when there is any, tensors in sorted name
 * order, data contiguous. Tensor data is streamed to disk, so multi-gigabyte synthetic checkpoints
 * can be written from a {@link MemorySegment} or a {@link TensorData} callback without a giant array.
 *
 * <p>Ownership: the writer keeps references to the byte arrays and segments given to it (no copy)
 * until {@link #write} returns; the caller must keep segments alive until then.
 *
 * <p>Thread-safety: not thread-safe; use from one thread.
 */
public final class SafetensorsWriter {
    /** Produces a tensor's bytes. It must write exactly {@code byteSize} bytes, little-endian. */
    @FunctionalInterface
    public interface TensorData {
        /**
         * Writes the tensor's bytes. Called once, from {@link SafetensorsWriter#write}.
         *
         * @param out where to write them; closing it has no effect
         * @throws IOException if producing or writing the bytes fails
         */
        void writeTo(OutputStream out) throws IOException;
    }

    private record Entry(DType dtype, long[] shape, long byteSize, TensorData data) {}

    private final TreeMap<String, Entry> tensors = new TreeMap<>();
    private final LinkedHashMap<String, String> metadata = new LinkedHashMap<>();

    /** An empty writer. */
    public SafetensorsWriter() {}

    /**
     * Adds a {@code __metadata__} entry (safetensors metadata maps strings to strings).
     *
     * @param key   the entry's key; replaces an earlier entry of that key
     * @param value its value
     * @return this writer
     * @throws NullPointerException if {@code key} or {@code value} is null
     */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
        return this;
    }

    /**
     * Adds a tensor whose bytes are {@code data} (little-endian).
     *
     * @param name  the tensor name; not {@code "__metadata__"} nor one already added
     * @param dtype the element type
     * @param shape the dimensions (copied); {@code []} for a scalar
     * @param data  exactly {@code dtype.bytes(numel(shape))} bytes; kept, not copied, until {@link #write}
     * @return this writer
     * @throws IllegalArgumentException if the size does not match the shape or the name is reserved or taken
     */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, byte[] data) {
        Objects.requireNonNull(data, "data");
        return add(name, dtype, shape, data.length, out -> out.write(data));
    }

    /**
     * Adds a tensor whose bytes are the contents of {@code data}, streamed in chunks when written.
     *
     * @param name  the tensor name; not {@code "__metadata__"} nor one already added
     * @param dtype the element type
     * @param shape the dimensions (copied); {@code []} for a scalar
     * @param data  exactly {@code dtype.bytes(numel(shape))} bytes; must stay alive until {@link #write}
     *              returns
     * @return this writer
     * @throws IllegalArgumentException if the size does not match the shape or the name is reserved or taken
     */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, MemorySegment data) {
        Objects.requireNonNull(data, "data");
        return add(name, dtype, shape, data.byteSize(), TensorBytes.of(data));
    }

    /**
     * Adds a tensor whose {@code byteSize} bytes are produced by {@code data} while the file is written.
     *
     * @param name     the tensor name; not {@code "__metadata__"} nor one already added
     * @param dtype    the element type
     * @param shape    the dimensions (copied); {@code []} for a scalar
     * @param byteSize the tensor's size in bytes
     * @param data     the callback that writes those bytes
     * @return this writer
     * @throws IllegalArgumentException if {@code byteSize} is not {@code dtype.bytes(numel(shape))}
     *         or the name is taken
     */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, long byteSize, TensorData data) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(data, "data");
        if (name.equals("__metadata__")) {
            throw new IllegalArgumentException("\"__metadata__\" is reserved");
        }
        long[] s = shape.clone();
        long expected = dtype.bytes(TensorInfo.numel(s));
        if (byteSize != expected) {
            throw new IllegalArgumentException("tensor " + name + ": " + byteSize + " bytes given, shape "
                    + java.util.Arrays.toString(s) + " of " + dtype + " needs " + expected);
        }
        if (tensors.putIfAbsent(name, new Entry(dtype, s, byteSize, data)) != null) {
            throw new IllegalArgumentException("duplicate tensor name " + name);
        }
        return this;
    }

    /**
     * Adds a floating-point tensor from {@code float} values, encoded as {@code dtype} (F32, F16,
     * BF16 with round-to-nearest-even, or F64).
     *
     * @param name   the tensor name; not {@code "__metadata__"} nor one already added
     * @param dtype  a floating-point type
     * @param shape  the dimensions (copied); their product must be {@code values.length}
     * @param values the elements, row-major
     * @return this writer
     * @throws IllegalArgumentException if {@code dtype} is not floating-point, the shape does not match or the
     *         name is reserved or taken
     */
    public SafetensorsWriter addFloats(String name, DType dtype, long[] shape, float[] values) {
        if (!dtype.isFloatingPoint() || dtype.isQuantized()) {
            throw new IllegalArgumentException("addFloats needs F64, F32, F16 or BF16, got " + dtype);
        }
        return add(name, dtype, shape, encode(dtype, values));
    }

    /**
     * Adds an integer tensor from {@code long} values, encoded as {@code dtype} (I64, I32, I16, I8, U8, BOOL).
     * Each value is truncated to the type's width (two's complement), without a range check.
     *
     * @param name   the tensor name; not {@code "__metadata__"} nor one already added
     * @param dtype  an integer or boolean type
     * @param shape  the dimensions (copied); their product must be {@code values.length}
     * @param values the elements, row-major
     * @return this writer
     * @throws IllegalArgumentException if {@code dtype} is floating-point, the shape does not match or the
     *         name is reserved or taken
     */
    public SafetensorsWriter addLongs(String name, DType dtype, long[] shape, long[] values) {
        if (dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("addLongs needs an integer dtype, got " + dtype);
        }
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(dtype.bytes(values.length))).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            switch (dtype) {
                case I64 -> b.putLong(v);
                case I32 -> b.putInt((int) v);
                case I16 -> b.putShort((short) v);
                default -> b.put((byte) v);
            }
        }
        return add(name, dtype, shape, b.array());
    }

    /**
     * Encodes floats as little-endian bytes of {@code dtype} (a floating-point type); BF16 rounds to
     * nearest even.
     *
     * @param dtype  F32, F64, F16 or BF16
     * @param values the values
     * @return {@code dtype.bytes(values.length)} bytes
     * @throws IllegalArgumentException if {@code dtype} is not floating-point
     */
    public static byte[] encode(DType dtype, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(dtype.bytes(values.length))).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case F32 -> b.putFloat(v);
                case F64 -> b.putDouble(v);
                case F16 -> b.putShort(Float.floatToFloat16(v));
                case BF16 -> b.putShort(toBf16(v));
                default -> throw new IllegalArgumentException("not a floating-point dtype: " + dtype);
            }
        }
        return b.array();
    }

    private static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) ((bits >>> 16) | 0x40); // keep it a (quiet) NaN after truncation
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** The header bytes (length prefix not included) for the tensors added so far. */
    byte[] headerBytes() {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put("__metadata__", new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            Entry t = e.getValue();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", t.dtype.safetensorsName());
            List<Object> shape = new ArrayList<>();
            for (long d : t.shape) {
                shape.add(d);
            }
            info.put("shape", shape);
            info.put("data_offsets", List.of(offset, offset + t.byteSize));
            offset += t.byteSize;
            header.put(e.getKey(), info);
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        byte[] out = java.util.Arrays.copyOf(json, padded);
        java.util.Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /**
     * Writes the file (replacing an existing one).
     *
     * @param file the file to write
     * @throws IOException if writing fails or a {@link TensorData} callback writes the wrong number of bytes
     */
    public void write(Path file) throws IOException {
        byte[] header = headerBytes();
        try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            byte[] len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array();
            raw.write(len);
            raw.write(header);
            for (Map.Entry<String, Entry> e : tensors.entrySet()) {
                Entry t = e.getValue();
                TensorBytes.write(raw, t.data, t.byteSize, file, e.getKey());
            }
        }
    }
}
