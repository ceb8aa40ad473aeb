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

// Scores against Q8_0 rows: per row and block, d · (q · codes); 4 rows at a time, their sums
// reduced together by hsum4 (in hsum's order, so a row's score is the same in a group or alone).
// NB: blocks per row, a template argument for the head sizes 32..128; 0: K / 32. (Converting a
// chunk of rows' scales 8 at a time before their products, to load each as a broadcast, was tried:
// no faster in L2, and whole decode steps at T = 1984 ran slower in 5 of 6 alternations, the
// chunk's lines then fetched before its products rather than while they ran.)
template <int NB>
void dot_rows_q8_0_1(const float* q, const void* rows, int64_t n, int64_t K, float* out) {
    const int64_t nb = NB ? NB : K / 32;
    const block_q8_0* r = static_cast<const block_q8_0*>(rows);
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
        for (int64_t b = 0; b < nb; b++)
            for (int t = 0; t < 4; t++) {
                const block_q8_0& blk = r[(j + t) * nb + b];
                a[t] = _mm256_fmadd_ps(block_dot(q + 32 * b, blk.qs), scale_of(blk), a[t]);
            }
        hsum4(a[0], a[1], a[2], a[3], out + j);
    }
    for (; j < n; j++) {
        __m256 a = _mm256_setzero_ps();
        for (int64_t b = 0; b < nb; b++) a = _mm256_fmadd_ps(block_dot(q + 32 * b, r[j * nb + b].qs), scale_of(r[j * nb + b]), a);
        out[j] = hsum(a);
    }
}

// out += Σ_j p_j v_j over Q8_0 rows: p_j d folded into one broadcast per block. With NB a template
// argument (head sizes 32..128) the output row stays in registers across all rows (with a run-time
// block count it lived on the stack, each FMA then waiting on the last one's store); NB = 0:
// K / 32 blocks, the output updated in memory.
template <int NB>
void axpy_rows_q8_0_1(const float* p, const void* rows, int64_t n, int64_t K, float* out) {
    const int64_t nb = NB ? NB : K / 32;
    const block_q8_0* r = static_cast<const block_q8_0*>(rows);
    if constexpr (NB > 0) {
        __m256 acc[4 * NB];
        for (int v = 0; v < 4 * NB; v++) acc[v] = _mm256_loadu_ps(out + 8 * v);
        for (int64_t j = 0; j < n; j++) {
            if (p[j] == 0.0f) continue;
#pragma GCC unroll 4
            for (int b = 0; b < NB; b++) {
                const __m256 s = _mm256_set1_ps(p[j] * _cvtsh_ss(r[j * NB + b].d));
#pragma GCC unroll 4
                for (int t = 0; t < 4; t++) acc[4 * b + t] = _mm256_fmadd_ps(s, codes8(r[j * NB + b].qs + 8 * t), acc[4 * b + t]);
            }
        }
        for (int v = 0; v < 4 * NB; v++) _mm256_storeu_ps(out + 8 * v, acc[v]);
    } else {
        for (int64_t j = 0; j < n; j++) {
            if (p[j] == 0.0f) continue;
            for (int64_t b = 0; b < nb; b++) {
                const __m256 s = _mm256_set1_ps(p[j] * _cvtsh_ss(r[j * nb + b].d));
                for (int t = 0; t < 4; t++) {
                    float* o = out + 32 * b + 8 * t;
                    _mm256_storeu_ps(o, _mm256_fmadd_ps(s, codes8(r[j * nb + b].qs + 8 * t), _mm256_loadu_ps(o)));
                }
            }
        }
    }
}

// The kernels for K elements per row: NB = K / 32 for the head sizes 32..128, else the generic 0.
using RowsKernel = void (*)(const float*, const void*, int64_t, int64_t, float*);
constexpr RowsKernel kDotQ8_0[] = {dot_rows_q8_0_1<0>, dot_rows_q8_0_1<1>, dot_rows_q8_0_1<2>, dot_rows_q8_0_1<3>, dot_rows_q8_0_1<4>};
constexpr RowsKernel kAxpyQ8_0[] = {axpy_rows_q8_0_1<0>, axpy_rows_q8_0_1<1>, axpy_rows_q8_0_1<2>, axpy_rows_q8_0_1<3>,
                                    axpy_rows_q8_0_1<4>};
inline int64_t fixed_nb(int64_t K) { return K % 32 == 0 && K <= 128 ? K / 32 : 0; }

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
    const RowsKernel f = kDotQ8_0[fixed_nb(K)];
    for (int64_t i = 0; i < nq; i++) f(q + i * ldq, rows, n, K, out + i * ldo);
}
void axpy_rows_q8_0(const float* p, int64_t ldp, int64_t nq, const void* rows, int64_t n, int64_t K, float* out, int64_t ldo) {
    const RowsKernel f = kAxpyQ8_0[fixed_nb(K)];
    for (int64_t i = 0; i < nq; i++) f(p + i * ldp, rows, n, K, out + i * ldo);
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
