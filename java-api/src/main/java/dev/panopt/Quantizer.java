package dev.panopt;

import dev.panopt.bindings.Native;
import dev.panopt.bindings.panopt_dequantize;
import dev.panopt.bindings.panopt_quantize;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * The native library's reference conversions between f32 and its weight types: for ggml's block
 * formats ({@link DType#Q8_0} ... {@link DType#Q6_K}) the same bytes as ggml's
 * {@code quantize_row_*_ref}, so a tensor quantized here equals one quantized by llama.cpp's tools.
 *
 * <p>Thread-safety: stateless; every method may be called from any number of threads at once (on
 * disjoint destination memory).
 */
public final class Quantizer {
    private Quantizer() {}

    /**
     * Quantizes {@code rows} rows of {@code cols} f32 values.
     *
     * @param type the target type; a native weight type ({@link DType#isNative()})
     * @param src  {@code rows * cols} floats, row-major (native byte order), any alignment
     * @param rows the row count
     * @param cols the row length; a multiple of {@code type.blockSize()}
     * @param dst  receives exactly {@code rows * type.bytes(cols)} bytes
     * @throws IllegalArgumentException if the sizes do not fit the type or the segments
     * @throws UnsupportedOperationException if the type has no conversion in this build
     */
    public static void quantize(DType type, MemorySegment src, long rows, long cols, MemorySegment dst) {
        Objects.requireNonNull(src, "src");
        Objects.requireNonNull(dst, "dst");
        checkType(type);
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative shape " + rows + " x " + cols);
        }
        long need = Math.multiplyExact(Math.multiplyExact(rows, cols), 4L);
        if (src.byteSize() != need) {
            throw new IllegalArgumentException("src has " + src.byteSize() + " bytes, " + rows + " x " + cols
                    + " floats need " + need);
        }
        long out = Math.multiplyExact(rows, type.bytes(cols));
        if (dst.byteSize() != out) {
            throw new IllegalArgumentException("dst has " + dst.byteSize() + " bytes, " + rows + " x " + cols + " "
                    + type + " need " + out);
        }
        Native.ensureLoaded();
        Native.check(panopt_quantize.invoke(type.nativeCode(), src, rows, cols, dst, out), "quantize to " + type);
    }

    /**
     * Quantizes one row (or a row-major matrix) held in a Java array.
     *
     * @param type   the target type; a native weight type
     * @param values the elements; their count a multiple of {@code type.blockSize()}
     * @return {@code type.bytes(values.length)} bytes
     * @throws IllegalArgumentException if the count is not a whole number of blocks
     */
    public static byte[] quantize(DType type, float[] values) {
        Objects.requireNonNull(values, "values");
        checkType(type);
        long bytes = type.bytes(values.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate((long) values.length * 4L, 16);
            MemorySegment.copy(values, 0, src, ValueLayout.JAVA_FLOAT, 0, values.length);
            MemorySegment dst = arena.allocate(bytes, 16);
            quantize(type, src, 1, values.length, dst);
            return dst.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /**
     * Converts {@code n} elements of {@code type} to f32.
     *
     * @param type a native weight type
     * @param src  exactly {@code type.bytes(n)} bytes
     * @param n    the element count; a multiple of {@code type.blockSize()}
     * @param dst  receives {@code n} floats ({@code 4 n} bytes)
     * @throws IllegalArgumentException if the sizes do not fit
     */
    public static void dequantize(DType type, MemorySegment src, long n, MemorySegment dst) {
        Objects.requireNonNull(src, "src");
        Objects.requireNonNull(dst, "dst");
        checkType(type);
        long bytes = type.bytes(n);
        if (src.byteSize() != bytes || dst.byteSize() != Math.multiplyExact(n, 4L)) {
            throw new IllegalArgumentException("dequantize " + n + " " + type + ": src has " + src.byteSize()
                    + " bytes (need " + bytes + "), dst " + dst.byteSize() + " (need " + 4 * n + ")");
        }
        Native.ensureLoaded();
        Native.check(panopt_dequantize.invoke(type.nativeCode(), src, bytes, n, dst), "dequantize " + type);
    }

    /**
     * Converts bytes of {@code type} held in a Java array to f32.
     *
     * @param type  a native weight type
     * @param bytes a whole number of the type's blocks
     * @return the elements
     * @throws IllegalArgumentException if {@code bytes} is not a whole number of blocks
     */
    public static float[] dequantize(DType type, byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        checkType(type);
        if (bytes.length % type.blockBytes() != 0) {
            throw new IllegalArgumentException(bytes.length + " bytes are not a whole number of " + type + " blocks of "
                    + type.blockBytes());
        }
        long n = (long) bytes.length / type.blockBytes() * type.blockSize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(Math.max(1, bytes.length), 16).asSlice(0, bytes.length);
            MemorySegment.copy(bytes, 0, src, ValueLayout.JAVA_BYTE, 0, bytes.length);
            MemorySegment dst = arena.allocate(Math.max(4, n * 4), 16).asSlice(0, n * 4);
            dequantize(type, src, n, dst);
            return dst.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    private static void checkType(DType type) {
        Objects.requireNonNull(type, "type");
        if (!type.isNative()) {
            throw new IllegalArgumentException(type + " is not a weight type of the native library");
        }
    }
}
