// dtype.h — the type-traits table: one row per PANOPT_DTYPE_* with its storage size (generated
// from PANOPT_DTYPE_LIST in panopt.h) and its scalar reference conversions. The ISA kernel tables
// (cpu/kernels.h) override only function pointers; sizes are never written anywhere else.
#ifndef PANOPT_DTYPE_H
#define PANOPT_DTYPE_H

#include <cstdint>

#include "../include/panopt.h"

namespace panopt {

struct TypeTraits {
    const char* name;       // "F32", "F16", ... as in PANOPT_DTYPE_LIST
    int32_t block_elems;    // elements per block
    int32_t block_bytes;    // bytes per block
    // Scalar reference: n elements (a multiple of block_elems) of a row to f32.
    void (*to_f32)(const void* src, float* dst, int64_t n);
    // Scalar reference quantizer: n f32 values (a multiple of block_elems) to this type.
    void (*from_f32)(const float* src, void* dst, int64_t n);
    // Type the activations take for this weight's dot product (F32 for the float types).
    int32_t vec_dot_type;
};

// Compile-time sizes for kernels specialised per type (same list, so still one definition).
#define PANOPT_BLOCK_ELEMS_(name, code, block_elems, block_bytes) block_elems,
#define PANOPT_BLOCK_BYTES_(name, code, block_elems, block_bytes) block_bytes,
constexpr int32_t kBlockElems[PANOPT_DTYPE_COUNT] = {PANOPT_DTYPE_LIST(PANOPT_BLOCK_ELEMS_)};
constexpr int32_t kBlockBytes[PANOPT_DTYPE_COUNT] = {PANOPT_DTYPE_LIST(PANOPT_BLOCK_BYTES_)};
#undef PANOPT_BLOCK_ELEMS_
#undef PANOPT_BLOCK_BYTES_

// NULL for a code outside PANOPT_DTYPE_LIST.
const TypeTraits* type_traits(int32_t dtype);
// Bytes of a row of n elements; -1 when n is not a multiple of the block size or dtype is unknown.
int64_t row_bytes(int32_t dtype, int64_t n);

// Exact scalar conversions shared by the reference kernels and the tests.
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f); // round to nearest even; overflow to inf; NaN stays NaN
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f); // round to nearest even; NaN stays NaN

} // namespace panopt

#endif
