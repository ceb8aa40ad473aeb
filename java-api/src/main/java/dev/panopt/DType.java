package dev.panopt;

import java.util.Optional;

/**
 * Element types of stored tensors, named as in the safetensors format.
 *
 * <p>Thread-safety: an enum; immutable and safe to share.
 */
public enum DType {
    F64("F64", 8, true),
    F32("F32", 4, true),
    F16("F16", 2, true),
    BF16("BF16", 2, true),
    I64("I64", 8, false),
    I32("I32", 4, false),
    I16("I16", 2, false),
    I8("I8", 1, false),
    U8("U8", 1, false),
    BOOL("BOOL", 1, false);

    private final String safetensorsName;
    private final int byteSize;
    private final boolean floatingPoint;

    DType(String safetensorsName, int byteSize, boolean floatingPoint) {
        this.safetensorsName = safetensorsName;
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The {@code dtype} string used in safetensors headers, e.g. {@code "BF16"}. */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** True for F64, F32, F16 and BF16. */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /**
     * Looks up a safetensors dtype name (case-sensitive, as the format defines it).
     *
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
