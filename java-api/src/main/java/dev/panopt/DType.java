package dev.panopt;

import dev.panopt.bindings.PanoptH;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Element types of stored tensors, named as in the safetensors format. The types the native
 * library computes with take their block size and bytes per block from panopt.h's type table
 * (generated into {@link PanoptH}); sizes are computed with {@link #bytes(long)}, never as
 * {@code numel * elementSize}, so block-quantized types fit the same code.
 *
 * <p>Thread-safety: an enum; immutable and safe to share.
 */
public enum DType {
    /** IEEE 754 binary64, 8 bytes; not a native weight type. */
    F64("F64", 8, true, 28),
    /** IEEE 754 binary32, 4 bytes; a native weight type. */
    F32("F32", PanoptH.DTYPE_F32, 0),
    /** IEEE 754 binary16, 2 bytes; a native weight type. */
    F16("F16", PanoptH.DTYPE_F16, 1),
    /** bfloat16 (the upper half of a binary32), 2 bytes; a native weight type. */
    BF16("BF16", PanoptH.DTYPE_BF16, 30),
    /** ggml's Q8_0: blocks of 32 int8 with an f16 scale (34 bytes); a native weight type. */
    Q8_0(null, PanoptH.DTYPE_Q8_0, 8),
    /** ggml's Q4_0: blocks of 32 4-bit values with an f16 scale (18 bytes); a native weight type. */
    Q4_0(null, PanoptH.DTYPE_Q4_0, 2),
    /** ggml's Q4_1: blocks of 32 4-bit values with an f16 scale and minimum (20 bytes). */
    Q4_1(null, PanoptH.DTYPE_Q4_1, 3),
    /** ggml's Q5_0: blocks of 32 5-bit values with an f16 scale (22 bytes). */
    Q5_0(null, PanoptH.DTYPE_Q5_0, 6),
    /** ggml's Q5_1: blocks of 32 5-bit values with an f16 scale and minimum (24 bytes). */
    Q5_1(null, PanoptH.DTYPE_Q5_1, 7),
    /** ggml's Q4_K: super-blocks of 256 4-bit values with 6-bit sub-block scales and minimums (144 bytes). */
    Q4_K(null, PanoptH.DTYPE_Q4_K, 12),
    /** ggml's Q5_K: super-blocks of 256 5-bit values with 6-bit sub-block scales and minimums (176 bytes). */
    Q5_K(null, PanoptH.DTYPE_Q5_K, 13),
    /** ggml's Q6_K: super-blocks of 256 6-bit values with 8-bit sub-block scales (210 bytes). */
    Q6_K(null, PanoptH.DTYPE_Q6_K, 14),
    /** ggml's Q8_1 (Q8_0 plus the block sum; the activation format of Q4_1/Q5_1 products, 36 bytes). */
    Q8_1(null, PanoptH.DTYPE_Q8_1, 9),
    /** ggml's Q8_K (f32 scale, 256 int8 and 16 partial sums; the activation format of the K-quants, 292 bytes). */
    Q8_K(null, PanoptH.DTYPE_Q8_K, 15),
    /** Signed 64-bit integer. */
    I64("I64", 8, false, 27),
    /** Signed 32-bit integer. */
    I32("I32", 4, false, 26),
    /** Signed 16-bit integer. */
    I16("I16", 2, false, 25),
    /** Signed 8-bit integer. */
    I8("I8", 1, false, 24),
    /** Unsigned 8-bit integer. */
    U8("U8", 1, false, -1),
    /** Boolean, one byte per element (0 or 1). */
    BOOL("BOOL", 1, false, -1);

    private final String safetensorsName; // null for the block formats
    private final int blockSize;
    private final int blockBytes;
    private final boolean floatingPoint;
    private final int nativeCode;
    private final int ggmlType;

    /** A type the native library does not compute with: one element per block. */
    DType(String safetensorsName, int byteSize, boolean floatingPoint, int ggmlType) {
        this.safetensorsName = safetensorsName;
        this.blockSize = 1;
        this.blockBytes = byteSize;
        this.floatingPoint = floatingPoint;
        this.nativeCode = -1;
        this.ggmlType = ggmlType;
    }

    /** A weight type of panopt.h's PANOPT_DTYPE_LIST; safetensorsName null for the block-quantized ones. */
    DType(@Nullable String safetensorsName, int nativeCode, int ggmlType) {
        this.safetensorsName = safetensorsName;
        this.blockSize = PanoptH.dtypeBlockElems(nativeCode);
        this.blockBytes = PanoptH.dtypeBlockBytes(nativeCode);
        this.floatingPoint = true;
        this.nativeCode = nativeCode;
        this.ggmlType = ggmlType;
    }

    /** {@return the elements per block (1 for element types)} */
    public int blockSize() {
        return blockSize;
    }

    /** {@return the bytes per block} */
    public int blockBytes() {
        return blockBytes;
    }

    /**
     * Storage size of {@code numel} elements.
     *
     * @param numel element count (a whole number of blocks)
     * @return bytes
     * @throws IllegalArgumentException if numel is negative or not a multiple of the block size
     * @throws ArithmeticException on overflow
     */
    public long bytes(long numel) {
        if (numel < 0 || numel % blockSize != 0) {
            throw new IllegalArgumentException(numel + " elements are not a whole number of " + this + " blocks of "
                    + blockSize);
        }
        return Math.multiplyExact(numel / blockSize, (long) blockBytes);
    }

    /**
     * The {@code dtype} string used in safetensors headers, e.g. {@code "BF16"}.
     *
     * @return the name; for the ggml block formats, which safetensors cannot hold, ggml's name
     *     ({@code "Q4_K"}), which {@link #fromSafetensorsName} does not accept
     */
    public String safetensorsName() {
        return safetensorsName != null ? safetensorsName : name();
    }

    /** {@return whether this is one of ggml's block-quantized formats (Q8_0 ... Q8_K)} */
    public boolean isQuantized() {
        return nativeCode >= 0 && safetensorsName == null;
    }

    /** {@return whether this holds real numbers: true for F64, F32, F16, BF16 and the quantized formats} */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** {@return whether the native library computes with weights of this type} */
    public boolean isNative() {
        return nativeCode >= 0;
    }

    /** The PANOPT_DTYPE_* code; -1 for types the native library does not take. */
    int nativeCode() {
        return nativeCode;
    }

    /**
     * The type's id in ggml's {@code enum ggml_type} (ggml.h), which GGUF files store per tensor: F32 = 0,
     * F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9, Q4_K = 12, Q5_K = 13, Q6_K = 14,
     * Q8_K = 15, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, BF16 = 30. This table is the only place
     * these ids are written down; a test checks each against the sizes and names of ggml's own library.
     *
     * @return the id, or empty for U8 and BOOL, which ggml has no type for
     */
    public OptionalInt ggmlType() {
        return ggmlType >= 0 ? OptionalInt.of(ggmlType) : OptionalInt.empty();
    }

    /**
     * The type of a ggml type id (see {@link #ggmlType()}).
     *
     * @param id a value of ggml's {@code enum ggml_type}
     * @return the type, or empty for ids this library does not know (e.g. 10 = Q2_K, 16 = IQ2_XXS)
     */
    public static Optional<DType> fromGgmlType(long id) {
        for (DType d : values()) {
            if (d.ggmlType >= 0 && d.ggmlType == id) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /**
     * Looks up a safetensors dtype name (case-sensitive, as the format defines it).
     *
     * @param name the header's dtype string, or null (empty)
     * @return empty for names this library does not know (e.g. "F8_E4M3", "U16")
     */
    public static Optional<DType> fromSafetensorsName(@Nullable String name) {
        if (name == null) {
            return Optional.empty();
        }
        for (DType d : values()) {
            if (name.equals(d.safetensorsName)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }
}
