// kernels_avx512.cpp — AVX-512 (F/BW/VL/DQ + FMA + F16C) kernels. Compiled with AVX-512 flags:
// everything here has internal linkage (anonymous namespace) and uses no std:: inline code, so
// nothing compiled with these flags can be picked up by generic code (see kernels.h).
#include "kernels.h"

#include "../dtype.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "../../include/panopt.h"

namespace panopt {
namespace {

inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
inline __mmask16 tail_mask(int64_t n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u); }

// 16 elements of dtype DT starting at element i of p, as f32 (unaligned load).
template <int DT> inline __m512 load16(const void* p, int64_t i) {
    if (DT == PANOPT_DTYPE_F32) return _mm512_loadu_ps((const float*)p + i);
    __m256i h = _mm256_loadu_si256((const __m256i*)((const uint16_t*)p + i));
    if (DT == PANOPT_DTYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
// Same, only the lanes in m are read (masked loads never fault on masked-off lanes).
template <int DT> inline __m512 load16m(const void* p, int64_t i, __mmask16 m) {
    if (DT == PANOPT_DTYPE_F32) return _mm512_maskz_loadu_ps(m, (const float*)p + i);
    __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t*)p + i);
    if (DT == PANOPT_DTYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
inline __m512 load16m_dt(const void* p, int32_t dt, int64_t i, __mmask16 m) {
    if (dt == PANOPT_DTYPE_F16) return load16m<PANOPT_DTYPE_F16>(p, i, m);
    if (dt == PANOPT_DTYPE_BF16) return load16m<PANOPT_DTYPE_BF16>(p, i, m);
    return load16m<PANOPT_DTYPE_F32>(p, i, m);
}

template <int DT> void to_f32(const void* src, float* dst, int64_t n) {
    const int32_t dt = DT;
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(dst + i, m, load16m_dt(src, dt, i, m));
    }
}

// ---------------------------------------------------------------------------------------------
// Linear, small M (decode): memory bound. Stream 4 W rows at a time, converting 16 weights per
// load to f32, and FMA them into MB x 4 accumulators (one per X row and W row); W is read once.
constexpr int64_t PF_ROWS = 16;

template <int DT, int MB, int R>
void gemv_rows(const LinearArgs* a, int64_t m0, int64_t n, float* bias_out /*[R] or null*/) {
    const int64_t K = a->K;
    __m512 acc[MB][R];
    for (int i = 0; i < MB; i++)
        for (int r = 0; r < R; r++) acc[i][r] = _mm512_setzero_ps();
    int64_t k = 0;
    const char* wb = static_cast<const char*>(a->w);
    const int64_t es = kBlockBytes[DT];
    for (; k + 16 <= K; k += 16) {
        __m512 w[R];
        // W is streamed from DRAM once: prefetch the rows PF_ROWS ahead (same column) so enough
        // cache misses are in flight for a single core to approach memory bandwidth. Into L2, not
        // L1: 16 rows ahead is tens of KB, which in L1 would evict lines before they are used
        // (T0 measured 12-13 ms vs 8-11 ms per opt-125m F16 decode step here).
        if (((k * es) & 63) == 0)
            for (int r = 0; r < R; r++) _mm_prefetch(wb + ((n + r + PF_ROWS) * K + k) * es, _MM_HINT_T1);
        for (int r = 0; r < R; r++) w[r] = load16<DT>(a->w, (n + r) * K + k);
        for (int i = 0; i < MB; i++) {
            __m512 x = _mm512_loadu_ps(a->x + (m0 + i) * a->ldx + k);
            for (int r = 0; r < R; r++) acc[i][r] = _mm512_fmadd_ps(x, w[r], acc[i][r]);
        }
    }
    if (k < K) {
        __mmask16 msk = tail_mask(K - k);
        __m512 w[R];
        for (int r = 0; r < R; r++) w[r] = load16m<DT>(a->w, (n + r) * K + k, msk);
        for (int i = 0; i < MB; i++) {
            __m512 x = _mm512_maskz_loadu_ps(msk, a->x + (m0 + i) * a->ldx + k);
            for (int r = 0; r < R; r++) acc[i][r] = _mm512_fmadd_ps(x, w[r], acc[i][r]);
        }
    }
    for (int i = 0; i < MB; i++)
        for (int r = 0; r < R; r++)
            a->y[(m0 + i) * a->ldy + n + r] = _mm512_reduce_add_ps(acc[i][r]) + (bias_out ? bias_out[r] : 0.0f);
}

template <int DT, int MB> void gemv(const LinearArgs* a, int64_t m0, int64_t n0, int64_t n1) {
    float b[4] = {0, 0, 0, 0};
    int64_t n = n0;
    for (; n + 4 <= n1; n += 4) {
        if (a->bias) _mm_storeu_ps(b, _mm512_castps512_ps128(load16m_dt(a->bias, a->bdtype, n, 0xf)));
        gemv_rows<DT, MB, 4>(a, m0, n, a->bias ? b : nullptr);
    }
    for (; n < n1; n++) {
        if (a->bias) b[0] = _mm_cvtss_f32(_mm512_castps512_ps128(load16m_dt(a->bias, a->bdtype, n, 0x1)));
        gemv_rows<DT, MB, 1>(a, m0, n, a->bias ? b : nullptr);
    }
}

template <int DT> void gemv_dispatch(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    for (int64_t m = m0; m < m1;) {
        int64_t mb = imin(m1 - m, 6);
        switch (mb) {
        case 1: gemv<DT, 1>(a, m, n0, n1); break;
        case 2: gemv<DT, 2>(a, m, n0, n1); break;
        case 3: gemv<DT, 3>(a, m, n0, n1); break;
        case 4: gemv<DT, 4>(a, m, n0, n1); break;
        case 5: gemv<DT, 5>(a, m, n0, n1); break;
        default: gemv<DT, 6>(a, m, n0, n1); break;
        }
        m += mb;
    }
}

// ---------------------------------------------------------------------------------------------
// Linear, large M (prefill): compute bound. Like a BLAS GEMM:
//  1. pack: a block of NR=32 W rows x KC columns is converted to f32 and transposed into a
//     panel P[k][0..32) (so one k gives 32 consecutive outputs) in per-thread scratch; the
//     conversion/transposition is paid once and reused by every X row.
//  2. micro-kernel: for MR=12 X rows, acc[i][0..2) (24 zmm registers) += broadcast(X[i,k]) * P[k]
//     for every k of the block: 24 FMAs per 2 panel loads + 12 broadcasts, all in registers.
//  3. store the 12x32 tile (masked at the N edge), adding the bias (first K block) or the partial
//     sums already in Y (later K blocks).
constexpr int64_t NR = 32;
constexpr int64_t MR = 12;
constexpr int64_t KC = 256;

// the packed F16/BF16 panel, or the f32 activation scales of the quantized products (from AVX2)
// Also what the AVX2 entries this table inherits need (the quantized products, linear_range_dq).
int64_t linear_scratch_floats(int64_t K) {
    const int64_t own = KC * NR + NR > K / 4 + 64 ? KC * NR + NR : K / 4 + 64;
    const int64_t inherited = kernels_avx2()->linear_scratch_floats(K);
    return own > inherited ? own : inherited;
}

// 16x16 in-register transpose: out[c] = column c of the 16 rows r[0..16).
inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // s[4g+e]: in 128-bit lane L, rows 4g..4g+3 of column 4L+e
    __m512 s[16];
    for (int g = 0; g < 4; g++) {
        __m512d t0 = _mm512_castps_pd(t[4 * g]), t1 = _mm512_castps_pd(t[4 * g + 1]);
        __m512d t2 = _mm512_castps_pd(t[4 * g + 2]), t3 = _mm512_castps_pd(t[4 * g + 3]);
        s[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        s[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        s[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        s[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    for (int e = 0; e < 4; e++) {
        __m512 plo = _mm512_shuffle_f32x4(s[e], s[4 + e], 0x44);
        __m512 phi = _mm512_shuffle_f32x4(s[e], s[4 + e], 0xEE);
        __m512 qlo = _mm512_shuffle_f32x4(s[8 + e], s[12 + e], 0x44);
        __m512 qhi = _mm512_shuffle_f32x4(s[8 + e], s[12 + e], 0xEE);
        r[0 + e] = _mm512_shuffle_f32x4(plo, qlo, 0x88);
        r[4 + e] = _mm512_shuffle_f32x4(plo, qlo, 0xDD);
        r[8 + e] = _mm512_shuffle_f32x4(phi, qhi, 0x88);
        r[12 + e] = _mm512_shuffle_f32x4(phi, qhi, 0xDD);
    }
}

// P[k*NR + j] = W[nb + j, kb + k] for j < nn, k < kk; 0 for j >= nn.
template <int DT>
void pack_panel(const LinearArgs* a, int64_t nb, int64_t nn, int64_t kb, int64_t kk, float* P) {
    const int64_t K = a->K;
    for (int64_t jb = 0; jb < NR; jb += 16) {
        for (int64_t kc = 0; kc < kk; kc += 16) {
            int64_t kn = imin(16, kk - kc);
            __mmask16 msk = tail_mask(kn);
            __m512 r[16];
            for (int j = 0; j < 16; j++) {
                int64_t row = jb + j;
                r[j] = row < nn ? load16m<DT>(a->w, (nb + row) * K + kb + kc, msk) : _mm512_setzero_ps();
            }
            transpose16(r);
            for (int64_t c = 0; c < kn; c++) _mm512_store_ps(P + (kc + c) * NR + jb, r[c]);
        }
    }
}

// Writes an M_R x 32 tile of sums (columns past nn masked off), adding the bias (the first K
// block) or the partial sums already in Y (later K blocks).
template <int M_R>
inline void store_tile(__m512* c0, __m512* c1, float* y, int64_t ldy, int64_t nn, const float* add_vec, bool accumulate) {
    __mmask16 m0 = tail_mask(nn), m1 = nn > 16 ? tail_mask(nn - 16) : (__mmask16)0;
    __m512 bias0 = add_vec ? _mm512_loadu_ps(add_vec) : _mm512_setzero_ps();
    __m512 bias1 = add_vec ? _mm512_loadu_ps(add_vec + 16) : _mm512_setzero_ps();
#pragma GCC unroll 12
    for (int i = 0; i < M_R; i++) {
        float* yr = y + i * ldy;
        if (accumulate) {
            c0[i] = _mm512_add_ps(c0[i], _mm512_maskz_loadu_ps(m0, yr));
            c1[i] = _mm512_add_ps(c1[i], _mm512_maskz_loadu_ps(m1, yr + 16));
        } else {
            c0[i] = _mm512_add_ps(c0[i], bias0);
            c1[i] = _mm512_add_ps(c1[i], bias1);
        }
        _mm512_mask_storeu_ps(yr, m0, c0[i]);
        _mm512_mask_storeu_ps(yr + 16, m1, c1[i]);
    }
}

template <int M_R>
void micro(const float* x, int64_t ldx, const float* P, int64_t kk, float* y, int64_t ldy, int64_t nn,
           const float* add_vec /* bias [NR] or null */, bool accumulate) {
    __m512 c0[M_R], c1[M_R];
#pragma GCC unroll 12
    for (int i = 0; i < M_R; i++) c0[i] = c1[i] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kk; k++) {
        __m512 b0 = _mm512_load_ps(P + k * NR);
        __m512 b1 = _mm512_load_ps(P + k * NR + 16);
#pragma GCC unroll 12
        for (int i = 0; i < M_R; i++) {
            __m512 av = _mm512_set1_ps(x[i * ldx + k]);
            c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
        }
    }
    store_tile<M_R>(c0, c1, y, ldy, nn, add_vec, accumulate);
}

typedef void (*MicroFn)(const float*, int64_t, const float*, int64_t, float*, int64_t, int64_t, const float*, bool);
const MicroFn kMicro[MR + 1] = {nullptr,   micro<1>, micro<2>, micro<3>,  micro<4>,  micro<5>, micro<6>,
                                micro<7>,  micro<8>, micro<9>, micro<10>, micro<11>, micro<12>};

// bias[0:32) = the bias of outputs nb..nb+nn as f32, zeros past nn.
inline void stage_bias(const LinearArgs* a, int64_t nb, int64_t nn, float* bias) {
    _mm512_storeu_ps(bias, load16m_dt(a->bias, a->bdtype, nb, tail_mask(nn)));
    _mm512_storeu_ps(bias + 16, nn > 16 ? load16m_dt(a->bias, a->bdtype, nb + 16, tail_mask(nn - 16)) : _mm512_setzero_ps());
}

template <int DT> void gemm(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
    float* P = scratch;            // KC * NR, 64-byte aligned
    float* bias = scratch + KC * NR; // NR
    const int64_t K = a->K;
    for (int64_t nb = n0; nb < n1; nb += NR) {
        int64_t nn = imin(NR, n1 - nb);
        if (a->bias) stage_bias(a, nb, nn, bias);
        for (int64_t kb = 0; kb < K; kb += KC) {
            int64_t kk = imin(KC, K - kb);
            pack_panel<DT>(a, nb, nn, kb, kk, P);
            for (int64_t m = m0; m < m1; m += MR) {
                int64_t mr = imin(MR, m1 - m);
                kMicro[mr](a->x + m * a->ldx + kb, a->ldx, P, kk, a->y + m * a->ldy + nb, a->ldy, nn,
                           a->bias ? bias : nullptr, kb > 0);
            }
        }
    }
}

template <int DT>
void linear_range(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
    if (m1 <= m0 || n1 <= n0) return;
    if (a->K == 0) { // degenerate: Y = bias
        for (int64_t m = m0; m < m1; m++)
            for (int64_t n = n0; n < n1; n++) {
                float b = 0;
                if (a->bias) b = _mm_cvtss_f32(_mm512_castps512_ps128(load16m_dt(a->bias, a->bdtype, n, 1)));
                a->y[m * a->ldy + n] = b;
            }
        return;
    }
    bool small = (m1 - m0) < 8;
    if (small) gemv_dispatch<DT>(a, m0, m1, n0, n1);
    else gemm<DT>(a, m0, m1, n0, n1, scratch);
}

// ---------------------------------------------------------------------------------------------
// Opt-in bf16 products (a session's compute type BF16, in prompt passes; kernels.h
// linear_range_bf16), by AVX512_BF16's vdpbf16ps. The GEMM above with k taken in pairs: the panel
// holds, for each pair of columns (k, k+1) and output j, one 32-bit lane of two bf16 (k in the
// low half), and the activation rows arrive in bf16 (LinearArgs::xq, converted once per pass), so
// a row's pair, broadcast once (a vpbroadcastd load) for the tile's two vectors, makes each
// vdpbf16ps add 2 products to each of 16 f32 sums: 32 multiply-adds per instruction where the FMA
// does 16. Rounding to bf16 is to nearest even,
// f32_to_bf16's bits; the sums stay f32. Functions carry the bf16 target themselves (this file
// is built without it); the table only gets them where the CPU has AVX512_BF16.
#define PANOPT_BF16 __attribute__((target("avx512bf16")))
constexpr int64_t KC2 = 2 * KC; // k per panel block: the f32 panel's bytes

// 16 f32 -> their bf16 bits (nearest even; a NaN stays a quiet NaN) in each lane's low half.
inline __m512i bf16_bits(__m512 v) {
    const __m512i u = _mm512_castps_si512(v);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
    return _mm512_mask_or_epi32(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), _mm512_srli_epi32(u, 16),
                                _mm512_set1_epi32(0x40));
}

// The activation conversion (the BF16 type's quantize_row here): y[i] = bf16(x[i]), i < n.
void to_bf16(const float* x, void* y, int64_t n) {
    uint16_t* o = static_cast<uint16_t*>(y);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        _mm512_mask_cvtepi32_storeu_epi16(o + i, m, bf16_bits(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

// P[(k / 2) NR + j] = bf16 pair (W[nb + j, kb + k], W[nb + j, kb + k + 1]) for even k < kk, j < nn;
// zeros for j >= nn and for k >= kk (an odd kk's last pair).
template <int DT>
void pack_panel_bf16(const LinearArgs* a, int64_t nb, int64_t nn, int64_t kb, int64_t kk, uint32_t* P) {
    const int64_t K = a->K;
    for (int64_t jb = 0; jb < NR; jb += 16) {
        for (int64_t kc = 0; kc < kk; kc += 16) {
            const int64_t kn = imin(16, kk - kc);
            const __mmask16 msk = tail_mask(kn);
            __m512 r[16];
            for (int j = 0; j < 16; j++) {
                const int64_t row = jb + j;
                r[j] = row < nn ? load16m<DT>(a->w, (nb + row) * K + kb + kc, msk) : _mm512_setzero_ps();
            }
            transpose16(r); // r[c] = column kb + kc + c of the 16 rows
            for (int64_t c = 0; c < kn; c += 2)
                _mm512_store_si512(P + (kc + c) / 2 * NR + jb,
                                   _mm512_or_si512(bf16_bits(r[c]), _mm512_slli_epi32(bf16_bits(r[c + 1]), 16)));
        }
    }
}

// Y tile (M_R rows x 32 outputs) over np pairs: x = the rows' bf16 at the block's first k
// (row stride ldx elements), P the pair panel.
template <int M_R>
PANOPT_BF16 void micro_bf16(const uint16_t* x, int64_t ldx, const uint32_t* P, int64_t np, float* y, int64_t ldy,
                            int64_t nn, const float* add_vec, bool accumulate) {
    __m512 c0[M_R], c1[M_R];
#pragma GCC unroll 12
    for (int i = 0; i < M_R; i++) c0[i] = c1[i] = _mm512_setzero_ps();
    for (int64_t p = 0; p < np; p++) {
        const __m512bh b0 = (__m512bh)_mm512_load_si512(P + p * NR);
        const __m512bh b1 = (__m512bh)_mm512_load_si512(P + p * NR + 16);
#pragma GCC unroll 12
        for (int i = 0; i < M_R; i++) {
            int32_t pair;
            memcpy(&pair, x + i * ldx + 2 * p, 4);
            const __m512bh av = (__m512bh)_mm512_set1_epi32(pair);
            c0[i] = _mm512_dpbf16_ps(c0[i], av, b0);
            c1[i] = _mm512_dpbf16_ps(c1[i], av, b1);
        }
    }
    store_tile<M_R>(c0, c1, y, ldy, nn, add_vec, accumulate);
}

typedef void (*MicroBf16Fn)(const uint16_t*, int64_t, const uint32_t*, int64_t, float*, int64_t, int64_t, const float*,
                            bool);
const MicroBf16Fn kMicroBf16[MR + 1] = {nullptr,        micro_bf16<1>,  micro_bf16<2>, micro_bf16<3>,
                                        micro_bf16<4>,  micro_bf16<5>,  micro_bf16<6>, micro_bf16<7>,
                                        micro_bf16<8>,  micro_bf16<9>,  micro_bf16<10>, micro_bf16<11>,
                                        micro_bf16<12>};

template <int DT>
void linear_range_bf16(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
    if (m1 <= m0 || n1 <= n0) return;
    if (a->K == 0) return linear_range<DT>(a, m0, m1, n0, n1, scratch); // Y = bias
    uint32_t* P = reinterpret_cast<uint32_t*>(scratch); // KC2 / 2 pairs x NR lanes, 64-byte aligned
    float* bias = scratch + KC * NR;                     // NR
    const uint16_t* xb = static_cast<const uint16_t*>(a->xq);
    const int64_t ldx = a->ldxq / 2, K = a->K;
    for (int64_t nb = n0; nb < n1; nb += NR) {
        const int64_t nn = imin(NR, n1 - nb);
        if (a->bias) stage_bias(a, nb, nn, bias);
        for (int64_t kb = 0; kb < K; kb += KC2) {
            const int64_t kk = imin(KC2, K - kb);
            pack_panel_bf16<DT>(a, nb, nn, kb, kk, P);
            for (int64_t m = m0; m < m1; m += MR) {
                const int64_t mr = imin(MR, m1 - m);
                kMicroBf16[mr](xb + m * ldx + kb, ldx, P, (kk + 1) / 2, a->y + m * a->ldy + nb, a->ldy, nn,
                               a->bias ? bias : nullptr, kb > 0);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

void layernorm(const float* x, float* y, int64_t n, const void* w, int32_t wdt, const void* b, int32_t bdt,
               float eps) {
    __m512 s = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(tail_mask(n - i), x + i));
    float mean = hsum(s) / (float)n;
    __m512 mv = _mm512_set1_ps(mean);
    __m512 v = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + i), mv);
        v = _mm512_fmadd_ps(d, d, v);
    }
    float inv = 1.0f / sqrtf(hsum(v) / (float)n + eps);
    __m512 iv = _mm512_set1_ps(inv);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mv), iv);
        if (w) {
            __m512 bb = b ? load16m_dt(b, bdt, i, m) : _mm512_setzero_ps();
            t = _mm512_fmadd_ps(t, load16m_dt(w, wdt, i, m), bb);
        }
        _mm512_mask_storeu_ps(y + i, m, t);
    }
}

void activation(int32_t act, float* x, int64_t n) {
    const __m512 zero = _mm512_setzero_ps();
    switch (act) {
    case PANOPT_ACT_RELU:
    case PANOPT_ACT_RELU2:
    case PANOPT_ACT_RELU6:
        for (int64_t i = 0; i < n; i += 16) {
            __mmask16 m = tail_mask(n - i);
            __m512 v = _mm512_max_ps(_mm512_maskz_loadu_ps(m, x + i), zero);
            if (act == PANOPT_ACT_RELU2) v = _mm512_mul_ps(v, v);
            if (act == PANOPT_ACT_RELU6) v = _mm512_min_ps(v, _mm512_set1_ps(6.0f));
            _mm512_mask_storeu_ps(x + i, m, v);
        }
        break;
    case PANOPT_ACT_LINEAR: break;
    default: activation_scalar(act, x, n); break;
    }
}

float dot(const float* a, const float* b, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
    }
    return hsum(_mm512_add_ps(s0, s1));
}

void axpy(float a, const float* x, float* y, int64_t n) {
    __m512 av = _mm512_set1_ps(a);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m,
                              _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}

void add(float* y, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}

// exp(x) for x <= 0 (softmax arguments), Cephes expf polynomial, ~1 ulp; x < -87 gives 0.
inline __m512 exp_neg(__m512 x) {
    __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_LT_OQ);
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500E-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894E-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459E-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201E-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_maskz_scalef_ps((__mmask16)~tiny, p, n);
}

void softmax(float* x, int64_t n) {
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, x + i));
    }
    __m512 mv = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512 s = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512 e = _mm512_maskz_mov_ps(m, exp_neg(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mv)));
        s = _mm512_add_ps(s, e);
        _mm512_mask_storeu_ps(x + i, m, e);
    }
    __m512 inv = _mm512_set1_ps(1.0f / hsum(s));
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv));
    }
}

// The float types; any other type falls back to the scalar entries (kernels_for_isa).
Kernels make_table() {
    Kernels k{};
    k.isa = PANOPT_ISA_AVX512;
    k.name = "avx512";
    k.n_align = NR;
    k.linear_scratch_floats = linear_scratch_floats;
    k.type[PANOPT_DTYPE_F32] = float_type(to_f32<PANOPT_DTYPE_F32>, linear_range<PANOPT_DTYPE_F32>);
    k.type[PANOPT_DTYPE_F16] = float_type(to_f32<PANOPT_DTYPE_F16>, linear_range<PANOPT_DTYPE_F16>);
    k.type[PANOPT_DTYPE_BF16] = float_type(to_f32<PANOPT_DTYPE_BF16>, linear_range<PANOPT_DTYPE_BF16>);
    k.layernorm = layernorm;
    k.activation = activation;
    k.dot = dot;
    k.axpy = axpy;
    k.add = add;
    k.softmax = softmax;
    cache_kernels_avx512(k.type);
    return k;
}

} // namespace

const Kernels* kernels_avx512() {
    static const Kernels table = make_table(); // thread-safe, on first use
    return &table;
}

void bf16_products_avx512(TypeKernels* type) {
    type[PANOPT_DTYPE_F32].linear_range_bf16 = linear_range_bf16<PANOPT_DTYPE_F32>;
    type[PANOPT_DTYPE_F16].linear_range_bf16 = linear_range_bf16<PANOPT_DTYPE_F16>;
    type[PANOPT_DTYPE_BF16].linear_range_bf16 = linear_range_bf16<PANOPT_DTYPE_BF16>;
    type[PANOPT_DTYPE_BF16].quantize_row = to_bf16;
}

} // namespace panopt
