package dev.panopt.internal;

import dev.panopt.DType;
import dev.panopt.Quantization;
import dev.panopt.Quantizer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Optional;

/**
 * What a {@link Quantization} makes of one stored weight, and the conversion itself, shared by everything that
 * stores weights in another type: loading a model (the weights go to native memory) and writing a GGUF file (they
 * go to disk), so that both store the same bytes for the same policy. Stateless; thread-safe.
 */
public final class WeightConversion {
    private WeightConversion() {}

    /** F16's largest finite value. */
    private static final float F16_MAX = 65504f;

    /**
     * The format {@code q} stores a weight in: for a 2-D weight of a {@link Quantization.TensorClass} the policy's
     * {@link Quantization#typeFor} (fallbacks included); vectors and unclassed tensors keep their stored type.
     *
     * @param q         the policy
     * @param cls       the weight's class (a tied token embedding is the LM head's), empty for vectors
     * @param source    its stored type
     * @param shape     its dimensions, outermost first
     * @param layer     its layer for per-layer classes, else -1
     * @param numLayers the model's decoder layers
     * @return the type to store
     */
    public static DType storedType(Quantization q, Optional<Quantization.TensorClass> cls, DType source, List<Long> shape,
                                   int layer, int numLayers) {
        if (cls.isEmpty() || shape.size() != 2) {
            return source;
        }
        Quantization.TensorClass c = cls.get();
        return q.typeFor(c, source, shape.get(0), shape.get(1), c.perLayer() ? layer : -1, numLayers);
    }

    /**
     * The type {@code q} asks for, before the row-length fallback ({@code source} where it keeps the stored type).
     *
     * @param q         the policy
     * @param cls       the weight's class, empty for vectors
     * @param source    its stored type
     * @param shape     its dimensions, outermost first
     * @param layer     its layer for per-layer classes, else -1
     * @param numLayers the model's decoder layers
     * @return the requested type
     */
    public static DType requestedType(Quantization q, Optional<Quantization.TensorClass> cls, DType source,
                                      List<Long> shape, int layer, int numLayers) {
        if (cls.isEmpty() || shape.size() != 2) {
            return source;
        }
        Quantization.TensorClass c = cls.get();
        return q.requestedType(c, c.perLayer() ? layer : -1, numLayers).orElse(source);
    }

    /**
     * Converts {@code rows} rows of {@code cols} elements from {@code from} to {@code to}: the source rows are copied
     * into aligned scratch (mapped tensors may sit at any offset), widened to f32 and encoded by {@link Quantizer}.
     *
     * @param name      the tensor's name, for the message of an F16 overflow
     * @param from      the stored type of {@code src}
     * @param src       exactly the rows' bytes in {@code from}
     * @param to        the target type
     * @param dst       receives exactly the rows' bytes in {@code to}
     * @param firstRow  the index of the first row in the tensor (for messages)
     * @param rows      the row count
     * @param cols      the row length, a whole number of both types' blocks
     * @param srcCopy   scratch of at least {@code src.byteSize()} bytes, 64-byte aligned (unused for F32 sources)
     * @param f32       scratch of at least {@code rows * cols * 4} bytes, 64-byte aligned
     * @throws IllegalArgumentException if a finite value is beyond F16's range and {@code to} is F16, naming the
     *     element
     */
    public static void convertRows(String name, DType from, MemorySegment src, DType to, MemorySegment dst, long firstRow,
                                   long rows, long cols, MemorySegment srcCopy, MemorySegment f32) {
        MemorySegment floats;
        if (from == DType.F32) {
            floats = src;
        } else {
            MemorySegment copy = srcCopy.asSlice(0, src.byteSize());
            MemorySegment.copy(src, 0, copy, 0, src.byteSize());
            floats = f32.asSlice(0, rows * cols * Float.BYTES);
            Quantizer.dequantize(from, copy, rows * cols, floats);
        }
        if (to == DType.F16) {
            checkF16Range(name, floats, firstRow, cols);
        }
        if (to == DType.F32) {
            MemorySegment.copy(floats, 0, dst, 0, dst.byteSize());
        } else {
            Quantizer.quantize(to, floats, rows, cols, dst);
        }
    }

    /** A finite value beyond F16's range would become infinite: refuse it, naming where it is. */
    private static void checkF16Range(String name, MemorySegment floats, long firstRow, long cols) {
        long n = floats.byteSize() / Float.BYTES;
        for (long i = 0; i < n; i++) {
            float v = floats.get(ValueLayout.JAVA_FLOAT_UNALIGNED, i * Float.BYTES);
            if (Math.abs(v) > F16_MAX && Float.isFinite(v)) {
                throw new IllegalArgumentException(name + " [" + (firstRow + i / cols) + ", " + i % cols + "] = " + v
                        + " is beyond F16's range (" + F16_MAX + "): store it as BF16 or F32");
            }
        }
    }
}
