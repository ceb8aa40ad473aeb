// dtype.cpp — the type-traits table. Names and sizes come from PANOPT_DTYPE_LIST; each type
// contributes its scalar conversions through Conv<code>.
#include "dtype.h"

#include <cstring>

#include "quant/quants.h"

namespace panopt {

float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        // zero or subnormal: mant * 2^-24 is exact in f32
        float f = (float)mant * 5.9604644775390625e-8f;
        return sign ? -f : f;
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

uint16_t f32_to_f16(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t abs = x & 0x7fffffffu;
    if (abs > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((abs >> 13) & 0x3ffu)); // NaN, quiet
    if (abs >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);                         // rounds to >= 65520: inf
    if (abs < 0x38800000u) {
        // result is subnormal (or zero): value / 2^-24, rounded to nearest even
        if (abs < 0x33000000u) return (uint16_t)sign; // < 2^-25: rounds to 0
        const uint32_t e = abs >> 23, m = (abs & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126 - e; // 14..24
        uint32_t r = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1u))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = ((abs >> 13) - (112u << 10));
    const uint32_t rem = abs & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) r++; // may carry into the exponent: still right
    return (uint16_t)(sign | r);
}

float bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

uint16_t f32_to_bf16(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); // NaN, quiet
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

namespace {

// A type without conversions yet: NULL entries, which every backend reports as unsupported.
template <int DT> struct Conv {
    static constexpr void (*to_f32)(const void*, float*, int64_t) = nullptr;
    static constexpr void (*from_f32)(const float*, void*, int64_t) = nullptr;
    static constexpr int32_t vec_dot_type = PANOPT_DTYPE_F32;
};

template <> struct Conv<PANOPT_DTYPE_F32> {
    static void to_f32(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, (size_t)n * 4); }
    static void from_f32(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, (size_t)n * 4); }
    static constexpr int32_t vec_dot_type = PANOPT_DTYPE_F32;
};

// The 16-bit float types: one conversion per element, stored little-endian.
template <float (*TO)(uint16_t), uint16_t (*FROM)(float)> struct Conv16 {
    static void to_f32(const void* src, float* dst, int64_t n) {
        const unsigned char* p = static_cast<const unsigned char*>(src);
        for (int64_t i = 0; i < n; i++) {
            uint16_t h;
            std::memcpy(&h, p + 2 * i, 2);
            dst[i] = TO(h);
        }
    }
    static void from_f32(const float* src, void* dst, int64_t n) {
        unsigned char* p = static_cast<unsigned char*>(dst);
        for (int64_t i = 0; i < n; i++) {
            uint16_t h = FROM(src[i]);
            std::memcpy(p + 2 * i, &h, 2);
        }
    }
    static constexpr int32_t vec_dot_type = PANOPT_DTYPE_F32;
};

template <> struct Conv<PANOPT_DTYPE_F16> : Conv16<f16_to_f32, f32_to_f16> {};
template <> struct Conv<PANOPT_DTYPE_BF16> : Conv16<bf16_to_f32, f32_to_bf16> {};

// ggml's block formats (quant/quants.h) and the activation format each one's dot product takes.
template <void (*TO)(const void*, float*, int64_t), void (*FROM)(const float*, void*, int64_t), int32_t DOT>
struct ConvQ {
    static constexpr void (*to_f32)(const void*, float*, int64_t) = TO;
    static constexpr void (*from_f32)(const float*, void*, int64_t) = FROM;
    static constexpr int32_t vec_dot_type = DOT;
};

template <> struct Conv<PANOPT_DTYPE_Q8_0> : ConvQ<quant::dequantize_q8_0, quant::quantize_q8_0, PANOPT_DTYPE_Q8_0> {};
template <> struct Conv<PANOPT_DTYPE_Q4_0> : ConvQ<quant::dequantize_q4_0, quant::quantize_q4_0, PANOPT_DTYPE_Q8_0> {};
template <> struct Conv<PANOPT_DTYPE_Q5_0> : ConvQ<quant::dequantize_q5_0, quant::quantize_q5_0, PANOPT_DTYPE_Q8_0> {};
template <> struct Conv<PANOPT_DTYPE_Q4_1> : ConvQ<quant::dequantize_q4_1, quant::quantize_q4_1, PANOPT_DTYPE_Q8_1> {};
template <> struct Conv<PANOPT_DTYPE_Q5_1> : ConvQ<quant::dequantize_q5_1, quant::quantize_q5_1, PANOPT_DTYPE_Q8_1> {};
template <> struct Conv<PANOPT_DTYPE_Q4_K> : ConvQ<quant::dequantize_q4_K, quant::quantize_q4_K, PANOPT_DTYPE_Q8_K> {};
template <> struct Conv<PANOPT_DTYPE_Q5_K> : ConvQ<quant::dequantize_q5_K, quant::quantize_q5_K, PANOPT_DTYPE_Q8_K> {};
template <> struct Conv<PANOPT_DTYPE_Q6_K> : ConvQ<quant::dequantize_q6_K, quant::quantize_q6_K, PANOPT_DTYPE_Q8_K> {};
// The activation formats themselves (also accepted as weights) pair with f32.
template <> struct Conv<PANOPT_DTYPE_Q8_1> : ConvQ<quant::dequantize_q8_1, quant::quantize_q8_1, PANOPT_DTYPE_F32> {};
template <> struct Conv<PANOPT_DTYPE_Q8_K> : ConvQ<quant::dequantize_q8_K, quant::quantize_q8_K, PANOPT_DTYPE_F32> {};

#define PANOPT_TRAITS_ROW_(name, code, block_elems, block_bytes) \
    {#name, block_elems, block_bytes, Conv<code>::to_f32, Conv<code>::from_f32, Conv<code>::vec_dot_type},
const TypeTraits kTraits[] = {PANOPT_DTYPE_LIST(PANOPT_TRAITS_ROW_)};
#undef PANOPT_TRAITS_ROW_

static_assert(sizeof(kTraits) / sizeof(kTraits[0]) == PANOPT_DTYPE_COUNT,
              "PANOPT_DTYPE_COUNT must equal the length of PANOPT_DTYPE_LIST");
// Codes index the table: the list's i-th entry must have code i.
#define PANOPT_TRAITS_CODE_(name, code, block_elems, block_bytes) code,
constexpr int32_t kCodes[] = {PANOPT_DTYPE_LIST(PANOPT_TRAITS_CODE_)};
#undef PANOPT_TRAITS_CODE_
constexpr bool codes_in_order(int32_t i) { return i == PANOPT_DTYPE_COUNT || (kCodes[i] == i && codes_in_order(i + 1)); }
static_assert(codes_in_order(0), "PANOPT_DTYPE_LIST codes must be 0, 1, 2, ... in list order");

} // namespace

const TypeTraits* type_traits(int32_t dtype) {
    return dtype >= 0 && dtype < PANOPT_DTYPE_COUNT ? &kTraits[dtype] : nullptr;
}

int64_t row_bytes(int32_t dtype, int64_t n) {
    const TypeTraits* t = type_traits(dtype);
    if (!t || n < 0 || n % t->block_elems != 0) return -1;
    return n / t->block_elems * t->block_bytes;
}

} // namespace panopt
