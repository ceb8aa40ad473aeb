// cache_rows_avx2.cpp — attention over the KV cache with AVX2 (compiled with -mavx2 -mfma -mf16c;
// internal linkage only, see kernels.h). A decode step reads every cached key and value once, so
// these loops are bandwidth-bound at long contexts: an F16 cache halves the bytes, a Q8_0 cache
// (32 int8 + one f16 scale per 32 elements) takes 34/128 of the f32 bytes.
//   scores: 4 keys at a time (independent FMA chains), 8 elements per step;
//   values: out += p_j v_j with out kept in registers across all rows when K <= 128.
#include "kernels.h"

#include <immintrin.h>
#include <string.h>

#include "../dtype.h"
#include "../quant/blocks.h"

namespace panopt {
namespace {

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// 8 elements k..k+7 of a row as f32 (k a multiple of 8; for Q8_0 inside one 32-block).
template <int DT> inline __m256 load8(const void* row, int64_t k) {
    if (DT == PANOPT_DTYPE_F32) return _mm256_loadu_ps(static_cast<const float*>(row) + k);
    if (DT == PANOPT_DTYPE_F16)
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(static_cast<const uint16_t*>(row) + k)));
    const block_q8_0* b = static_cast<const block_q8_0*>(row) + k / 32;
    const __m128i q = _mm_loadl_epi64((const __m128i*)(b->qs + k % 32));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), _mm256_set1_ps(_cvtsh_ss(b->d)));
}

// Scalar tail for K % 8 elements (F32/F16 only: Q8_0 rows are whole blocks of 32).
template <int DT> inline float elem(const void* row, int64_t k) {
    if (DT == PANOPT_DTYPE_F32) return static_cast<const float*>(row)[k];
    return _cvtsh_ss(static_cast<const uint16_t*>(row)[k]);
}

template <int DT> void dot_rows(const float* q, const void* rows, int64_t n, int64_t K, float* out) {
    const int64_t rb = row_bytes(DT, K), K8 = K & ~(int64_t)7;
    const char* base = static_cast<const char*>(rows);
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        const char* r0 = base + j * rb;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t k = 0; k < K8; k += 8) {
            const __m256 qv = _mm256_loadu_ps(q + k);
            a0 = _mm256_fmadd_ps(qv, load8<DT>(r0, k), a0);
            a1 = _mm256_fmadd_ps(qv, load8<DT>(r0 + rb, k), a1);
            a2 = _mm256_fmadd_ps(qv, load8<DT>(r0 + 2 * rb, k), a2);
            a3 = _mm256_fmadd_ps(qv, load8<DT>(r0 + 3 * rb, k), a3);
        }
        float s[4] = {hsum(a0), hsum(a1), hsum(a2), hsum(a3)};
        for (int64_t k = K8; k < K; k++)
            for (int i = 0; i < 4; i++) s[i] += q[k] * elem<DT>(r0 + i * rb, k);
        for (int i = 0; i < 4; i++) out[j + i] = s[i];
    }
    for (; j < n; j++) {
        const char* r = base + j * rb;
        __m256 a = _mm256_setzero_ps();
        for (int64_t k = 0; k < K8; k += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(q + k), load8<DT>(r, k), a);
        float s = hsum(a);
        for (int64_t k = K8; k < K; k++) s += q[k] * elem<DT>(r, k);
        out[j] = s;
    }
}

template <int DT> void axpy_rows(const float* p, const void* rows, int64_t n, int64_t K, float* out) {
    const int64_t rb = row_bytes(DT, K), K8 = K & ~(int64_t)7;
    const char* base = static_cast<const char*>(rows);
    if (K8 == K && K <= 128) { // head sizes of every OPT model: the output row lives in registers
        __m256 acc[16];
        const int64_t nv = K / 8;
        for (int64_t v = 0; v < nv; v++) acc[v] = _mm256_loadu_ps(out + 8 * v);
        for (int64_t j = 0; j < n; j++) {
            if (p[j] == 0.0f) continue;
            const __m256 pj = _mm256_set1_ps(p[j]);
            const char* r = base + j * rb;
            for (int64_t v = 0; v < nv; v++) acc[v] = _mm256_fmadd_ps(pj, load8<DT>(r, 8 * v), acc[v]);
        }
        for (int64_t v = 0; v < nv; v++) _mm256_storeu_ps(out + 8 * v, acc[v]);
        return;
    }
    for (int64_t j = 0; j < n; j++) {
        if (p[j] == 0.0f) continue;
        const __m256 pj = _mm256_set1_ps(p[j]);
        const char* r = base + j * rb;
        for (int64_t k = 0; k < K8; k += 8)
            _mm256_storeu_ps(out + k, _mm256_fmadd_ps(pj, load8<DT>(r, k), _mm256_loadu_ps(out + k)));
        for (int64_t k = K8; k < K; k++) out[k] += p[j] * elem<DT>(r, k);
    }
}

} // namespace

void cache_kernels_avx2(TypeKernels* type) {
    type[PANOPT_DTYPE_F32].dot_rows = dot_rows<PANOPT_DTYPE_F32>;
    type[PANOPT_DTYPE_F32].axpy_rows = axpy_rows<PANOPT_DTYPE_F32>;
    type[PANOPT_DTYPE_F16].dot_rows = dot_rows<PANOPT_DTYPE_F16>;
    type[PANOPT_DTYPE_F16].axpy_rows = axpy_rows<PANOPT_DTYPE_F16>;
    type[PANOPT_DTYPE_Q8_0].dot_rows = dot_rows<PANOPT_DTYPE_Q8_0>;
    type[PANOPT_DTYPE_Q8_0].axpy_rows = axpy_rows<PANOPT_DTYPE_Q8_0>;
}

} // namespace panopt
