// quants_ref.cpp — reference (de)quantizers of ggml's 32-element block formats Q8_0, Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_1: the bytes of ggml's quantize_row_*_ref, the floats of dequantize_row_*
// (quants.h). Each block is quantized on its own, so a row gives the same bytes as its blocks.
//
// The scale of the symmetric formats is set by the element of largest magnitude (Q8_0/Q8_1: d = amax/127,
// q = roundf(x/d), ties away from zero; Q4_0/Q5_0: d = max/-8 or max/-16 with the sign of that element,
// so it lands exactly on the format's extra negative level); the offset formats (Q4_1/Q5_1) span
// [min, max] in 15 or 31 steps. Levels are taken by truncating x/d + 0.5 (+ the zero offset), as ggml does.
#include <algorithm>
#include <cmath>

#include "blocks.h"
#include "ggml_math.h"
#include "quants.h"

namespace panopt {
namespace quant {

namespace {

// ggml's MAX(amax, |x|) scan (a NaN is kept only if no element follows it).
inline float absmax(const float* x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++) {
        const float a = std::fabs(x[j]);
        amax = amax > a ? amax : a;
    }
    return amax;
}

inline void min_max(const float* x, int n, float& min, float& max) {
    min = FLT_MAX;
    max = -FLT_MAX;
    for (int j = 0; j < n; j++) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
}

inline float inverse(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

// Levels of the 4- and 5-bit formats: element j < 16 in the low nibble of qs[j], element j + 16 in the
// high nibble; in the 5-bit formats the fifth bit of element j is bit j of qh (a little-endian u32).
template <class B> constexpr bool kFiveBits = false;
template <> constexpr bool kFiveBits<block_q5_0> = true;
template <> constexpr bool kFiveBits<block_q5_1> = true;

template <class B> void put_levels(B& b, const uint8_t L[QK]) {
    for (int j = 0; j < QK / 2; j++) b.qs[j] = (uint8_t)((L[j] & 0x0f) | (L[j + QK / 2] & 0x0f) << 4);
    if constexpr (kFiveBits<B>) {
        uint32_t qh = 0;
        for (int j = 0; j < QK; j++) qh |= (uint32_t)(L[j] >> 4 & 1) << j;
        for (int k = 0; k < 4; k++) b.qh[k] = (uint8_t)(qh >> (8 * k));
    }
}

template <class B> int get_level(const B& b, int j) {
    int q = j < QK / 2 ? b.qs[j] & 0x0f : b.qs[j - QK / 2] >> 4;
    if constexpr (kFiveBits<B>) q |= (b.qh[j / 8] >> (j % 8) & 1) << 4;
    return q;
}

// Q4_0 (HALF 8) and Q5_0 (HALF 16): d = max / -HALF, where max is the element of largest magnitude
// with its sign, so that element lands exactly on level 0 (the format's extra negative level);
// level = min(2 HALF - 1, (int8_t)(x/d + HALF + 0.5)): x/d + 8.5 >= 0.5 for every finite x, and a NaN
// (or the infinity 1/d gives for a subnormal d) truncates to the low byte of 0x80000000, 0.
template <class B, int HALF> void quantize_symmetric(const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        const float d = signed_absmax(x, QK) / -HALF;
        const float id = inverse(d);
        B b;
        b.d = to_fp16(d);
        uint8_t L[QK];
        for (int j = 0; j < QK; j++) L[j] = (uint8_t)std::min(2 * HALF - 1, (int)trunc_i8(x[j] * id + (HALF + 0.5f)));
        put_levels(b, L);
        store_block(y, i, b);
    }
}

// Q4_1 (NMAX 15) and Q5_1 (NMAX 31): d = (max - min) / NMAX, m = min, level = floor((x - min)/d + 0.5)
// truncated as ggml: (x - min)/d + 0.5 lies in [0.5, NMAX + 0.5] for finite x (ggml's Q5_1 leaves out
// the min(NMAX, .) of its Q4_1, which never acts), and NaN or infinite quotients give level 0.
template <class B, int NMAX> void quantize_offset(const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        float min, max;
        min_max(x, QK, min, max);
        const float d = (max - min) / NMAX;
        const float id = inverse(d);
        B b;
        b.d = to_fp16(d);
        b.m = to_fp16(min);
        uint8_t L[QK];
        for (int j = 0; j < QK; j++) L[j] = (uint8_t)std::min(NMAX, (int)trunc_i8((x[j] - min) * id + 0.5f));
        put_levels(b, L);
        store_block(y, i, b);
    }
}

template <class B, int HALF> void dequantize_symmetric(const void* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, y += QK) {
        const B b = load_block<B>(x, i);
        const float d = from_fp16(b.d);
        for (int j = 0; j < QK; j++) y[j] = (float)(get_level(b, j) - HALF) * d;
    }
}

template <class B> void dequantize_offset(const void* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, y += QK) {
        const B b = load_block<B>(x, i);
        const float d = from_fp16(b.d), m = from_fp16(b.m);
        for (int j = 0; j < QK; j++) y[j] = (float)get_level(b, j) * d + m;
    }
}

// Q8_0 and Q8_1: d = amax/127, q = roundf(x/d) (ties away from zero).
template <class B> B quantize_q8(const float* x, float& d) {
    d = absmax(x, QK) / 127;
    const float id = inverse(d);
    B b;
    b.d = to_fp16(d);
    for (int j = 0; j < QK; j++) b.qs[j] = trunc_i8(std::round(x[j] * id));
    return b;
}

template <class B> void dequantize_q8(const void* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, y += QK) {
        const B b = load_block<B>(x, i);
        const float d = from_fp16(b.d);
        for (int j = 0; j < QK; j++) y[j] = (float)b.qs[j] * d;
    }
}

} // namespace

void quantize_q8_0(const float* x, void* y, int64_t n) {
    float d;
    for (int64_t i = 0; i < n / QK; i++, x += QK) store_block(y, i, quantize_q8<block_q8_0>(x, d));
}

void quantize_q8_1(const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        float d;
        block_q8_1 b = quantize_q8<block_q8_1>(x, d);
        int sum = 0;
        for (int j = 0; j < QK; j++) sum += b.qs[j];
        b.s = to_fp16((float)sum * d); // the unrounded d, as ggml
        store_block(y, i, b);
    }
}

void quantize_q4_0(const float* x, void* y, int64_t n) { quantize_symmetric<block_q4_0, 8>(x, y, n); }
void quantize_q5_0(const float* x, void* y, int64_t n) { quantize_symmetric<block_q5_0, 16>(x, y, n); }
void quantize_q4_1(const float* x, void* y, int64_t n) { quantize_offset<block_q4_1, 15>(x, y, n); }
void quantize_q5_1(const float* x, void* y, int64_t n) { quantize_offset<block_q5_1, 31>(x, y, n); }

void dequantize_q8_0(const void* x, float* y, int64_t n) { dequantize_q8<block_q8_0>(x, y, n); }
void dequantize_q8_1(const void* x, float* y, int64_t n) { dequantize_q8<block_q8_1>(x, y, n); }
void dequantize_q4_0(const void* x, float* y, int64_t n) { dequantize_symmetric<block_q4_0, 8>(x, y, n); }
void dequantize_q5_0(const void* x, float* y, int64_t n) { dequantize_symmetric<block_q5_0, 16>(x, y, n); }
void dequantize_q4_1(const void* x, float* y, int64_t n) { dequantize_offset<block_q4_1>(x, y, n); }
void dequantize_q5_1(const void* x, float* y, int64_t n) { dequantize_offset<block_q5_1>(x, y, n); }

} // namespace quant
} // namespace panopt
