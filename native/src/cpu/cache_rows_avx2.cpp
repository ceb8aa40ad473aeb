// cache_rows_avx2.cpp — attention over the KV cache with AVX2 (compiled with -mavx2 -mfma -mf16c;
// internal linkage only, see kernels.h). A decode step reads every cached key and value once, so
// these loops are bandwidth-bound at long contexts: an F16 cache halves the bytes, a Q8_0 cache
// (32 int8 + one f16 scale per 32 elements) takes 34/128 of the f32 bytes.
//   scores: 4 keys at a time (independent FMA chains), 8 elements per step;
//   values: out += p_j v_j with out kept in registers across all rows when K <= 128.
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

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// 8 elements k..k+7 of an F32 or F16 row as f32 (k a multiple of 8).
template <int DT> inline __m256 load8(const void* row, int64_t k) {
    if (DT == PANOPT_DTYPE_F32) return _mm256_loadu_ps(static_cast<const float*>(row) + k);
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(static_cast<const uint16_t*>(row) + k)));
}

// Scalar tail for K % 8 elements.
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
void dot_rows_q8_0(const float* q, const void* rows, int64_t n, int64_t K, float* out) {
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
void axpy_rows_q8_0(const float* p, const void* rows, int64_t n, int64_t K, float* out) {
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

} // namespace

void cache_kernels_avx2(TypeKernels* type) {
    type[PANOPT_DTYPE_F32].dot_rows = dot_rows<PANOPT_DTYPE_F32>;
    type[PANOPT_DTYPE_F32].axpy_rows = axpy_rows<PANOPT_DTYPE_F32>;
    type[PANOPT_DTYPE_F16].dot_rows = dot_rows<PANOPT_DTYPE_F16>;
    type[PANOPT_DTYPE_F16].axpy_rows = axpy_rows<PANOPT_DTYPE_F16>;
    type[PANOPT_DTYPE_Q8_0].dot_rows = dot_rows_q8_0;
    type[PANOPT_DTYPE_Q8_0].axpy_rows = axpy_rows_q8_0;
}

} // namespace panopt
