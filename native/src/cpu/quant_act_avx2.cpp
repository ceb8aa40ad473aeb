// quant_act_avx2.cpp — activation rows to Q8_0 / Q8_1 / Q8_K with AVX2 (compiled with -mavx2 -mfma
// -mf16c; internal linkage only, see kernels.h). Every product with a block-format weight first
// quantizes its input rows; at prefill that is M x K values per product, so the scalar reference
// (src/quant, one roundf per value) would cost a large share of the time.
//
// For finite inputs the bytes equal the reference's (ggml's quantize_row_*_ref): the same scale
// arithmetic in scalar f32, the same products x * (1/d) per lane, and the reference's rounding —
// roundf (half away from zero) for Q8_0/Q8_1, round-half-even (ggml's nearest_int) for Q8_K. The
// tests compare the bytes with the reference.
#include "kernels.h"

#include <immintrin.h>
#include <string.h>

#include "../dtype.h"
#include "../quant/blocks.h"

namespace panopt {
namespace {

inline float hmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline __m256 vabs(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// C's roundf per lane: truncate, then step away from zero when the dropped part is >= 1/2 (x - t
// is exact, unlike x + 0.5, which rounds up 0.49999997).
inline __m256i roundf_epi32(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 half = _mm256_cmp_ps(vabs(_mm256_sub_ps(v, t)), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const __m256 step = _mm256_and_ps(half, _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, _mm256_set1_ps(-0.0f))));
    return _mm256_cvttps_epi32(_mm256_add_ps(t, step));
}

// 32 int32 (four vectors, elements in order) to 32 int8 in order (values fit int8).
inline __m256i pack32(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d); // lanes interleaved
    const __m256i abcd = _mm256_packs_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

inline uint16_t fp16(float f) { // the reference's to_fp16 (f32_to_f16, a NaN made canonical)
    // F16C's nearest-even conversion gives f32_to_f16's bits for every input (cache_rows_avx2 to_f16)
    const uint16_t h = _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return (h & 0x7fffu) > 0x7c00u ? (uint16_t)((h & 0x8000u) | 0x7e00u) : h;
}

// One 32-block: its scale d and codes; returns the sum of the codes.
inline int q8_block(const float* x, float* d_out, int8_t* qs) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int i = 0; i < 4; i++) {
        v[i] = _mm256_loadu_ps(x + 8 * i);
        amax = _mm256_max_ps(amax, vabs(v[i]));
    }
    const float d = hmax(amax) / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m256 idv = _mm256_set1_ps(id);
    __m256i q[4];
    for (int i = 0; i < 4; i++) q[i] = roundf_epi32(_mm256_mul_ps(v[i], idv));
    _mm256_storeu_si256((__m256i*)qs, pack32(q[0], q[1], q[2], q[3]));
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
    *d_out = d;
    return _mm_cvtsi128_si32(s4);
}

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

#include "quant_act_rows.inc"

void quantize_q8_K(const float* x, void* y, int64_t n) {
    block_q8_K* b = static_cast<block_q8_K*>(y);
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        __m256 amaxv = _mm256_setzero_ps();
        for (int j = 0; j < QK_K; j += 8) amaxv = _mm256_max_ps(amaxv, vabs(_mm256_loadu_ps(x + j)));
        const float amax = hmax(amaxv);
        if (amax == 0.0f) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        float max = 0; // the first value of largest magnitude, with its sign (as the reference scans)
        for (int j = 0; j < QK_K; j++)
            if (x[j] == amax || x[j] == -amax) {
                max = x[j];
                break;
            }
        const float iscale = -127.f / max;
        const __m256 is = _mm256_set1_ps(iscale);
        const __m256i top = _mm256_set1_epi32(127);
        for (int j = 0; j < QK_K; j += 32) {
            __m256i q[4];
            for (int k = 0; k < 4; k++) // round half to even (MXCSR's default), as nearest_int
                q[k] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(is, _mm256_loadu_ps(x + j + 8 * k))), top);
            _mm256_storeu_si256((__m256i*)(b[i].qs + j), pack32(q[0], q[1], q[2], q[3]));
        }
        for (int j = 0; j < QK_K / 16; j++) {
            int sum = 0;
            for (int k = 0; k < 16; k++) sum += b[i].qs[16 * j + k];
            b[i].bsums[j] = (int16_t)sum;
        }
        b[i].d = 1 / iscale;
    }
}

} // namespace

void quant_act_avx2(TypeKernels* type) {
    type[PANOPT_DTYPE_Q8_0].quantize_row = quantize_q8_0;
    type[PANOPT_DTYPE_Q8_0].quantize_row_sums = quantize_q8_0_sums;
    type[PANOPT_DTYPE_Q8_1].quantize_row = quantize_q8_1;
    type[PANOPT_DTYPE_Q8_K].quantize_row = quantize_q8_K;
}

} // namespace panopt
