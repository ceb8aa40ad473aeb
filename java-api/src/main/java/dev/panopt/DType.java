package dev.panopt;

import dev.panopt.bindings.PanoptH;
import java.util.Optional;

/**
 * Element types of stored tensors, named as in the safetensors format. The types the native
 * library computes with take their block size and bytes per block from panopt.h's type table
 * (generated into {@link PanoptH}); sizes are computed with {@link #bytes(long)}, never as
 * {@code numel * elementSize}, so block-quantized types fit the same code.
 *
 * <p>Thread-safety: an enum; immutable and safe to share.
 */
public enum DType {
    F64("F64", 8, true),
    F32("F32", PanoptH.DTYPE_F32),
    F16("F16", PanoptH.DTYPE_F16),
    BF16("BF16", PanoptH.DTYPE_BF16),
    I64("I64", 8, false),
    I32("I32", 4, false),
    I16("I16", 2, false),
    I8("I8", 1, false),
    U8("U8", 1, false),
    BOOL("BOOL", 1, false);

    private final String safetensorsName;
    private final int blockSize;
    private final int blockBytes;
    private final boolean floatingPoint;
    private final int nativeCode;

    /** A type the native library does not compute with: one element per block. */
    DType(String safetensorsName, int byteSize, boolean floatingPoint) {
        this.safetensorsName = safetensorsName;
        this.blockSize = 1;
        this.blockBytes = byteSize;
        this.floatingPoint = floatingPoint;
        this.nativeCode = -1;
    }

    /** A weight type of panopt.h's PANOPT_DTYPE_LIST. */
    DType(String safetensorsName, int nativeCode) {
        this.safetensorsName = safetensorsName;
        this.blockSize = PanoptH.dtypeBlockElems(nativeCode);
        this.blockBytes = PanoptH.dtypeBlockBytes(nativeCode);
        this.floatingPoint = true;
        this.nativeCode = nativeCode;
    }

    /** @return elements per block (1 for element types) */
    public int blockSize() {
        return blockSize;
    }

    /** @return bytes per block */
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

    /** @return the {@code dtype} string used in safetensors headers, e.g. {@code "BF16"} */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** @return true for F64, F32, F16 and BF16 */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** @return true if the native library computes with weights of this type */
    public boolean isNative() {
        return nativeCode >= 0;
    }

    /** The PANOPT_DTYPE_* code; -1 for types the native library does not take. */
    int nativeCode() {
        return nativeCode;
    }

    /**
     * Looks up a safetensors dtype name (case-sensitive, as the format defines it).
     *
     * @param name the header's dtype string
     * @return empty for names this library does not know (e.g. "F8_E4M3", "U16")
     */
    public static Optional<DType> fromSafetensorsName(String name) {
        if (name == null) {
            return Optional.empty();
        }
        for (DType d : values()) {
            if (d.safetensorsName.equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }
}
