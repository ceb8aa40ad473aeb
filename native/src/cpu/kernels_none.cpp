// kernels_none.cpp — non-x86 builds: no x86 table (AArch64 has its NEON table, kernels_neon.cpp).
#include "kernels.h"
namespace panopt {
const Kernels* kernels_avx2() { return nullptr; }
const Kernels* kernels_avx512() { return nullptr; }
const Kernels* kernels_avx512_vnni() { return nullptr; }
const Kernels* kernels_amx() { return nullptr; }
DequantFn dequant_avx2(int32_t) { return nullptr; }
} // namespace panopt
