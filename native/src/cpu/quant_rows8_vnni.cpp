// quant_rows8_vnni.cpp — products with weights of every block format in 8-row groups (quant/rows8.h) by
// AVX512-VNNI's vpdpbusd on 256-bit vectors (compiled with AVX-512 F/BW/VL/DQ + VNNI flags,
// internal linkage only, see kernels.h), and the AVX512_VNNI kernel table.
//
//   As in quant_rows8_avx2.cpp, a 32-byte load of a group holds 4 consecutive codes of each of its
//   8 rows and the matching 4 activation bytes are broadcast to every lane; here one vpdpbusd
//   multiplies the 32 unsigned codes by the signed activation bytes and adds each lane's 4
//   products straight into the row's int32 sum (AVX2 needs vpmaddubsw + vpmaddwd + vpaddd, with
//   int16 saturation to stay clear of). The broadcast is one vpbroadcastd from memory (a load,
//   no shuffle). Why 256 bits: Zen 4 executes a 512-bit vpdpbusd as two 256-bit
//   halves, so zmm gains no rate, while the group layout's 8 rows fill a ymm's 8 lanes exactly; a
//   batched step's one pass (group8x2) puts two groups in a zmm for its registers' sake.
//   Q4_0's codes q (0..15) are unsigned already; Q8_0's signed codes c become c + 128 (one xor per
//   weight vector, shared by all activation rows), and the 128 comes back as -128 sum(x) per block,
//   as Q4_0's -8 does (Format::OFFSET). The integer block sums are exact and equal the AVX2
//   kernels', so the results are theirs bit for bit.
#include "kernels.h"

#include <immintrin.h>
#include <string.h>

#include <type_traits>

#include "../dtype.h"
#include "../quant/rows8.h"

namespace panopt {
namespace {

#include "rows8_helpers.inc"

// The 32-element formats' kernels take up to three groups per call (Format G = 3): each activation
// broadcast then feeds three vpdpbusd, which keeps the loads (one broadcast per instruction with
// one group) well below the vpdpbusd rate, and 12 independent sums (3 groups x 4 rows) more than
// cover the instruction's latency; 12 int32 sums, 12 f32 sums, 3 code vectors and the broadcast fit
// AVX-512VL's 32 registers. Zen 4, one thread's 512 x 3072 x 768 product: 4-8% faster than two
// groups per call (Q8_0 7.5-7.7 -> 7.2-7.5 ms, Q5_0 8.2-9.4 -> 7.6-7.8; panopt_tiles_bench).
//
// acc[g R + r] += the 8 rows of group g's block (w[g nb]) times activation row r's block b, for R
// rows and GG groups; code(g, k) gives group g's codes of elements 4k..4k+3 of every row.
// OFF: the codes carry an offset that comes back through the activations' sums (XRows::neg_offset).
template <int R, int GG, bool OFF = true, class Codes, class X>
inline void dot_groups(Codes code, const X* const* xs, int64_t b, const XRows& xr,
                       const uint16_t* const* d, __m256* acc) {
    __m256i s[GG * R];
    for (int g = 0; g < GG; g++)
        for (int r = 0; r < R; r++) s[g * R + r] = OFF ? _mm256_set1_epi32(xr.neg_offset(b, r)) : _mm256_setzero_si256();
    // unrolled: with k a constant each code vector's shifts are immediates (GCC left the R = 4, GG = 2
    // loop rolled, the Q5 formats' 5th-bit shifts then by a register count: prompts 1.7x slower)
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
        __m256i q[GG];
        for (int g = 0; g < GG; g++) q[g] = code(g, k);
        for (int r = 0; r < R; r++) {
            const __m256i x = bcast4(xs[r][b].qs + 4 * k);
            for (int g = 0; g < GG; g++) s[g * R + r] = _mm256_dpbusd_epi32(s[g * R + r], q[g], x);
        }
    }
    for (int g = 0; g < GG; g++) {
        const __m256 dw = scales8(d[g]);
        for (int r = 0; r < R; r++)
            acc[g * R + r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[g * R + r]), _mm256_mul_ps(dw, _mm256_set1_ps(xr.scale(b, r))),
                                             acc[g * R + r]);
    }
}

// The 32-element formats' code vector k of a group block, as unsigned bytes: Q8_0's c + 128; Q4_0,
// Q4_1, Q5_0, Q5_1's 4- or 5-bit codes (rows8_helpers.inc code32).
inline __m256i code_of(const block_q8_0x8* w, int k) {
    return _mm256_xor_si256(_mm256_loadu_si256((const __m256i*)(w->qs + 32 * k)), _mm256_set1_epi8((char)0x80));
}
template <class W, std::enable_if_t<kNibbles<W>, int> = 0> inline __m256i code_of(const W* w, int k) { return code32(w, k); }
template <class W> constexpr bool kCode32 = kNibbles<W> || std::is_same<W, block_q8_0x8>::value;

// Those formats: Q8_0's 128 and Q4_0 / Q5_0's -8 / -16 through the activations' sums, Q4_1 / Q5_1's
// minimum as m_w s_x after the block's sum.
template <int R, int GG, class W, class X>
inline std::enable_if_t<kCode32<W>> block(const W* w, int64_t nb, const X* const* xs, int64_t b, const XRows& xr, __m256* acc) {
    const uint16_t* d[GG];
    for (int g = 0; g < GG; g++) d[g] = w[g * nb].d;
    auto code = [&](int g, int k) { return code_of(w + g * nb, k); };
    dot_groups<R, GG, !kMin<W>>(code, xs, b, xr, d, acc);
    if constexpr (kMin<W>)
        for (int g = 0; g < GG; g++) {
            const __m256 m = scales8(w[g * nb].m);
            for (int r = 0; r < R; r++) acc[g * R + r] = _mm256_fmadd_ps(m, _mm256_set1_ps(xr.smin(b, r)), acc[g * R + r]);
        }
}

// The K-quants. Per sub-block and row, the codes' products go into one int32 sum per lane by
// vpdpbusd (Q6_K's chain starting at -32 sum(x), its codes' offset), then times the lane's sub-block
// scale (vpmulld): the same exact integer sums as the AVX2 kernels (quant_rows8_avx2.cpp), so the
// results are theirs bit for bit. Bounds: Q4_K 8 x 63 x 32 x 15 x 127 < 2^31 (Q5_K with 31, Q6_K
// 16 x 127 x 16 x 63 x 127). Up to two groups per call (Format G = 2), the groups sharing each
// activation broadcast; Q6_K's codes of a 16-element sub-block (4 vectors per group) stay in
// registers across the rows of a pass.
template <int R, int GG>
inline void block(const block_q6_Kx8* w, int64_t nb, const block_q8_K* const* xs, int64_t b, const XRows& xr, __m256* acc) {
    __m256i isum[GG * R];
    for (int i = 0; i < GG * R; i++) isum[i] = _mm256_setzero_si256();
    for (int u = 0; u < QK_K / 16; u++) {
        __m256i c[GG][4], sc[GG];
        for (int g = 0; g < GG; g++) {
            q6_K_codes(w + g * nb, u, c[g]);
            sc[g] = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)w[g * nb].sub[u].scales));
        }
        for (int r = 0; r < R; r++) {
            const int8_t* x = xs[r][b].qs + 16 * u;
            const __m256i init = _mm256_set1_epi32(-32 * xs[r][b].bsums[u]);
            __m256i t[GG];
            for (int g = 0; g < GG; g++) t[g] = init;
            for (int i = 0; i < 4; i++) {
                const __m256i xv = bcast4(x + 4 * i);
                for (int g = 0; g < GG; g++) t[g] = _mm256_dpbusd_epi32(t[g], c[g][i], xv);
            }
            for (int g = 0; g < GG; g++) isum[g * R + r] = _mm256_add_epi32(isum[g * R + r], _mm256_mullo_epi32(t[g], sc[g]));
        }
    }
    for (int g = 0; g < GG; g++) add_scaled<R>(isum + g * R, w[g * nb].d, xr, b, acc + g * R);
}

// Q4_K / Q5_K, up to two groups per call (Format G = 2): per sub-block, code vector k of each group
// is made once and meets every row's broadcast activations, the GG groups sharing each broadcast
// (one group per call took a broadcast per vpdpbusd, which held the product to the loads' rate);
// each (group, row) sum then times the lane's sub-block scale into isum. The minima's sums
// (sum over sub-blocks of min x the activations' sub-block sum) are made after the codes' loop, so
// they hold no registers through it; the minima are decoded again there (kept on the stack from the
// first decode instead, Q4_K decode steps ran ~15% slower: medians of 7 alternations 1.46 vs 1.73 ms). 2 x 4 chains, 2 x 4 sums and 2 code vectors fit in 32 registers.
template <int R, int GG, class W>
inline auto block(const W* w, int64_t nb, const block_q8_K* const* xs, int64_t b, const XRows& xr, __m256* acc)
    -> decltype((void)w->dmin[0]) {
    __m256i isum[GG * R];
    for (int i = 0; i < GG * R; i++) isum[i] = _mm256_setzero_si256();
    for (int s = 0; s < QK_K / 32; s++) {
        __m256i t[GG * R];
        for (int i = 0; i < GG * R; i++) t[i] = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            __m256i q[GG];
            for (int g = 0; g < GG; g++) q[g] = k45_code(w[g * nb].sub[s], k);
            for (int r = 0; r < R; r++) {
                const __m256i x = bcast4(xs[r][b].qs + 32 * s + 4 * k);
                for (int g = 0; g < GG; g++) t[g * R + r] = _mm256_dpbusd_epi32(t[g * R + r], q[g], x);
            }
        }
        for (int g = 0; g < GG; g++) {
            __m256i sc, mn;
            k45_scales(w[g * nb].sub[s], sc, mn);
            for (int r = 0; r < R; r++) isum[g * R + r] = _mm256_add_epi32(isum[g * R + r], _mm256_mullo_epi32(t[g * R + r], sc));
        }
    }
    for (int g = 0; g < GG; g++) {
        __m256i msum[R];
        for (int r = 0; r < R; r++) msum[r] = _mm256_setzero_si256();
        for (int s = 0; s < QK_K / 32; s++) {
            __m256i sc, mn;
            k45_scales(w[g * nb].sub[s], sc, mn);
            for (int r = 0; r < R; r++) {
                const int xsum = xs[r][b].bsums[2 * s] + xs[r][b].bsums[2 * s + 1];
                msum[r] = _mm256_add_epi32(msum[r], _mm256_mullo_epi32(mn, _mm256_set1_epi32(xsum)));
            }
        }
        add_scaled_min<R>(isum + g * R, msum, w[g * nb].d, w[g * nb].dmin, xr, b, acc + g * R);
    }
}

// A batched step's one pass (rows8_driver.inc, kOnePass8): two groups x 8 activation rows per
// weight block in 512-bit vectors, group 0 in the low half and group 1 in the high half, so each
// activation broadcast feeds both groups and the 8 rows' sums stay in registers (8 int32 + 8 f32
// vectors; the K-quants' 8 more for their sub-block sums). Per lane the same integer sums and f32
// operations as the `block` kernels (pair_block below): the same bits.
//
// Prefetch: the pair's 2 nb blocks are consumed two at a time, and kPairPrefetchBytes past that
// front go to L2 (prefetcht1). A block here takes 8 rows' work, so the stream is slower than a
// batch-1 step's, and lines fetched into L1 (as `group` does) came too early or held the L1's few
// miss buffers. Zen 4, 2 threads, an opt-125m-shape step's products at batch 8, medians of 30
// alternated: two passes of 4 (the code before) Q8_0 8.0 ms; one pass, L1 32 KB ahead 7.8, L2 16 KB
// 6.2, L2 32 KB 5.8 (8-64 KB within noise of each other); Q4_0 5.2 / 4.5 / 4.7 / 4.8.
constexpr size_t kPairPrefetchBytes = 32768;

inline __m512i halves(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }
inline __m512 halves(__m256 lo, __m256 hi) { return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1); }
inline __m512i bcast4z(const int8_t* p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// acc[r] += block b of the groups at w0 (low halves) and w1 (high halves) times row r's block b.
// The 32-element formats: as `block` (dot_groups) with the same codes (code_of).

template <int OFFSET, class W, class X>
inline void pair_block(const W* w0, const W* w1, const X* const* xs, int64_t b, const XRows& xr, __m512* acc) {
    __m512i s[R2];
    for (int r = 0; r < R2; r++) s[r] = OFFSET ? _mm512_set1_epi32(xr.neg_offset(b, r)) : _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
        const __m512i q = halves(code_of(w0, k), code_of(w1, k));
        for (int r = 0; r < R2; r++) s[r] = _mm512_dpbusd_epi32(s[r], q, bcast4z(xs[r][b].qs + 4 * k));
    }
    const __m512 dw = halves(scales8(w0->d), scales8(w1->d));
    for (int r = 0; r < R2; r++)
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[r]), _mm512_mul_ps(dw, _mm512_set1_ps(xr.scale(b, r))), acc[r]);
    if constexpr (kMin<W>) {
        const __m512 m = halves(scales8(w0->m), scales8(w1->m));
        for (int r = 0; r < R2; r++) acc[r] = _mm512_fmadd_ps(m, _mm512_set1_ps(xr.smin(b, r)), acc[r]);
    }
}

// Q4_K / Q5_K: as `block`'s, per sub-block the codes' sums times the lanes' scales into isum, the
// minima's sums after (8 isum + 8 sub-block sums + 8 acc + codes and broadcast: 27 registers).
template <int OFFSET, class W>
inline auto pair_block(const W* w0, const W* w1, const block_q8_K* const* xs, int64_t b, const XRows& xr, __m512* acc)
    -> decltype((void)w0->dmin[0]) {
    __m512i isum[R2];
    for (int r = 0; r < R2; r++) isum[r] = _mm512_setzero_si512();
    for (int s = 0; s < QK_K / 32; s++) {
        __m512i t[R2];
        for (int r = 0; r < R2; r++) t[r] = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            const __m512i q = halves(k45_code(w0->sub[s], k), k45_code(w1->sub[s], k));
            for (int r = 0; r < R2; r++) t[r] = _mm512_dpbusd_epi32(t[r], q, bcast4z(xs[r][b].qs + 32 * s + 4 * k));
        }
        __m256i sc0, mn0, sc1, mn1;
        k45_scales(w0->sub[s], sc0, mn0);
        k45_scales(w1->sub[s], sc1, mn1);
        const __m512i sc = halves(sc0, sc1);
        for (int r = 0; r < R2; r++) isum[r] = _mm512_add_epi32(isum[r], _mm512_mullo_epi32(t[r], sc));
    }
    __m512i msum[R2];
    for (int r = 0; r < R2; r++) msum[r] = _mm512_setzero_si512();
    for (int s = 0; s < QK_K / 32; s++) {
        __m256i sc0, mn0, sc1, mn1;
        k45_scales(w0->sub[s], sc0, mn0);
        k45_scales(w1->sub[s], sc1, mn1);
        const __m512i mn = halves(mn0, mn1);
        for (int r = 0; r < R2; r++)
            msum[r] = _mm512_add_epi32(msum[r], _mm512_mullo_epi32(mn, _mm512_set1_epi32(xs[r][b].bsums[2 * s] + xs[r][b].bsums[2 * s + 1])));
    }
    const __m512 dw = halves(scales8(w0->d), scales8(w1->d)), dm = halves(scales8(w0->dmin), scales8(w1->dmin));
    for (int r = 0; r < R2; r++) { // add_scaled_min's operations
        const __m512 x = _mm512_set1_ps(xr.scale(b, r));
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r]), _mm512_mul_ps(dw, x), acc[r]);
        acc[r] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum[r]), _mm512_mul_ps(dm, x), acc[r]);
    }
}

// Q6_K: as `block`'s, per 16-element sub-block the chain from -32 sum(x) times the lanes' scales.
template <int OFFSET>
inline void pair_block(const block_q6_Kx8* w0, const block_q6_Kx8* w1, const block_q8_K* const* xs, int64_t b,
                       const XRows& xr, __m512* acc) {
    __m512i isum[R2];
    for (int r = 0; r < R2; r++) isum[r] = _mm512_setzero_si512();
    for (int u = 0; u < QK_K / 16; u++) {
        __m256i c0[4], c1[4];
        q6_K_codes(w0, u, c0);
        q6_K_codes(w1, u, c1);
        __m512i c[4];
        for (int i = 0; i < 4; i++) c[i] = halves(c0[i], c1[i]);
        const __m512i sc = halves(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)w0->sub[u].scales)),
                                  _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)w1->sub[u].scales)));
        for (int r = 0; r < R2; r++) {
            const int8_t* x = xs[r][b].qs + 16 * u;
            __m512i t = _mm512_set1_epi32(-32 * xs[r][b].bsums[u]);
            for (int i = 0; i < 4; i++) t = _mm512_dpbusd_epi32(t, c[i], bcast4z(x + 4 * i));
            isum[r] = _mm512_add_epi32(isum[r], _mm512_mullo_epi32(t, sc));
        }
    }
    const __m512 dw = halves(scales8(w0->d), scales8(w1->d));
    for (int r = 0; r < R2; r++) // add_scaled's operations
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r]), _mm512_mul_ps(dw, _mm512_set1_ps(xr.scale(b, r))), acc[r]);
}

template <class F>
void group8x2(int64_t nb, const typename F::W* w, const typename F::X* const* xs, const XRows& xr, __m256* out) {
    using W = typename F::W;
    __m512 acc[R2];
    for (int r = 0; r < R2; r++) acc[r] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const char* ahead = reinterpret_cast<const char*>(w + 2 * b) + kPairPrefetchBytes;
        for (size_t o = 0; o < 2 * sizeof(W); o += 64) _mm_prefetch(ahead + o, _MM_HINT_T1);
        pair_block<F::OFFSET>(w + b, w + nb + b, xs, b, xr, acc);
    }
    for (int r = 0; r < R2; r++) {
        out[r] = _mm512_castps512_ps256(acc[r]);
        out[R2 + r] = _mm512_extractf32x8_ps(acc[r], 1);
    }
}

constexpr size_t kPrefetchBytes = 4096; // rows8_driver.inc
constexpr bool kOnePass8 = true;       // rows8_driver.inc
#include "rows8_driver.inc"

using Q4_0x8 = Format<PANOPT_DTYPE_Q4_0, block_q4_0x8, block_q8_0, QK, 8, 3>;   // codes q - 8
using Q8_0x8 = Format<PANOPT_DTYPE_Q8_0, block_q8_0x8, block_q8_0, QK, 128, 3>; // codes (c + 128) - 128
using Q4_1x8 = Format<PANOPT_DTYPE_Q4_1, block_q4_1x8, block_q8_1, QK, 0, 3>;
using Q6_Kx8 = Format<PANOPT_DTYPE_Q6_K, block_q6_Kx8, block_q8_K, QK_K, 0, 2>;
using Q4_Kx8 = Format<PANOPT_DTYPE_Q4_K, block_q4_Kx8, block_q8_K, QK_K, 0, 2>;
using Q5_Kx8 = Format<PANOPT_DTYPE_Q5_K, block_q5_Kx8, block_q8_K, QK_K, 0, 2>;
using Q5_0x8 = Format<PANOPT_DTYPE_Q5_0, block_q5_0x8, block_q8_0, QK, 16, 3>;   // codes q - 16
using Q5_1x8 = Format<PANOPT_DTYPE_Q5_1, block_q5_1x8, block_q8_1, QK, 0, 3>;

} // namespace

void quant_rows8_vnni(TypeKernels* type) {
    type[PANOPT_DTYPE_Q4_0].linear_range_r8 = lin_r8<Q4_0x8>;
    type[PANOPT_DTYPE_Q8_0].linear_range_r8 = lin_r8<Q8_0x8>;
    type[PANOPT_DTYPE_Q4_1].linear_range_r8 = lin_r8<Q4_1x8>;
    type[PANOPT_DTYPE_Q5_0].linear_range_r8 = lin_r8<Q5_0x8>;
    type[PANOPT_DTYPE_Q5_1].linear_range_r8 = lin_r8<Q5_1x8>;
    type[PANOPT_DTYPE_Q6_K].linear_range_r8 = lin_r8<Q6_Kx8>;
    type[PANOPT_DTYPE_Q4_K].linear_range_r8 = lin_r8<Q4_Kx8>;
    type[PANOPT_DTYPE_Q5_K].linear_range_r8 = lin_r8<Q5_Kx8>;
    type[PANOPT_DTYPE_Q4_0].linear_range_via_r8 = lin_via_r8<Q4_0x8>;
    type[PANOPT_DTYPE_Q4_K].linear_range_via_r8 = lin_via_r8<Q4_Kx8>;
    type[PANOPT_DTYPE_Q5_K].linear_range_via_r8 = lin_via_r8<Q5_Kx8>;
    type[PANOPT_DTYPE_Q6_K].linear_range_via_r8 = lin_via_r8<Q6_Kx8>;
    type[PANOPT_DTYPE_Q8_0].linear_range_via_r8 = lin_via_r8<Q8_0x8>;
    type[PANOPT_DTYPE_Q4_1].linear_range_via_r8 = lin_via_r8<Q4_1x8>;
    type[PANOPT_DTYPE_Q5_0].linear_range_via_r8 = lin_via_r8<Q5_0x8>;
    type[PANOPT_DTYPE_Q5_1].linear_range_via_r8 = lin_via_r8<Q5_1x8>;
}

const Kernels* kernels_avx512_vnni() {
    static const Kernels table = [] { // thread-safe, on first use
        Kernels k = *kernels_avx512(); // its float kernels; the block formats' entries stay NULL
        k.isa = PANOPT_ISA_AVX512_VNNI;
        k.name = "avx512_vnni";
        quant_rows8_vnni(k.type);
        if (cpu_has_bf16()) bf16_products_avx512(k.type);
        return k;
    }();
    return &table;
}

} // namespace panopt
