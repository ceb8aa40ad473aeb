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

// amax and the element that has it (the first one, as ggml scans).
inline float signed_absmax(const float* x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    }
    return max;
}

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

// The fifth bits of a Q5 block: bit j of the little-endian u32 is element j's.
inline void put_qh(uint8_t qh[4], uint32_t bits) {
    for (int k = 0; k < 4; k++) qh[k] = (uint8_t)(bits >> (8 * k));
}
inline uint32_t get_qh(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}

} // namespace

void quantize_q8_0(const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        const float d = absmax(x, QK) / 127;
        const float id = inverse(d);
        block_q8_0 b;
        b.d = to_fp16(d);
        for (int j = 0; j < QK; j++) b.qs[j] = trunc_i8(std::round(x[j] * id));
        store_block(y, i, b);
    }
}

void quantize_q8_1(const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        const float d = absmax(x, QK) / 127;
        const float id = inverse(d);
        block_q8_1 b;
        b.d = to_fp16(d);
        int sum = 0;
        for (int j = 0; j < QK; j++) {
            b.qs[j] = trunc_i8(std::round(x[j] * id));
            sum += b.qs[j];
        }
        b.s = to_fp16((float)sum * d);
        store_block(y, i, b);
    }
}

void quantize_q4_0(const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        const float d = signed_absmax(x, QK) / -8;
        const float id = inverse(d);
        block_q4_0 b;
        b.d = to_fp16(d);
        for (int j = 0; j < QK / 2; j++) {
            const uint8_t lo = (uint8_t)std::min(15, (int)trunc_i8(x[j] * id + 8.5f));
            const uint8_t hi = (uint8_t)std::min(15, (int)trunc_i8(x[j + QK / 2] * id + 8.5f));
            b.qs[j] = (uint8_t)(lo | hi << 4);
        }
        store_block(y, i, b);
    }
}

void quantize_q4_1(const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        float min, max;
        min_max(x, QK, min, max);
        const float d = (max - min) / 15;
        const float id = inverse(d);
        block_q4_1 b;
        b.d = to_fp16(d);
        b.m = to_fp16(min);
        for (int j = 0; j < QK / 2; j++) {
            const uint8_t lo = (uint8_t)std::min(15, (int)trunc_i8((x[j] - min) * id + 0.5f));
            const uint8_t hi = (uint8_t)std::min(15, (int)trunc_i8((x[j + QK / 2] - min) * id + 0.5f));
            b.qs[j] = (uint8_t)(lo | hi << 4);
        }
        store_block(y, i, b);
    }
}

void quantize_q5_0(const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        const float d = signed_absmax(x, QK) / -16;
        const float id = inverse(d);
        block_q5_0 b;
        b.d = to_fp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < QK / 2; j++) {
            const uint8_t lo = (uint8_t)std::min(31, (int)trunc_i8(x[j] * id + 16.5f));
            const uint8_t hi = (uint8_t)std::min(31, (int)trunc_i8(x[j + QK / 2] * id + 16.5f));
            b.qs[j] = (uint8_t)((lo & 0x0f) | (hi & 0x0f) << 4);
            qh |= (uint32_t)(lo >> 4 & 1) << j | (uint32_t)(hi >> 4 & 1) << (j + QK / 2);
        }
        put_qh(b.qh, qh);
        store_block(y, i, b);
    }
}

void quantize_q5_1(const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, x += QK) {
        float min, max;
        min_max(x, QK, min, max);
        const float d = (max - min) / 31;
        const float id = inverse(d);
        block_q5_1 b;
        b.d = to_fp16(d);
        b.m = to_fp16(min);
        uint32_t qh = 0;
        for (int j = 0; j < QK / 2; j++) {
            const uint8_t lo = trunc_u8((x[j] - min) * id + 0.5f); // no clamp in ggml: the level is at most 31
            const uint8_t hi = trunc_u8((x[j + QK / 2] - min) * id + 0.5f);
            b.qs[j] = (uint8_t)((lo & 0x0f) | (hi & 0x0f) << 4);
            qh |= (uint32_t)(lo >> 4 & 1) << j | (uint32_t)(hi >> 4 & 1) << (j + QK / 2);
        }
        put_qh(b.qh, qh);
        store_block(y, i, b);
    }
}

void dequantize_q8_0(const void* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, y += QK) {
        const block_q8_0 b = load_block<block_q8_0>(x, i);
        const float d = from_fp16(b.d);
        for (int j = 0; j < QK; j++) y[j] = (float)b.qs[j] * d;
    }
}

void dequantize_q8_1(const void* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, y += QK) {
        const block_q8_1 b = load_block<block_q8_1>(x, i);
        const float d = from_fp16(b.d);
        for (int j = 0; j < QK; j++) y[j] = (float)b.qs[j] * d;
    }
}

void dequantize_q4_0(const void* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, y += QK) {
        const block_q4_0 b = load_block<block_q4_0>(x, i);
        const float d = from_fp16(b.d);
        for (int j = 0; j < QK / 2; j++) {
            y[j] = (float)((b.qs[j] & 0x0f) - 8) * d;
            y[j + QK / 2] = (float)((b.qs[j] >> 4) - 8) * d;
        }
    }
}

void dequantize_q4_1(const void* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, y += QK) {
        const block_q4_1 b = load_block<block_q4_1>(x, i);
        const float d = from_fp16(b.d), m = from_fp16(b.m);
        for (int j = 0; j < QK / 2; j++) {
            y[j] = (float)(b.qs[j] & 0x0f) * d + m;
            y[j + QK / 2] = (float)(b.qs[j] >> 4) * d + m;
        }
    }
}

void dequantize_q5_0(const void* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, y += QK) {
        const block_q5_0 b = load_block<block_q5_0>(x, i);
        const float d = from_fp16(b.d);
        const uint32_t qh = get_qh(b.qh);
        for (int j = 0; j < QK / 2; j++) {
            const int lo = (int)((b.qs[j] & 0x0f) | (qh >> j & 1) << 4);
            const int hi = (int)((b.qs[j] >> 4) | (qh >> (j + QK / 2) & 1) << 4);
            y[j] = (float)(lo - 16) * d;
            y[j + QK / 2] = (float)(hi - 16) * d;
        }
    }
}

void dequantize_q5_1(const void* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / QK; i++, y += QK) {
        const block_q5_1 b = load_block<block_q5_1>(x, i);
        const float d = from_fp16(b.d), m = from_fp16(b.m);
        const uint32_t qh = get_qh(b.qh);
        for (int j = 0; j < QK / 2; j++) {
            const int lo = (int)((b.qs[j] & 0x0f) | (qh >> j & 1) << 4);
            const int hi = (int)((b.qs[j] >> 4) | (qh >> (j + QK / 2) & 1) << 4);
            y[j] = (float)lo * d + m;
            y[j + QK / 2] = (float)hi * d + m;
        }
    }
}

} // namespace quant
} // namespace panopt
