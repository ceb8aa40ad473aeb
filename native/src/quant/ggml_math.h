// ggml_math.h — the scalar arithmetic ggml's reference quantizers are defined by, shared by
// quants_ref.cpp and quants_k.cpp. Byte identity with ggml needs its exact operations, in its order,
// in IEEE single precision with no fused multiply-add and no reassociation: both files are compiled
// with -ffp-contract=off and must never get -ffast-math or -march flags (CMakeLists.txt).
//
// Where C leaves ggml's behaviour undefined (a NaN or out-of-range float converted to an integer),
// these helpers spell out what ggml compiled for x86-64 does (cvttss2si / cvttps2dq: the
// "integer indefinite" 0x80000000, of which an 8-bit cast keeps the low byte), so NaN and infinite
// inputs give ggml's bytes too instead of undefined behaviour.
#ifndef PANOPT_QUANT_GGML_MATH_H
#define PANOPT_QUANT_GGML_MATH_H

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "../dtype.h"

#if defined(__FAST_MATH__)
#error "the reference quantizers must not be compiled with -ffast-math: they would no longer match ggml"
#endif
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "the reference quantizers need float arithmetic evaluated in float (FLT_EVAL_METHOD 0)"
#endif

namespace panopt {
namespace quant {

// ggml's nearest_int: adding 1.5 * 2^23 leaves round-to-nearest-even(fval) in the low mantissa
// bits (valid for |fval| < 2^22; larger, NaN or infinite values give what the bits give, as in ggml).
inline int nearest_int(float fval) {
    const float val = fval + 12582912.f;
    int32_t i;
    std::memcpy(&i, &val, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

// The element of largest magnitude, with its sign: the first of equals, as ggml scans (|x| > amax), so
// a NaN never wins. Its magnitude is the block's amax.
inline float signed_absmax(const float* x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        if (std::fabs(x[j]) > amax) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    }
    return max;
}

// A float converted to int the way x86's truncating conversion does it: NaN and values outside
// int32 become INT32_MIN.
inline int32_t trunc_i32(float f) {
    return f >= -2147483648.0f && f < 2147483648.0f ? (int32_t)f : INT32_MIN;
}

// ggml's (int8_t)(float) / (uint8_t)(float): the low byte of the truncated int32.
inline int8_t trunc_i8(float f) { return (int8_t)(uint8_t)(uint32_t)trunc_i32(f); }
inline uint8_t trunc_u8(float f) { return (uint8_t)(uint32_t)trunc_i32(f); }

// ggml's fp16 conversions. Finite values and infinities round as f32_to_f16 (to nearest even);
// a NaN becomes the sign with the canonical quiet NaN 0x7e00 (ggml drops the payload).
inline uint16_t to_fp16(float f) {
    const uint16_t h = f32_to_f16(f);
    return (h & 0x7fffu) > 0x7c00u ? (uint16_t)((h & 0x8000u) | 0x7e00u) : h;
}
// ggml reads fp16 through a table filled by a conversion that multiplies, which quiets a signaling
// NaN: set the quiet bit of every NaN (other values as f16_to_f32).
inline float from_fp16(uint16_t h) {
    const float f = f16_to_f32(h);
    if ((h & 0x7fffu) <= 0x7c00u) return f;
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    bits |= 0x00400000u;
    float q;
    std::memcpy(&q, &bits, 4);
    return q;
}

// Blocks are copied in and out with memcpy: a row may start at any address.
template <class B> inline B load_block(const void* row, int64_t i) {
    B b;
    std::memcpy(&b, static_cast<const unsigned char*>(row) + i * (int64_t)sizeof(B), sizeof(B));
    return b;
}
template <class B> inline void store_block(void* row, int64_t i, const B& b) {
    std::memcpy(static_cast<unsigned char*>(row) + i * (int64_t)sizeof(B), &b, sizeof(B));
}

} // namespace quant
} // namespace panopt

#endif
