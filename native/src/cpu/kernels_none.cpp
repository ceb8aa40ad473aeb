// kernels_none.cpp — non-x86 builds: only the scalar table exists.
#include "kernels.h"
namespace panopt {
const Kernels* kernels_avx2() { return nullptr; }
const Kernels* kernels_avx512() { return nullptr; }
const Kernels* kernels_avx512_vnni() { return nullptr; }
const Kernels* kernels_amx() { return nullptr; }
DequantFn dequant_avx2(int32_t) { return nullptr; }
} // namespace panopt
