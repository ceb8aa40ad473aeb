// dispatch.cpp — picks the kernel table at run time (the library is built without -march, so
// one binary runs everywhere and uses AVX2/AVX-512 where the CPU has them).
#include "kernels.h"

namespace panopt {

int32_t cpu_best_isa() {
#if defined(__x86_64__) || defined(__i386__)
    // libgcc's cpu model also checks that the OS saves the AVX/AVX-512 register state (XGETBV).
    static const int32_t best = [] {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
            return (int32_t)ISA_AVX512;
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
            return (int32_t)ISA_AVX2;
        return (int32_t)ISA_SCALAR;
    }();
    return best;
#else
    return ISA_SCALAR;
#endif
}

const Kernels* kernels_for_isa(int32_t isa) {
    int32_t best = cpu_best_isa();
    if (isa == ISA_AUTO) isa = best;
    if (isa < ISA_SCALAR || isa > best) return nullptr;
    switch (isa) {
#if defined(__x86_64__) || defined(__i386__)
    case ISA_AVX512: return kernels_avx512();
    case ISA_AVX2: return kernels_avx2();
#endif
    default: return kernels_scalar();
    }
}

} // namespace panopt
