// cache_rows_avx2.cpp — attention over the KV cache with AVX2 (compiled with -mavx2 -mfma -mf16c;
// internal linkage only, see kernels.h). A decode step reads every cached key and value once, so
// these loops are bandwidth-bound at long contexts: an F16 cache halves the bytes, a Q8_0 cache
// (32 int8 + one f16 scale per 32 elements) takes 34/128 of the f32 bytes.
//   F32/F16: several queries per pass (cache_rows_tile.inc), 4 keys at a time, 8 elements per step;
//   values: out += p_j v_j with each query's outputs kept in registers across all rows.
// Q8_0 rows have kernels of their own that apply each block's scale once per block (to a block's
// partial sum, or folded into p_j) rather than once per 8 elements: with the scale in the inner loop
// a Q8_0 cache ran slower than an F16 one at T = 2000 despite half the bytes.
#include "kernels.h"

#include <immintrin.h>
#include <string.h>

#include "../dtype.h"
#include "../quant/blocks.h"

namespace panopt {
namespace {

constexpr int QS = 2, QV = 2; // queries per pass (cache_rows_tile.inc): 16 ymm registers
#include "cache_rows_tile.inc"

// The 8 int8 codes at c as f32 (vpmovsxbd from memory, then vcvtdq2ps).
inline __m256 codes8(const int8_t* c) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)c)));
}

// Σ_k q_k c_k over one 32-block's codes (unscaled), q the matching 4 vectors of the query.
inline __m256 block_dot(const float* q, const int8_t* c) {
    __m256 s = _mm256_mul_ps(_mm256_loadu_ps(q), codes8(c));
    s = _mm256_fmadd_ps(_mm256_loadu_ps(q + 8), codes8(c + 8), s);
    s = _mm256_fmadd_ps(_mm256_loadu_ps(q + 16), codes8(c + 16), s);
    return _mm256_fmadd_ps(_mm256_loadu_ps(q + 24), codes8(c + 24), s);
}

inline __m256 scale_of(const block_q8_0& b) { return _mm256_set1_ps(_cvtsh_ss(b.d)); }

// Scores against Q8_0 rows: per row and block, d · (q · codes); 4 rows at a time.
void dot_rows_q8_0_1(const float* q, const void* rows, int64_t n, int64_t K, float* out) {
    const int64_t nb = K / 32;
    const block_q8_0* base = static_cast<const block_q8_0*>(rows);
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        const block_q8_0* r = base + j * nb;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t b = 0; b < nb; b++) {
            const float* qb = q + 32 * b;
            a0 = _mm256_fmadd_ps(block_dot(qb, r[b].qs), scale_of(r[b]), a0);
            a1 = _mm256_fmadd_ps(block_dot(qb, r[nb + b].qs), scale_of(r[nb + b]), a1);
            a2 = _mm256_fmadd_ps(block_dot(qb, r[2 * nb + b].qs), scale_of(r[2 * nb + b]), a2);
            a3 = _mm256_fmadd_ps(block_dot(qb, r[3 * nb + b].qs), scale_of(r[3 * nb + b]), a3);
        }
        out[j] = hsum(a0);
        out[j + 1] = hsum(a1);
        out[j + 2] = hsum(a2);
        out[j + 3] = hsum(a3);
    }
    for (; j < n; j++) {
        const block_q8_0* r = base + j * nb;
        __m256 a = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; b++) a = _mm256_fmadd_ps(block_dot(q + 32 * b, r[b].qs), scale_of(r[b]), a);
        out[j] = hsum(a);
    }
}

// out += Σ_j p_j v_j over Q8_0 rows: p_j d folded into one broadcast per block.
void axpy_rows_q8_0_1(const float* p, const void* rows, int64_t n, int64_t K, float* out) {
    const int64_t nb = K / 32;
    const block_q8_0* base = static_cast<const block_q8_0*>(rows);
    if (K <= 128) { // head sizes of every OPT model: the output row lives in registers
        __m256 acc[16];
        for (int64_t v = 0; v < 4 * nb; v++) acc[v] = _mm256_loadu_ps(out + 8 * v);
        for (int64_t j = 0; j < n; j++) {
            if (p[j] == 0.0f) continue;
            const block_q8_0* r = base + j * nb;
            for (int64_t b = 0; b < nb; b++) {
                const __m256 s = _mm256_set1_ps(p[j] * _cvtsh_ss(r[b].d));
                for (int t = 0; t < 4; t++) acc[4 * b + t] = _mm256_fmadd_ps(s, codes8(r[b].qs + 8 * t), acc[4 * b + t]);
            }
        }
        for (int64_t v = 0; v < 4 * nb; v++) _mm256_storeu_ps(out + 8 * v, acc[v]);
        return;
    }
    for (int64_t j = 0; j < n; j++) {
        if (p[j] == 0.0f) continue;
        const block_q8_0* r = base + j * nb;
        for (int64_t b = 0; b < nb; b++) {
            const __m256 s = _mm256_set1_ps(p[j] * _cvtsh_ss(r[b].d));
            for (int t = 0; t < 4; t++) {
                float* o = out + 32 * b + 8 * t;
                _mm256_storeu_ps(o, _mm256_fmadd_ps(s, codes8(r[b].qs + 8 * t), _mm256_loadu_ps(o)));
            }
        }
    }
}

// The F16 cache's store: f32 -> f16 by F16C, nearest even, which gives the reference f32_to_f16's
// bits for every input (overflow to inf, subnormals, NaNs quieted with their top payload bits); the
// reference converts in software, 2-3% of a decode step's samples.
void to_f16(const float* x, void* y, int64_t n) {
    uint16_t* o = static_cast<uint16_t*>(y);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i*)(o + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; i++) o[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// Q8_0 rows, one query at a time (a Q8_0 cache serves long decode contexts, one query per row).
void dot_rows_q8_0(const float* q, int64_t ldq, int64_t nq, const void* rows, int64_t n, int64_t K, float* out, int64_t ldo) {
    for (int64_t i = 0; i < nq; i++) dot_rows_q8_0_1(q + i * ldq, rows, n, K, out + i * ldo);
}
void axpy_rows_q8_0(const float* p, int64_t ldp, int64_t nq, const void* rows, int64_t n, int64_t K, float* out, int64_t ldo) {
    for (int64_t i = 0; i < nq; i++) axpy_rows_q8_0_1(p + i * ldp, rows, n, K, out + i * ldo);
}

} // namespace

void cache_kernels_avx2(TypeKernels* type) {
    type[PANOPT_DTYPE_F32].dot_rows = dot_rows<PANOPT_DTYPE_F32>;
    type[PANOPT_DTYPE_F32].axpy_rows = axpy_rows<PANOPT_DTYPE_F32>;
    type[PANOPT_DTYPE_F16].dot_rows = dot_rows<PANOPT_DTYPE_F16>;
    type[PANOPT_DTYPE_F16].axpy_rows = axpy_rows<PANOPT_DTYPE_F16>;
    type[PANOPT_DTYPE_F16].quantize_row = to_f16;
    type[PANOPT_DTYPE_Q8_0].dot_rows = dot_rows_q8_0;
    type[PANOPT_DTYPE_Q8_0].axpy_rows = axpy_rows_q8_0;
}

} // namespace panopt
