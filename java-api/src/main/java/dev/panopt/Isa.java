package dev.panopt;

import dev.panopt.bindings.PanoptH;

/**
 * Instruction-set level of the native CPU kernels. The x86 levels ({@link #AVX2} to {@link #AMX})
 * each include the ones before them; {@link #NEON} is AArch64's level, beside {@link #SCALAR} only.
 * Thread-safety: an enum; immutable.
 */
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
    AVX512_VNNI(PanoptH.ISA_AVX512_VNNI),
    /**
     * AVX512_VNNI with AMX-TILE and AMX-INT8 (Intel Sapphire Rapids and later): prompt passes over
     * weights in the block formats (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) multiply on AMX
     * tiles ({@code tdpbssd}), with AVX512_VNNI's results bit for bit; everything else as AVX512_VNNI.
     * Choosing it, or {@link #AUTO} on such a CPU, or asking {@link Panopt#bestIsa()}, requests the
     * tile state from Linux once for the whole process; Linux then refuses later {@code sigaltstack}
     * calls (by other native code in the process) whose stacks are too small for the larger signal
     * frame. Name {@link #AVX512_VNNI} to keep a process off AMX.
     */
    AMX(PanoptH.ISA_AMX),
    /**
     * AArch64 Advanced SIMD: the f32 products of every weight type, attention and the activations'
     * quantizers in NEON, and the int8 products of every block format (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
     * Q4_K, Q5_K, Q6_K) by {@code sdot} where the CPU has the dot-product extension (Armv8.2
     * DotProd), else the scalar reference's. The only level besides {@link #SCALAR} on 64-bit ARM.
     */
    NEON(PanoptH.ISA_NEON);

    final int code;

    Isa(int code) {
        this.code = code;
    }

    /** Whether a CPU whose best level is {@code best} runs this one. */
    boolean runsOn(Isa best) {
        if (this == AUTO || this == SCALAR) {
            return true;
        }
        if (this == NEON || best == NEON) {
            return this == best;
        }
        return code <= best.code;
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
