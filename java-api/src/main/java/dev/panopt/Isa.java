package dev.panopt;

import dev.panopt.bindings.PanoptH;

/** Instruction-set level of the native CPU kernels. Thread-safety: an enum; immutable. */
public enum Isa {
    /** The best level the CPU supports. */
    AUTO(PanoptH.ISA_AUTO),
    /** Portable scalar reference kernels (slow; for verification). */
    SCALAR(PanoptH.ISA_SCALAR),
    /** AVX2 + FMA + F16C. */
    AVX2(PanoptH.ISA_AVX2),
    /** AVX-512 (F, BW, VL, DQ). */
    AVX512(PanoptH.ISA_AVX512),
    /** AVX-512 with VNNI: the quantized formats' int8 products by {@code vpdpbusd}. */
    AVX512_VNNI(PanoptH.ISA_AVX512_VNNI);

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
