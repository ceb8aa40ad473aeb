// quant_rows8_avx2.cpp — AVX2 products with Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q8_0 / Q4_K / Q5_K / Q6_K weights in 8-row groups (quant/rows8.h;
// compiled with -mavx2 -mfma -mf16c, internal linkage only, see kernels.h). The decode kernel:
//
//   A 32-byte load of the group holds 4 consecutive codes of each of its 8 rows. The matching 4
//   activation bytes, broadcast to every lane (vpbroadcastd), multiply all 8 rows in one vpmaddubsw
//   (unsigned codes x signed activations, adjacent pairs summed into int16), so after a block the
//   int32 lane r of vpmaddwd is row r's block sum: no horizontal sums, and one cvtph2ps for the 8
//   rows' scales. Q4_0's codes q (0..15) go in unsigned; the -8 comes back as -8 sum(x) per block
//   (precomputed per activation row). Its 8 int16 partial sums per lane stay below 8 * 2 * 15 * 127
//   = 30480 < 32767, so they add in int16 and widen once per block (Q5_0 / Q5_1's 5-bit codes in two
//   int16 sums of 4; Q4_1 / Q5_1 have no offset but a minimum, m_w s_x per block). Q8_0's signed codes move their
//   sign onto the activations (vpsignb) as in quant_dot_avx2.cpp; 2 * 128 * 127 < 32767. Q6_K's codes
//   (0..63) go in unsigned per sub-block of 16 (two int16 sums of at most 2 * 2 * 63 * 127 = 32004),
//   widened by vpmaddwd with each row's sub-block scale in its lane; the -32 comes back as
//   -32 sc sum(x) from the activations' Q8_K partial sums. Q4_K / Q5_K: per sub-block of 32, int16
//   sums widened by the rows' 6-bit scales, and the min term m sum(x) beside them (both exact in int32).
// Activation bytes must lie in [-127, 127], as every Q8_0 quantizer here makes them.
#include "kernels.h"

#include <immintrin.h>
#include <string.h>

#include <type_traits>

#include "../dtype.h"
#include "../quant/rows8.h"

namespace panopt {
namespace {

#include "rows8_helpers.inc"

// acc[r] += the 8 rows of group block w times activation row r's block b, for R rows: the 4-bit
// formats of 32-blocks (Q4_0, Q4_1, Q5_0, Q5_1; X Q8_0 or Q8_1). 4-bit codes: 8 int16 partial sums
// per lane of at most 2 * 15 * 127 each (30480 in all); 5-bit codes: two int16 sums of 4 (at most
// 4 * 2 * 31 * 127 = 31496). Q4_0 / Q5_0's -8 / -16 come back through the activations' sums
// (Format::OFFSET), Q4_1 / Q5_1's minimum as m_w s_x beside the scaled integer sum.
template <int R, class W, class X>
inline std::enable_if_t<kNibbles<W>> block(const W* w, const X* const* xs, int64_t b, const XRows& xr, __m256* acc) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i q[8]; // q[k]: elements 4k..4k+3 of every row
    for (int k = 0; k < 8; k++) q[k] = code32(w, k);
    const __m256 dw = scales8(w->d);
    for (int r = 0; r < R; r++) {
        const int8_t* x = xs[r][b].qs;
        __m256i i32;
        if constexpr (!kFifth<W>) {
            __m256i s = _mm256_maddubs_epi16(q[0], bcast4(x));
            for (int k = 1; k < 8; k++) s = _mm256_add_epi16(s, _mm256_maddubs_epi16(q[k], bcast4(x + 4 * k)));
            i32 = _mm256_madd_epi16(s, ones);
        } else {
            __m256i lo = _mm256_maddubs_epi16(q[0], bcast4(x)), hi = _mm256_maddubs_epi16(q[4], bcast4(x + 16));
            for (int k = 1; k < 4; k++) {
                lo = _mm256_add_epi16(lo, _mm256_maddubs_epi16(q[k], bcast4(x + 4 * k)));
                hi = _mm256_add_epi16(hi, _mm256_maddubs_epi16(q[k + 4], bcast4(x + 16 + 4 * k)));
            }
            i32 = _mm256_add_epi32(_mm256_madd_epi16(lo, ones), _mm256_madd_epi16(hi, ones));
        }
        if constexpr (!kMin<W>) i32 = _mm256_add_epi32(i32, _mm256_set1_epi32(xr.neg_offset(b, r)));
        acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i32), _mm256_mul_ps(dw, _mm256_set1_ps(xr.scale(b, r))), acc[r]);
        if constexpr (kMin<W>) acc[r] = _mm256_fmadd_ps(scales8(w->m), _mm256_set1_ps(xr.smin(b, r)), acc[r]);
    }
}

template <int R>
inline void block(const block_q8_0x8* w, const block_q8_0* const* xs, int64_t b, const XRows& xr,
                       __m256* acc) {
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256 dw = scales8(w->d);
    __m256i s[R];
    for (int r = 0; r < R; r++) s[r] = _mm256_setzero_si256();
    for (int c = 0; c < 8; c++) { // the codes' magnitudes once for all R activation rows
        const __m256i v = _mm256_loadu_si256((const __m256i*)(w->qs + 32 * c)), av = _mm256_sign_epi8(v, v);
        for (int r = 0; r < R; r++) {
            const __m256i p = _mm256_maddubs_epi16(av, _mm256_sign_epi8(bcast4(xs[r][b].qs + 4 * c), v));
            s[r] = _mm256_add_epi32(s[r], _mm256_madd_epi16(p, ones));
        }
    }
    for (int r = 0; r < R; r++)
        acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[r]), _mm256_mul_ps(dw, _mm256_set1_ps(xr.scale(b, r))), acc[r]);
}

template <int R>
inline void block(const block_q6_Kx8* w, const block_q8_K* const* xs, int64_t b, const XRows& xr,
                       __m256* acc) {
    __m256i isum[R];
    for (int r = 0; r < R; r++) isum[r] = _mm256_setzero_si256();
    for (int u = 0; u < QK_K / 16; u++) {
        __m256i c[4];
        q6_K_codes(w, u, c);
        // each row's scale in both int16 halves of its lane, for vpmaddwd
        const __m256i s32 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)w->sub[u].scales));
        const __m256i s16 = _mm256_or_si256(_mm256_and_si256(s32, _mm256_set1_epi32(0xFFFF)), _mm256_slli_epi32(s32, 16));
        for (int r = 0; r < R; r++) {
            const int8_t* x = xs[r][b].qs + 16 * u;
            const __m256i lo = _mm256_add_epi16(_mm256_maddubs_epi16(c[0], bcast4(x)), _mm256_maddubs_epi16(c[1], bcast4(x + 4)));
            const __m256i hi = _mm256_add_epi16(_mm256_maddubs_epi16(c[2], bcast4(x + 8)), _mm256_maddubs_epi16(c[3], bcast4(x + 12)));
            const __m256i off = _mm256_madd_epi16(s16, _mm256_set1_epi32((uint16_t)xs[r][b].bsums[u])); // sc sum(x)
            isum[r] = _mm256_add_epi32(isum[r], _mm256_add_epi32(_mm256_madd_epi16(lo, s16), _mm256_madd_epi16(hi, s16)));
            isum[r] = _mm256_sub_epi32(isum[r], _mm256_slli_epi32(off, 5));
        }
    }
    add_scaled<R>(isum, w->d, xr, b, acc);
}

// Q4_K / Q5_K (W has dmin): per sub-block, int16 sums of 4 code vectors at a time (at most
// 4 * 2 * 31 * 127 = 31496) widened by the rows' scales, and the min term m sum(x) beside them.
template <int R, class W>
inline auto block(const W* w, const block_q8_K* const* xs, int64_t b, const XRows& xr, __m256* acc)
    -> decltype((void)w->dmin[0]) {
    __m256i isum[R], msum[R];
    for (int r = 0; r < R; r++) isum[r] = msum[r] = _mm256_setzero_si256();
    for (int s = 0; s < QK_K / 32; s++) {
        const auto& u = w->sub[s];
        __m256i sc, mn;
        k45_scales(u, sc, mn);
        const __m256i sc16 = pair16(sc), mn16 = pair16(mn);
        __m256i q[8];
        k45_codes(u, q);
        for (int r = 0; r < R; r++) {
            const int8_t* x = xs[r][b].qs + 32 * s;
            __m256i a = _mm256_maddubs_epi16(q[0], bcast4(x)), a2 = _mm256_maddubs_epi16(q[4], bcast4(x + 16));
            for (int k = 1; k < 4; k++) {
                a = _mm256_add_epi16(a, _mm256_maddubs_epi16(q[k], bcast4(x + 4 * k)));
                a2 = _mm256_add_epi16(a2, _mm256_maddubs_epi16(q[k + 4], bcast4(x + 16 + 4 * k)));
            }
            // lane r: sc (a_lo + a_hi + a2_lo + a2_hi)
            isum[r] = _mm256_add_epi32(isum[r], _mm256_add_epi32(_mm256_madd_epi16(a, sc16), _mm256_madd_epi16(a2, sc16)));
            const int xsum = xs[r][b].bsums[2 * s] + xs[r][b].bsums[2 * s + 1]; // |.| <= 32 * 127
            msum[r] = _mm256_add_epi32(msum[r], _mm256_madd_epi16(mn16, _mm256_set1_epi32(xsum & 0xFFFF)));
        }
    }
    add_scaled_min<R>(isum, msum, w->d, w->dmin, xr, b, acc);
}

constexpr size_t kPrefetchBytes = 1024; // rows8_driver.inc
constexpr bool kOnePass8 = false;      // rows8_driver.inc: 16 ymm registers do not hold 8 rows' sums
#include "rows8_driver.inc"

using Q4_0x8 = Format<PANOPT_DTYPE_Q4_0, block_q4_0x8, block_q8_0, QK, 8>; // the -8 of the codes, through the sums
using Q4_1x8 = Format<PANOPT_DTYPE_Q4_1, block_q4_1x8, block_q8_1, QK, 0>;
using Q5_0x8 = Format<PANOPT_DTYPE_Q5_0, block_q5_0x8, block_q8_0, QK, 16>;
using Q5_1x8 = Format<PANOPT_DTYPE_Q5_1, block_q5_1x8, block_q8_1, QK, 0>;
using Q8_0x8 = Format<PANOPT_DTYPE_Q8_0, block_q8_0x8, block_q8_0, QK, 0>;
using Q6_Kx8 = Format<PANOPT_DTYPE_Q6_K, block_q6_Kx8, block_q8_K, QK_K, 0>;
using Q4_Kx8 = Format<PANOPT_DTYPE_Q4_K, block_q4_Kx8, block_q8_K, QK_K, 0>;
using Q5_Kx8 = Format<PANOPT_DTYPE_Q5_K, block_q5_Kx8, block_q8_K, QK_K, 0>;


// Codes of a 32-byte chunk regrouped so that qword j holds byte j of each row's 4 (rows 0..7):
// bytes 4r + j -> vpshufb within each 128-bit lane (rows 0-3 | rows 4-7), then the dwords paired.
inline __m256i by_element(__m256i v) {
    const __m256i idx = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, //
                                         0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, idx), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// P[(e0 + j) * ldp + r] = d[r] * (code(r, e0 + j) - off) - m[r] for j < 4, from v as by_element
// made it (m: the K-quants' mins, else zeros, which subtract exactly).
inline void columns4(__m256i v, int off, __m256 d, __m256 m, float* P, int64_t ldp) {
    const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
    const __m128i q[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int j = 0; j < 4; j++) {
        const __m256i c = _mm256_sub_epi32(_mm256_cvtepi8_epi32(q[j]), _mm256_set1_epi32(off));
        _mm256_storeu_ps(P + j * ldp, _mm256_sub_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(c), d), m));
    }
}

// One group block as 32 columns of 8 rows: the values the reference dequantizer gives
// ((q - 8) d for Q4_0, (q - 16) d for Q5_0, q d + m for Q4_1 / Q5_1, q d for Q8_0: one rounded
// product each, and the minimum added after it).
template <class W> void dequant8_q32(const void* src, float* P, int64_t ldp) {
    const W* w = static_cast<const W*>(src);
    const __m256 d = scales8(w->d);
    __m256 m = _mm256_setzero_ps(); // columns4 subtracts it: q d - (-m) is q d + m exactly
    if constexpr (kMin<W>) m = _mm256_sub_ps(m, scales8(w->m));
    constexpr int off = kMin<W> ? 0 : kFifth<W> ? 16 : 8;
    for (int k = 0; k < 8; k++) columns4(by_element(code32(w, k)), off, d, m, P + (4 * k) * ldp, ldp);
}

void dequant8_q8_0(const void* src, float* P, int64_t ldp) {
    const block_q8_0x8* w = static_cast<const block_q8_0x8*>(src);
    const __m256 d = scales8(w->d);
    for (int c = 0; c < 8; c++)
        columns4(by_element(_mm256_loadu_si256((const __m256i*)(w->qs + 32 * c))), 0, d, _mm256_setzero_ps(), P + (4 * c) * ldp, ldp);
}

// A Q6_K group super-block as 256 columns: d sc (q - 32), the reference's (d sc) q rounding.
void dequant8_q6_K(const void* src, float* P, int64_t ldp) {
    const block_q6_Kx8* w = static_cast<const block_q6_Kx8*>(src);
    const __m256 d = scales8(w->d);
    for (int u = 0; u < QK_K / 16; u++) {
        __m256i c[4];
        q6_K_codes(w, u, c);
        const __m256 ds = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)w->sub[u].scales))));
        for (int i = 0; i < 4; i++) columns4(by_element(c[i]), 32, ds, _mm256_setzero_ps(), P + (16 * u + 4 * i) * ldp, ldp);
    }
}

// A Q4_K / Q5_K group super-block as 256 columns: d sc q - dmin m, the reference's two rounded
// products and their difference.
template <class W> void dequant8_k45(const void* src, float* P, int64_t ldp) {
    const W* w = static_cast<const W*>(src);
    const __m256 d = scales8(w->d), dmin = scales8(w->dmin);
    for (int s = 0; s < QK_K / 32; s++) {
        const auto& u = w->sub[s];
        __m256i sc, mn, q[8];
        k45_scales(u, sc, mn);
        k45_codes(u, q);
        const __m256 dl = _mm256_mul_ps(d, _mm256_cvtepi32_ps(sc)), ml = _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(mn));
        for (int k = 0; k < 8; k++) columns4(by_element(q[k]), 0, dl, ml, P + (32 * s + 4 * k) * ldp, ldp);
    }
}

} // namespace

Dequant8Fn dequant8_avx2(int32_t dt) {
    switch (dt) {
    case PANOPT_DTYPE_Q4_0: return dequant8_q32<block_q4_0x8>;
    case PANOPT_DTYPE_Q4_1: return dequant8_q32<block_q4_1x8>;
    case PANOPT_DTYPE_Q5_0: return dequant8_q32<block_q5_0x8>;
    case PANOPT_DTYPE_Q5_1: return dequant8_q32<block_q5_1x8>;
    case PANOPT_DTYPE_Q8_0: return dequant8_q8_0;
    case PANOPT_DTYPE_Q6_K: return dequant8_q6_K;
    case PANOPT_DTYPE_Q4_K: return dequant8_k45<block_q4_Kx8>;
    case PANOPT_DTYPE_Q5_K: return dequant8_k45<block_q5_Kx8>;
    default: return nullptr;
    }
}

int64_t rows8_scratch_floats(int64_t K) { return scales_floats(K) + tile_floats(K); }

void quant_rows8_avx2(TypeKernels* type) {
    // Q4_0 and Q4_K: the formats whose prompts take the int8 path (kernels.h prompt_dequantized)
    type[PANOPT_DTYPE_Q4_0].linear_range_via_r8 = lin_via_r8<Q4_0x8>;
    type[PANOPT_DTYPE_Q4_K].linear_range_via_r8 = lin_via_r8<Q4_Kx8>;
    type[PANOPT_DTYPE_Q4_0].linear_range_r8 = lin_r8<Q4_0x8>;
    type[PANOPT_DTYPE_Q4_1].linear_range_r8 = lin_r8<Q4_1x8>;
    type[PANOPT_DTYPE_Q5_0].linear_range_r8 = lin_r8<Q5_0x8>;
    type[PANOPT_DTYPE_Q5_1].linear_range_r8 = lin_r8<Q5_1x8>;
    type[PANOPT_DTYPE_Q8_0].linear_range_r8 = lin_r8<Q8_0x8>;
    type[PANOPT_DTYPE_Q6_K].linear_range_r8 = lin_r8<Q6_Kx8>;
    type[PANOPT_DTYPE_Q4_K].linear_range_r8 = lin_r8<Q4_Kx8>;
    type[PANOPT_DTYPE_Q5_K].linear_range_r8 = lin_r8<Q5_Kx8>;
}

} // namespace panopt
