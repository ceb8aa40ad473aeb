// kernels_avx2.cpp — AVX2 + FMA + F16C kernels. Compiled with -mavx2 -mfma -mf16c: everything
// here has internal linkage and uses no std:: inline code (see kernels.h, ODR).
// Same algorithms as kernels_avx512.cpp with 8-wide vectors and 16 registers.
#include "kernels.h"

#include "../dtype.h"
#include "../quant/rows8.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "../../include/panopt.h"

namespace panopt {
namespace {

inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

inline __m256i lane_mask(int64_t n) { // lanes < n set (n in 0..8)
    static const int32_t tbl[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i*)(tbl + 8 - (n > 8 ? 8 : n)));
}

template <int DT> inline __m256 cvt8(__m128i h) {
    if (DT == PANOPT_DTYPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
template <int DT> inline __m256 load8(const void* p, int64_t i) {
    if (DT == PANOPT_DTYPE_F32) return _mm256_loadu_ps((const float*)p + i);
    return cvt8<DT>(_mm_loadu_si128((const __m128i*)((const uint16_t*)p + i)));
}
// First n (< 8) elements, the rest 0; never reads past element i + n.
template <int DT> inline __m256 load8n(const void* p, int64_t i, int64_t n) {
    if (n >= 8) return load8<DT>(p, i);
    if (DT == PANOPT_DTYPE_F32) return _mm256_maskload_ps((const float*)p + i, lane_mask(n));
    uint16_t tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(tmp, (const uint16_t*)p + i, (size_t)n * 2);
    return cvt8<DT>(_mm_loadu_si128((const __m128i*)tmp));
}
inline __m256 load8n_dt(const void* p, int32_t dt, int64_t i, int64_t n) {
    if (dt == PANOPT_DTYPE_F16) return load8n<PANOPT_DTYPE_F16>(p, i, n);
    if (dt == PANOPT_DTYPE_BF16) return load8n<PANOPT_DTYPE_BF16>(p, i, n);
    return load8n<PANOPT_DTYPE_F32>(p, i, n);
}
inline __m256 loadf(const float* p, int64_t n) { return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lane_mask(n)); }
inline void storef(float* p, __m256 v, int64_t n) {
    if (n >= 8) _mm256_storeu_ps(p, v);
    else if (n > 0) _mm256_maskstore_ps(p, lane_mask(n), v);
}
inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
inline float hmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
inline float load1_dt(const void* p, int32_t dt, int64_t i) { return _mm256_cvtss_f32(load8n_dt(p, dt, i, 1)); }

template <int DT> void to_f32(const void* src, float* dst, int64_t n) {
    const int32_t dt = DT;
    for (int64_t i = 0; i < n; i += 8) storef(dst + i, load8n_dt(src, dt, i, n - i), n - i);
}

// ---- Linear, small M: stream W rows (4 at a time), MB X rows x 4 W rows of accumulators. ----
constexpr int64_t PF_ROWS = 16;

template <int DT, int MB, int R> void gemv_rows(const LinearArgs* a, int64_t m0, int64_t n) {
    const int64_t K = a->K;
    __m256 acc[MB][R];
    for (int i = 0; i < MB; i++)
        for (int r = 0; r < R; r++) acc[i][r] = _mm256_setzero_ps();
    int64_t k = 0;
    const char* wb = static_cast<const char*>(a->w);
    const int64_t es = kBlockBytes[DT];
    for (; k + 8 <= K; k += 8) {
        __m256 w[R];
        // prefetch the rows PF_ROWS ahead: keeps enough DRAM misses in flight (see avx512 file)
        if (((k * es) & 63) == 0)
            for (int r = 0; r < R; r++) _mm_prefetch(wb + ((n + r + PF_ROWS) * K + k) * es, _MM_HINT_T1);
        for (int r = 0; r < R; r++) w[r] = load8<DT>(a->w, (n + r) * K + k);
        for (int i = 0; i < MB; i++) {
            __m256 x = _mm256_loadu_ps(a->x + (m0 + i) * a->ldx + k);
            for (int r = 0; r < R; r++) acc[i][r] = _mm256_fmadd_ps(x, w[r], acc[i][r]);
        }
    }
    if (k < K) {
        __m256 w[R];
        for (int r = 0; r < R; r++) w[r] = load8n<DT>(a->w, (n + r) * K + k, K - k);
        for (int i = 0; i < MB; i++) {
            __m256 x = loadf(a->x + (m0 + i) * a->ldx + k, K - k);
            for (int r = 0; r < R; r++) acc[i][r] = _mm256_fmadd_ps(x, w[r], acc[i][r]);
        }
    }
    for (int r = 0; r < R; r++) {
        float b = a->bias ? load1_dt(a->bias, a->bdtype, n + r) : 0.0f;
        for (int i = 0; i < MB; i++) a->y[(m0 + i) * a->ldy + n + r] = hsum(acc[i][r]) + b;
    }
}
template <int DT, int MB> void gemv(const LinearArgs* a, int64_t m0, int64_t n0, int64_t n1) {
    int64_t n = n0;
    for (; n + 4 <= n1; n += 4) gemv_rows<DT, MB, 4>(a, m0, n);
    for (; n < n1; n++) gemv_rows<DT, MB, 1>(a, m0, n);
}
template <int DT> void gemv_dispatch(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    int64_t m = m0;
    for (; m + 2 <= m1; m += 2) gemv<DT, 2>(a, m, n0, n1);
    if (m < m1) gemv<DT, 1>(a, m, n0, n1);
}

// ---- Linear, large M: packed panel of NR=16 W rows (f32, transposed: P[k][0..16)) and a
// 6x16 register tile (12 ymm accumulators) += broadcast(X[i,k]) * P[k]. See kernels_avx512.cpp.
constexpr int64_t NR = 16;
constexpr int64_t MR = 6;
constexpr int64_t KC = 256;

// the packed panel, its bias and (quantized weights) the dequantized rows before packing or one
// dequantized row; or the f32 activation scales of the quantized products (quant_dot_avx2.cpp);
// or those of the 8-row group kernels and their tile of repacked weights (quant_rows8_avx2.cpp)
int64_t linear_scratch_floats(int64_t K) {
    const int64_t panel = 2 * KC * NR + NR, row = K + 64, r8 = rows8_scratch_floats(K);
    return panel > row ? (panel > r8 ? panel : r8) : (row > r8 ? row : r8);
}

inline void transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

template <int DT>
void pack_panel(const LinearArgs* a, int64_t nb, int64_t nn, int64_t kb, int64_t kk, float* P) {
    const int64_t K = a->K;
    for (int64_t jb = 0; jb < NR; jb += 8) {
        for (int64_t kc = 0; kc < kk; kc += 8) {
            int64_t kn = imin(8, kk - kc);
            __m256 r[8];
            for (int j = 0; j < 8; j++) {
                int64_t row = jb + j;
                r[j] = row < nn ? load8n<DT>(a->w, (nb + row) * K + kb + kc, kn) : _mm256_setzero_ps();
            }
            transpose8(r);
            for (int64_t c = 0; c < kn; c++) _mm256_store_ps(P + (kc + c) * NR + jb, r[c]);
        }
    }
}

template <int M_R>
void micro(const float* x, int64_t ldx, const float* P, int64_t kk, float* y, int64_t ldy, int64_t nn,
           const float* bias, bool accumulate) {
    __m256 c0[M_R], c1[M_R];
#pragma GCC unroll 6
    for (int i = 0; i < M_R; i++) c0[i] = c1[i] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kk; k++) {
        __m256 b0 = _mm256_load_ps(P + k * NR);
        __m256 b1 = _mm256_load_ps(P + k * NR + 8);
#pragma GCC unroll 6
        for (int i = 0; i < M_R; i++) {
            __m256 av = _mm256_broadcast_ss(x + i * ldx + k);
            c0[i] = _mm256_fmadd_ps(av, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(av, b1, c1[i]);
        }
    }
    int64_t n0 = nn, n1 = nn - 8;
    __m256 bias0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
    __m256 bias1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
#pragma GCC unroll 6
    for (int i = 0; i < M_R; i++) {
        float* yr = y + i * ldy;
        if (accumulate) {
            c0[i] = _mm256_add_ps(c0[i], loadf(yr, n0));
            if (n1 > 0) c1[i] = _mm256_add_ps(c1[i], loadf(yr + 8, n1));
        } else {
            c0[i] = _mm256_add_ps(c0[i], bias0);
            c1[i] = _mm256_add_ps(c1[i], bias1);
        }
        storef(yr, c0[i], n0);
        storef(yr + 8, c1[i], n1);
    }
}

typedef void (*MicroFn)(const float*, int64_t, const float*, int64_t, float*, int64_t, int64_t, const float*, bool);
const MicroFn kMicro[MR + 1] = {nullptr, micro<1>, micro<2>, micro<3>, micro<4>, micro<5>, micro<6>};

// Y[m0:m1, n0:n1] over panels of NR W rows and KC columns: pack(nb, nn, kb, kk, P) fills the panel,
// which then serves every X row.
template <class Pack>
void gemm_panels(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch, Pack pack) {
    float* P = scratch;
    float* bias = scratch + KC * NR;
    const int64_t K = a->K;
    for (int64_t nb = n0; nb < n1; nb += NR) {
        int64_t nn = imin(NR, n1 - nb);
        if (a->bias) {
            _mm256_storeu_ps(bias, load8n_dt(a->bias, a->bdtype, nb, nn));
            _mm256_storeu_ps(bias + 8, nn > 8 ? load8n_dt(a->bias, a->bdtype, nb + 8, nn - 8) : _mm256_setzero_ps());
        }
        for (int64_t kb = 0; kb < K; kb += KC) {
            int64_t kk = imin(KC, K - kb);
            pack(nb, nn, kb, kk, P);
            for (int64_t m = m0; m < m1; m += MR) {
                int64_t mr = imin(MR, m1 - m);
                kMicro[mr](a->x + m * a->ldx + kb, a->ldx, P, kk, a->y + m * a->ldy + nb, a->ldy, nn,
                           a->bias ? bias : nullptr, kb > 0);
            }
        }
    }
}

template <int DT> void gemm(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
    gemm_panels(a, m0, m1, n0, n1, scratch,
                [a](int64_t nb, int64_t nn, int64_t kb, int64_t kk, float* P) { pack_panel<DT>(a, nb, nn, kb, kk, P); });
}

float dot(const float* a, const float* b, int64_t n);

// Block-format weights in passes over several positions per row (kernels.h): f32 products with
// the dequantized weights (dequant_avx2). Under 4 X rows (a prompt's last positions into the LM
// head) each weight row is dequantized once and dotted with the X rows; otherwise each panel's
// rows are dequantized once, shared by all X rows, and transposed into the panel the f32 GEMM
// takes (KC is a multiple of every block size, so panels start on block boundaries).
void linear_range_dq(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
    if (m1 <= m0 || n1 <= n0) return;
    const DequantFn to_f32 = dequant_avx2(a->wdtype);
    const int64_t rb = row_bytes(a->wdtype, a->K);
    if (m1 - m0 < 4) {
        for (int64_t n = n0; n < n1; n++) {
            to_f32(static_cast<const char*>(a->w) + n * rb, scratch, a->K);
            const float b = a->bias ? load1_dt(a->bias, a->bdtype, n) : 0.0f;
            for (int64_t m = m0; m < m1; m++) a->y[m * a->ldy + n] = dot(a->x + m * a->ldx, scratch, a->K) + b;
        }
        return;
    }
    const TypeTraits* tt = type_traits(a->wdtype);
    float* rows = scratch + KC * NR + NR; // [NR][KC]
    gemm_panels(a, m0, m1, n0, n1, scratch, [&](int64_t nb, int64_t nn, int64_t kb, int64_t kk, float* P) {
        const int64_t off = kb / tt->block_elems * tt->block_bytes;
        for (int64_t j = 0; j < NR; j++) {
            if (j < nn) to_f32(static_cast<const char*>(a->w) + (nb + j) * rb + off, rows + j * KC, kk);
            else memset(rows + j * KC, 0, (size_t)kk * sizeof(float));
        }
        for (int64_t jb = 0; jb < NR; jb += 8) {
            for (int64_t kc = 0; kc < kk; kc += 8) { // kk is a multiple of the block, hence of 8
                __m256 r[8];
                for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(rows + (jb + j) * KC + kc);
                transpose8(r);
                for (int c = 0; c < 8; c++) _mm256_store_ps(P + (kc + c) * NR + jb, r[c]);
            }
        }
    });
}

// As linear_range_dq for weights in 8-row groups (quant/rows8.h): each panel's two groups are
// dequantized straight into its transposed layout, 8 rows per column (every M goes through the GEMM).
void linear_range_dq_r8(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
    if (m1 <= m0 || n1 <= n0) return;
    const Dequant8Fn dq8 = dequant8_avx2(a->wdtype);
    const int64_t be = type_traits(a->wdtype)->block_elems; // KC is a multiple of it
    const int64_t nb = a->K / be;
    const int64_t gb = R8 * type_traits(a->wdtype)->block_bytes; // bytes of one group block
    gemm_panels(a, m0, m1, n0, n1, scratch, [&](int64_t n, int64_t nn, int64_t kb, int64_t kk, float* P) {
        for (int64_t h = 0; h < NR / R8; h++) {
            if (R8 * h >= nn) {
                for (int64_t k = 0; k < kk; k++) memset(P + k * NR + R8 * h, 0, R8 * sizeof(float));
                continue;
            }
            const char* g = static_cast<const char*>(a->w) + ((n / R8 + h) * nb + kb / be) * gb;
            for (int64_t b = 0; b < kk / be; b++) dq8(g + b * gb, P + b * be * NR + R8 * h, NR);
        }
    });
}

template <int DT>
void linear_range(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
    if (m1 <= m0 || n1 <= n0) return;
    if (a->K == 0) {
        for (int64_t m = m0; m < m1; m++)
            for (int64_t n = n0; n < n1; n++) a->y[m * a->ldy + n] = a->bias ? load1_dt(a->bias, a->bdtype, n) : 0.0f;
        return;
    }
    bool small = (m1 - m0) < 4;
    if (small) gemv_dispatch<DT>(a, m0, m1, n0, n1);
    else gemm<DT>(a, m0, m1, n0, n1, scratch);
}

// ---------------------------------------------------------------------------------------------
void layernorm(const float* x, float* y, int64_t n, const void* w, int32_t wdt, const void* b, int32_t bdt,
               float eps) {
    __m256 s = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 8) s = _mm256_add_ps(s, loadf(x + i, n - i));
    float mean = hsum(s) / (float)n;
    __m256 mv = _mm256_set1_ps(mean);
    __m256 v = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 8) {
        __m256 d = _mm256_and_ps(_mm256_sub_ps(loadf(x + i, n - i), mv), _mm256_castsi256_ps(lane_mask(n - i)));
        v = _mm256_fmadd_ps(d, d, v);
    }
    __m256 iv = _mm256_set1_ps(1.0f / sqrtf(hsum(v) / (float)n + eps));
    for (int64_t i = 0; i < n; i += 8) {
        __m256 t = _mm256_mul_ps(_mm256_sub_ps(loadf(x + i, n - i), mv), iv);
        if (w) {
            __m256 bb = b ? load8n_dt(b, bdt, i, n - i) : _mm256_setzero_ps();
            t = _mm256_fmadd_ps(t, load8n_dt(w, wdt, i, n - i), bb);
        }
        storef(y + i, t, n - i);
    }
}

void activation(int32_t act, float* x, int64_t n) {
    const __m256 zero = _mm256_setzero_ps();
    switch (act) {
    case PANOPT_ACT_RELU:
    case PANOPT_ACT_RELU2:
    case PANOPT_ACT_RELU6:
        for (int64_t i = 0; i < n; i += 8) {
            __m256 v = _mm256_max_ps(loadf(x + i, n - i), zero);
            if (act == PANOPT_ACT_RELU2) v = _mm256_mul_ps(v, v);
            if (act == PANOPT_ACT_RELU6) v = _mm256_min_ps(v, _mm256_set1_ps(6.0f));
            storef(x + i, v, n - i);
        }
        break;
    case PANOPT_ACT_LINEAR: break;
    default: activation_scalar(act, x, n); break;
    }
}

float dot(const float* a, const float* b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    for (; i < n; i += 8) s0 = _mm256_fmadd_ps(loadf(a + i, n - i), loadf(b + i, n - i), s0);
    return hsum(_mm256_add_ps(s0, s1));
}

void axpy(float a, const float* x, float* y, int64_t n) {
    __m256 av = _mm256_set1_ps(a);
    for (int64_t i = 0; i < n; i += 8) storef(y + i, _mm256_fmadd_ps(av, loadf(x + i, n - i), loadf(y + i, n - i)), n - i);
}

void add(float* y, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; i += 8) storef(y + i, _mm256_add_ps(loadf(x + i, n - i), loadf(y + i, n - i)), n - i);
}

// exp(x) for x <= 0 (softmax arguments), Cephes expf polynomial; x < -87 gives 0.
inline __m256 exp_neg(__m256 x) {
    __m256 keep = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_GE_OQ);
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500E-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507E-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073E-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894E-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459E-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201E-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), keep);
}

void softmax(float* x, int64_t n) {
    __m256 mx = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(x + i));
    float m = hmax(mx);
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    __m256 mv = _mm256_set1_ps(m);
    __m256 s = _mm256_setzero_ps();
    for (i = 0; i < n; i += 8) {
        __m256 e = _mm256_and_ps(exp_neg(_mm256_sub_ps(loadf(x + i, n - i), mv)), _mm256_castsi256_ps(lane_mask(n - i)));
        s = _mm256_add_ps(s, e);
        storef(x + i, e, n - i);
    }
    __m256 inv = _mm256_set1_ps(1.0f / hsum(s));
    for (i = 0; i < n; i += 8) storef(x + i, _mm256_mul_ps(loadf(x + i, n - i), inv), n - i);
}

// The float types; any other type falls back to the scalar entries (kernels_for_isa).
Kernels make_table() {
    Kernels k{};
    k.isa = PANOPT_ISA_AVX2;
    k.name = "avx2";
    k.n_align = NR;
    k.linear_scratch_floats = linear_scratch_floats;
    k.type[PANOPT_DTYPE_F32] = float_type(to_f32<PANOPT_DTYPE_F32>, linear_range<PANOPT_DTYPE_F32>);
    k.type[PANOPT_DTYPE_F16] = float_type(to_f32<PANOPT_DTYPE_F16>, linear_range<PANOPT_DTYPE_F16>);
    k.type[PANOPT_DTYPE_BF16] = float_type(to_f32<PANOPT_DTYPE_BF16>, linear_range<PANOPT_DTYPE_BF16>);
    for (int32_t dt = 0; dt < PANOPT_DTYPE_COUNT; dt++) // the block formats' prompt products (kernels.h)
        if (type_traits(dt)->vec_dot_type != PANOPT_DTYPE_F32) k.type[dt].linear_range_dq = linear_range_dq;
    quant_kernels_avx2(k.type);
    quant_rows8_avx2(k.type);
    for (int32_t dt = 0; dt < PANOPT_DTYPE_COUNT; dt++)
        if (dequant8_avx2(dt)) k.type[dt].linear_range_dq_r8 = linear_range_dq_r8;
    quant_act_avx2(k.type);
    quant_search_avx2(k.type);
    cache_kernels_avx2(k.type);
    k.layernorm = layernorm;
    k.activation = activation;
    k.dot = dot;
    k.axpy = axpy;
    k.add = add;
    k.softmax = softmax;
    return k;
}

} // namespace

const Kernels* kernels_avx2() {
    static const Kernels table = make_table(); // thread-safe, on first use
    return &table;
}

} // namespace panopt
