package dev.panopt;

/** Instruction-set level of the native CPU kernels. */
public enum Isa {
    /** The best level the CPU supports. */
    AUTO(0),
    /** Portable scalar reference kernels (slow; for verification). */
    SCALAR(1),
    /** AVX2 + FMA + F16C. */
    AVX2(2),
    /** AVX-512 (F, BW, VL, DQ). */
    AVX512(3);

    final int code;

    Isa(int code) {
        this.code = code;
    }

    static Isa ofCode(int code) {
        for (Isa i : values()) {
            if (i.code == code) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown ISA code " + code);
    }
}
