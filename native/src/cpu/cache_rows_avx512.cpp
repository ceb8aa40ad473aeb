// cache_rows_avx512.cpp — attention over F32/F16 cache rows, several queries per pass
// (cache_rows_tile.inc) with AVX-512VL's 32 ymm registers: 4 queries x 4 keys of scores (16
// accumulators) and 4 queries x 32 values. Compiled with AVX-512 flags, internal linkage only
// (kernels.h). Still 256-bit vectors: Zen 4 runs a 512-bit FMA as two 256-bit halves, and the same
// lane order as the AVX2 kernels keeps every ISA's scores and outputs equal bit for bit.
#include "kernels.h"

#include <immintrin.h>

#include "../dtype.h"

namespace panopt {
namespace {

constexpr int QS = 4, QV = 4;
#include "cache_rows_tile.inc"

} // namespace

void cache_kernels_avx512(TypeKernels* type) {
    type[PANOPT_DTYPE_F32].dot_rows = dot_rows<PANOPT_DTYPE_F32>;
    type[PANOPT_DTYPE_F32].axpy_rows = axpy_rows<PANOPT_DTYPE_F32>;
    type[PANOPT_DTYPE_F16].dot_rows = dot_rows<PANOPT_DTYPE_F16>;
    type[PANOPT_DTYPE_F16].axpy_rows = axpy_rows<PANOPT_DTYPE_F16>;
}

} // namespace panopt
