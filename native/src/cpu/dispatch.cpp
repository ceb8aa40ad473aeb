// dispatch.cpp — picks the kernel table at run time (the library is built without -march, so
// one binary runs everywhere and uses AVX2/AVX-512 where the CPU has them).
#include "kernels.h"

#include "amx_os.h"

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace panopt {

int32_t cpu_vector_isa() {
#if defined(__x86_64__) || defined(__i386__)
    // libgcc's cpu model also checks that the OS saves the AVX/AVX-512 register state (XGETBV).
    static const int32_t best = [] {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
            return (int32_t)(__builtin_cpu_supports("avx512vnni") ? PANOPT_ISA_AVX512_VNNI : PANOPT_ISA_AVX512);
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
            return (int32_t)PANOPT_ISA_AVX2;
        return (int32_t)PANOPT_ISA_SCALAR;
    }();
    return best;
#elif defined(__aarch64__)
    return PANOPT_ISA_NEON; // Advanced SIMD is part of every AArch64 CPU
#else
    return PANOPT_ISA_SCALAR;
#endif
}

bool cpu_has_dotprod() {
#if defined(__aarch64__) && defined(__linux__)
    static const bool has = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
    return has;
#else
    return false;
#endif
}

bool isa_supported(int32_t isa) {
    const int32_t v = cpu_vector_isa();
    if (isa == PANOPT_ISA_SCALAR) return true;
    if (isa == PANOPT_ISA_NEON || v == PANOPT_ISA_NEON) return isa == v;
    if (isa == PANOPT_ISA_AMX) return cpu_best_isa() == PANOPT_ISA_AMX;
    return isa >= PANOPT_ISA_AVX2 && isa <= v;
}

bool isa_has_vnni(int32_t isa) { return isa == PANOPT_ISA_AVX512_VNNI || isa == PANOPT_ISA_AMX; }

int32_t cpu_best_isa() {
    const int32_t v = cpu_vector_isa();
    return v == PANOPT_ISA_AVX512_VNNI && amx_int8_usable() ? (int32_t)PANOPT_ISA_AMX : v;
}

bool cpu_has_bf16() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool has = cpu_vector_isa() == PANOPT_ISA_AVX512_VNNI && __builtin_cpu_supports("avx512bf16");
    return has;
#else
    return false;
#endif
}

namespace {

// An ISA's table with every weight-type entry it leaves NULL taken from `lower`, the completed
// table of the next lower ISA (which this CPU also runs), or from the scalar table itself.
Kernels complete(const Kernels* k, const Kernels* lower) {
    Kernels out = *k;
    for (int32_t dt = 0; dt < PANOPT_DTYPE_COUNT; dt++) {
        TypeKernels& t = out.type[dt];
        const TypeKernels& l = lower->type[dt];
        if (!t.to_f32) t.to_f32 = l.to_f32;
        if (!t.linear_range) t.linear_range = l.linear_range;
        if (!t.quantize_row) t.quantize_row = l.quantize_row;
        if (!t.dot_rows) t.dot_rows = l.dot_rows;
        if (!t.axpy_rows) t.axpy_rows = l.axpy_rows;
        if (!t.linear_range_dq) t.linear_range_dq = l.linear_range_dq;
        if (!t.linear_range_r8) t.linear_range_r8 = l.linear_range_r8;
        if (!t.linear_range_dq_r8) t.linear_range_dq_r8 = l.linear_range_dq_r8;
        if (!t.quantize_weights) t.quantize_weights = l.quantize_weights;
        if (!t.linear_range_via_r8) t.linear_range_via_r8 = l.linear_range_via_r8;
        if (!t.linear_range_bf16) t.linear_range_bf16 = l.linear_range_bf16;
        if (!t.quantize_row_sums) t.quantize_row_sums = l.quantize_row_sums;
        if (!t.linear_range_tiles_r8) t.linear_range_tiles_r8 = l.linear_range_tiles_r8;
    }
    return out;
}

// Each completed table is built on first use (thread-safe static init), and only for a level
// the CPU runs: building an ISA's table executes code compiled for that ISA.
const Kernels* table_scalar() {
    static const Kernels t = complete(kernels_scalar(), kernels_scalar());
    return &t;
}
#if defined(__x86_64__) || defined(__i386__)
const Kernels* table_avx2() {
    static const Kernels t = complete(kernels_avx2(), table_scalar());
    return &t;
}
const Kernels* table_avx512() {
    static const Kernels t = complete(kernels_avx512(), table_avx2());
    return &t;
}
const Kernels* table_avx512_vnni() {
    static const Kernels t = complete(kernels_avx512_vnni(), table_avx512());
    return &t;
}
const Kernels* table_amx() {
    static const Kernels t = complete(kernels_amx(), table_avx512_vnni());
    return &t;
}
#elif defined(__aarch64__)
const Kernels* table_neon() {
    static const Kernels t = complete(kernels_neon(), table_scalar());
    return &t;
}
#endif

} // namespace

const Kernels* kernels_for_isa(int32_t isa) {
    // only AUTO and AMX ask Linux for the tile state (amx_os.h): a process that names a vector level never does
    if (isa == PANOPT_ISA_AUTO) isa = cpu_best_isa();
    if (!isa_supported(isa)) return nullptr;
    switch (isa) {
#if defined(__x86_64__) || defined(__i386__)
    case PANOPT_ISA_AMX: return table_amx();
    case PANOPT_ISA_AVX512_VNNI: return table_avx512_vnni();
    case PANOPT_ISA_AVX512: return table_avx512();
    case PANOPT_ISA_AVX2: return table_avx2();
#elif defined(__aarch64__)
    case PANOPT_ISA_NEON: return table_neon();
#endif
    default: return table_scalar();
    }
}

bool prompt_dequantized(int32_t dt) {
    if (dt == PANOPT_DTYPE_Q4_0 || dt == PANOPT_DTYPE_Q4_K) return false;
    // with VNNI every block format's int8 kernel outruns f32; NEON's sdot products are only decode's (row order)
    return !isa_has_vnni(cpu_vector_isa());
}

} // namespace panopt
