// quant_dot_avx2.cpp — AVX2 products with ggml's block formats (compiled with -mavx2 -mfma -mf16c;
// internal linkage only, see kernels.h). Same integers as quant_dot_scalar.cpp, in vectors:
//
//   Weights are unpacked per block to 32 bytes of small integers. AVX2 multiplies bytes with
//   vpmaddubsw (unsigned x signed -> pairs summed into int16), so an unsigned weight format (Q4_1,
//   Q5_1, the K-quants' 4/5/6-bit codes) goes straight in as the unsigned operand; a signed one
//   (Q8_0, Q4_0 - 8, Q5_0 - 16) is made unsigned by moving its sign onto the activations
//   (vpsignb). vpmaddwd then widens to int32 (with a ones vector, or with the K-quants' sub-block
//   scales for free). Each block's int32 sum is converted once and multiplied by the two scales.
//   No int16 sum can saturate: |w| <= 128 and |x| <= 127 give at most 2 * 128 * 127 < 32767.
//
// Each weight row is unpacked once and dotted with up to 4 activation rows (prefill), and the
// loops run over tiles of 16 weight rows so that a tile stays in cache while the activation rows
// stream past it; at batch 1 every weight byte is read exactly once.
#include "kernels.h"

#include <immintrin.h>
#include <string.h>

#include "../dtype.h"
#include "../quant/blocks.h"

namespace panopt {
namespace {

constexpr int MAXR = 4;   // activation rows per pass over a weight row
constexpr int64_t NT = 16; // weight rows per tile

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

inline __m256i ones16() { return _mm256_set1_epi16(1); }

// 8 int32 partial sums of u[i] * s[i] (u unsigned bytes, s signed bytes).
inline __m256i dot_us(__m256i u, __m256i s) { return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), ones16()); }

// 32 nibbles of 16 bytes: low nibbles -> bytes 0..15, high nibbles -> bytes 16..31.
inline __m256i nibbles32(const uint8_t* qs) {
    const __m128i b = _mm_loadu_si128((const __m128i*)qs);
    const __m128i m = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m), _mm_and_si128(b, m));
}

// Byte j = 0x10 where bit j of the little-endian 32-bit word at p is set, else 0.
inline __m256i bit4_from_bits32(const uint8_t* p) {
    uint32_t v;
    memcpy(&v, p, 4);
    const __m256i sel = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, //
                                         2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    const __m256i b = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32((int)v), sel), bit);
    return _mm256_and_si256(_mm256_cmpeq_epi8(b, bit), _mm256_set1_epi8(0x10));
}

// ---- the 32-element formats ----------------------------------------------------------------
// Each describes its block, the activation block (Q8_0 or Q8_1), and how to unpack 32 codes.
struct FQ8_0 {
    using W = block_q8_0;
    using X = block_q8_0;
    static constexpr bool SIGNED = true, MIN = false;
    static __m256i codes(const W* w) { return _mm256_loadu_si256((const __m256i*)w->qs); }
};
struct FQ4_0 {
    using W = block_q4_0;
    using X = block_q8_0;
    static constexpr bool SIGNED = true, MIN = false;
    static __m256i codes(const W* w) { return _mm256_sub_epi8(nibbles32(w->qs), _mm256_set1_epi8(8)); }
};
struct FQ5_0 {
    using W = block_q5_0;
    using X = block_q8_0;
    static constexpr bool SIGNED = true, MIN = false;
    static __m256i codes(const W* w) {
        return _mm256_sub_epi8(_mm256_or_si256(nibbles32(w->qs), bit4_from_bits32(w->qh)), _mm256_set1_epi8(16));
    }
};
struct FQ4_1 {
    using W = block_q4_1;
    using X = block_q8_1;
    static constexpr bool SIGNED = false, MIN = true;
    static __m256i codes(const W* w) { return nibbles32(w->qs); }
};
struct FQ5_1 {
    using W = block_q5_1;
    using X = block_q8_1;
    static constexpr bool SIGNED = false, MIN = true;
    static __m256i codes(const W* w) { return _mm256_or_si256(nibbles32(w->qs), bit4_from_bits32(w->qh)); }
};

template <class W> inline float wmin(const W* w) { return h2f(w->m); }
template <> inline float wmin<block_q8_0>(const block_q8_0*) { return 0.0f; }
template <> inline float wmin<block_q4_0>(const block_q4_0*) { return 0.0f; }
template <> inline float wmin<block_q5_0>(const block_q5_0*) { return 0.0f; }

// Lane r of a 4-float vector in all 8 lanes.
inline __m256 lane(__m128 v, int r) { return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(v), _mm256_set1_epi32(r)); }

// out[r] = W . X[r] for R activation rows. xd: the rows' block scales as f32, [block][4 rows]
// (and xs the Q8_1 block sums d * sum(q), same layout), converted once per group of rows so the
// inner loop does one multiply for the four rows' scales of a block.
template <class F, int R>
void rows32(int64_t nb, const void* wv, const char* const* xs, const float* xd, const float* xsum, float* out) {
    const typename F::W* w = static_cast<const typename F::W*>(wv);
    __m256 acc[R];
    __m128 macc = _mm_setzero_ps();
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const __m256i q = F::codes(w + b);
        const __m256i u = F::SIGNED ? _mm256_sign_epi8(q, q) : q;
        const __m128 dw = _mm_set1_ps(h2f(w[b].d));
        const __m128 scale = _mm_mul_ps(dw, _mm_loadu_ps(xd + 4 * b)); // d_w d_x for the four rows
        for (int r = 0; r < R; r++) {
            const typename F::X* x = reinterpret_cast<const typename F::X*>(xs[r]) + b;
            __m256i xv = _mm256_loadu_si256((const __m256i*)x->qs);
            if (F::SIGNED) xv = _mm256_sign_epi8(xv, q);
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_us(u, xv)), lane(scale, r), acc[r]);
        }
        if (F::MIN) macc = _mm_fmadd_ps(_mm_set1_ps(wmin(w + b)), _mm_loadu_ps(xsum + 4 * b), macc);
    }
    float m4[4];
    _mm_storeu_ps(m4, macc);
    for (int r = 0; r < R; r++) out[r] = hsum(acc[r]) + m4[r];
}

// dst = the block's values, d * code (+ m): the prompt GEMM's panels (kernels_avx2.cpp). The same
// products as the reference dequantizer's (a min added after the rounded product), in vectors.
template <class F> void dequant32(const void* src, float* dst, int64_t n) {
    const typename F::W* w = static_cast<const typename F::W*>(src);
    for (int64_t b = 0; b < n / QK; b++) {
        alignas(32) int8_t c[QK]; // signed codes (Q8_0, Q4_0 - 8, Q5_0 - 16) or unsigned ones below 32
        _mm256_store_si256((__m256i*)c, F::codes(w + b));
        const __m256 d = _mm256_set1_ps(h2f(w[b].d)), m = _mm256_set1_ps(wmin(w + b));
        for (int i = 0; i < QK; i += 8) {
            const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)(c + i)))), d);
            _mm256_storeu_ps(dst + QK * b + i, F::MIN ? _mm256_add_ps(v, m) : v);
        }
    }
}

// ---- the K-quants (256-element super-blocks, activations in Q8_K) --------------------------
inline void k4_scales(const uint8_t* q, int16_t* sc, int16_t* mn) { // ggml's get_scale_min_k4, all 8
    for (int j = 0; j < 4; j++) {
        sc[j] = (int16_t)(q[j] & 63);
        mn[j] = (int16_t)(q[j + 4] & 63);
        sc[j + 4] = (int16_t)((q[j + 8] & 0xF) | ((q[j] >> 6) << 4));
        mn[j + 4] = (int16_t)((q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4));
    }
}

// Q4_K / Q5_K: d sc_j sum(q x) - dmin m_j sum(x) per sub-block j of 32.
template <bool FIVE, int R> void rows_k45(int64_t nb, const void* wv, const char* const* xs, float* out) {
    const unsigned char* wp = static_cast<const unsigned char*>(wv);
    const int64_t bb = FIVE ? (int64_t)sizeof(block_q5_K) : (int64_t)sizeof(block_q4_K);
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    float acc[R];
    for (int r = 0; r < R; r++) acc[r] = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        const block_q4_K* w4 = reinterpret_cast<const block_q4_K*>(wp + b * bb);
        const block_q5_K* w5 = reinterpret_cast<const block_q5_K*>(wp + b * bb);
        const uint8_t* qs = FIVE ? w5->qs : w4->qs;
        int16_t sc[8], mn[8];
        k4_scales(FIVE ? w5->scales : w4->scales, sc, mn);
        // mins per 16-sum: m_j for bsums 2j and 2j+1
        const __m256i mins = _mm256_setr_epi16(mn[0], mn[0], mn[1], mn[1], mn[2], mn[2], mn[3], mn[3], //
                                               mn[4], mn[4], mn[5], mn[5], mn[6], mn[6], mn[7], mn[7]);
        __m256i lo[4], hi[4];
        __m256i hb = FIVE ? _mm256_loadu_si256((const __m256i*)w5->qh) : _mm256_setzero_si256();
        for (int g = 0; g < 4; g++) {
            const __m256i v = _mm256_loadu_si256((const __m256i*)(qs + 32 * g));
            lo[g] = _mm256_and_si256(v, m4);
            hi[g] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            if (FIVE) { // bit 2g of qh[l] -> +16 for the low sub-block, bit 2g+1 for the high one
                lo[g] = _mm256_or_si256(lo[g], _mm256_slli_epi16(_mm256_and_si256(hb, one), 4));
                hi[g] = _mm256_or_si256(hi[g], _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 1), one), 4));
                hb = _mm256_srli_epi16(hb, 2);
            }
        }
        const float dw = h2f(FIVE ? w5->d : w4->d), mw = h2f(FIVE ? w5->dmin : w4->dmin);
        for (int r = 0; r < R; r++) {
            const block_q8_K* x = reinterpret_cast<const block_q8_K*>(xs[r]) + b;
            __m256i isum = _mm256_setzero_si256();
            for (int g = 0; g < 4; g++) {
                const __m256i xl = _mm256_loadu_si256((const __m256i*)(x->qs + 64 * g));
                const __m256i xh = _mm256_loadu_si256((const __m256i*)(x->qs + 64 * g + 32));
                const __m256i pl = _mm256_madd_epi16(_mm256_maddubs_epi16(lo[g], xl), _mm256_set1_epi16(sc[2 * g]));
                const __m256i ph = _mm256_madd_epi16(_mm256_maddubs_epi16(hi[g], xh), _mm256_set1_epi16(sc[2 * g + 1]));
                isum = _mm256_add_epi32(isum, _mm256_add_epi32(pl, ph));
            }
            const __m256i msum = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i*)x->bsums), mins);
            // whole integer sums first: the scaled lanes cancel heavily, so converting lanes
            // separately would lose digits the reference keeps
            acc[r] += x->d * (dw * (float)hsum_i32(isum) - mw * (float)hsum_i32(msum));
        }
    }
    for (int r = 0; r < R; r++) out[r] = acc[r];
}

// Q6_K: d sum_j sc_j sum((q - 32) x) over sub-blocks of 16; codes q in 0..63 go in unsigned and the
// -32 comes back as -32 sc_j bsum_j.
template <int R> void rows_q6k(int64_t nb, const void* wv, const char* const* xs, float* out) {
    const block_q6_K* w = static_cast<const block_q6_K*>(wv);
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    float acc[R];
    for (int r = 0; r < R; r++) acc[r] = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        __m256i q[8], scv[8]; // 8 groups of 32 codes, in element order; each group's two scales
        for (int h = 0; h < 2; h++) {
            const __m256i qa = _mm256_loadu_si256((const __m256i*)(w[b].ql + 64 * h));
            const __m256i qb = _mm256_loadu_si256((const __m256i*)(w[b].ql + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i*)(w[b].qh + 32 * h));
            const __m256i hb0 = _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4);
            const __m256i hb1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4);
            const __m256i hb2 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4);
            const __m256i hb3 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4);
            q[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(qa, m4), hb0);
            q[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(qb, m4), hb1);
            q[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qa, 4), m4), hb2);
            q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qb, 4), m4), hb3);
        }
        for (int g = 0; g < 8; g++)
            scv[g] = _mm256_set_m128i(_mm_set1_epi16(w[b].scales[2 * g + 1]), _mm_set1_epi16(w[b].scales[2 * g]));
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)w[b].scales));
        const float dw = h2f(w[b].d);
        for (int r = 0; r < R; r++) {
            const block_q8_K* x = reinterpret_cast<const block_q8_K*>(xs[r]) + b;
            __m256i isum = _mm256_setzero_si256();
            for (int g = 0; g < 8; g++) {
                const __m256i xv = _mm256_loadu_si256((const __m256i*)(x->qs + 32 * g));
                isum = _mm256_add_epi32(isum, _mm256_madd_epi16(_mm256_maddubs_epi16(q[g], xv), scv[g]));
            }
            const __m256i off = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i*)x->bsums), sc16);
            isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(off, 5));
            acc[r] += x->d * dw * (float)hsum_i32(isum); // whole integer sum first, as for Q4_K
        }
    }
    for (int r = 0; r < R; r++) out[r] = acc[r];
}

// ---- the product -----------------------------------------------------------------------------
using RowsFn = void (*)(int64_t, const void*, const char* const*, float*);

inline float bias_at(const LinearArgs* a, int64_t n) {
    if (!a->bias) return 0.0f;
    if (a->bdtype == PANOPT_DTYPE_F32) return static_cast<const float*>(a->bias)[n];
    uint16_t h;
    memcpy(&h, static_cast<const char*>(a->bias) + 2 * n, 2);
    if (a->bdtype == PANOPT_DTYPE_F16) return h2f(h);
    const uint32_t bits = (uint32_t)h << 16; // BF16
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

template <RowsFn R1, RowsFn R2, RowsFn R3, RowsFn R4>
void linear_q(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float*) {
    const int64_t nb = a->K / kBlockElems[a->wdtype];
    const int64_t rb = row_bytes(a->wdtype, a->K);
    const char* xq = static_cast<const char*>(a->xq);
    for (int64_t t0 = n0; t0 < n1; t0 += NT) {
        const int64_t t1 = t0 + NT < n1 ? t0 + NT : n1;
        for (int64_t m = m0; m < m1; m += MAXR) {
            const int r = (int)(m1 - m < MAXR ? m1 - m : MAXR);
            const char* xs[MAXR];
            for (int i = 0; i < r; i++) xs[i] = xq + (m + i) * a->ldxq;
            for (int64_t n = t0; n < t1; n++) {
                const void* w = static_cast<const char*>(a->w) + n * rb;
                float out[MAXR];
                switch (r) {
                case 4: R4(nb, w, xs, out); break;
                case 3: R3(nb, w, xs, out); break;
                case 2: R2(nb, w, xs, out); break;
                default: R1(nb, w, xs, out); break;
                }
                const float bias = bias_at(a, n);
                for (int i = 0; i < r; i++) a->y[(m + i) * a->ldy + n] = out[i] + bias;
            }
        }
    }
}

// The 32-element formats: as linear_q, with each group of activation rows' block scales (and
// Q8_1 sums) converted to f32 into scratch, [block][4 rows]: once per product when all rows fit
// one group (decode), else once per group and 16-row tile.
template <class F>
void lin32(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
    const int64_t nb = a->K / QK;
    const int64_t rb = row_bytes(a->wdtype, a->K);
    const char* xq = static_cast<const char*>(a->xq);
    float* xd = scratch;            // [nb][4]
    float* xsum = scratch + 4 * nb; // [nb][4]
    const char* xs[MAXR];
    // The group of rows m.. (r of them): row pointers and f32 scales; lanes past r are zeros.
    auto prep = [&](int64_t m, int r) {
        for (int i = 0; i < MAXR; i++) {
            xs[i] = xq + (m + (i < r ? i : 0)) * a->ldxq;
            for (int64_t b = 0; b < nb; b++) {
                const typename F::X* x = reinterpret_cast<const typename F::X*>(xs[i]) + b;
                xd[4 * b + i] = i < r ? h2f(x->d) : 0.0f;
                xsum[4 * b + i] = F::MIN && i < r ? h2f(reinterpret_cast<const block_q8_1*>(x)->s) : 0.0f;
            }
        }
    };
    const bool one_group = m1 - m0 <= MAXR; // decode: convert once, not once per tile
    if (one_group) prep(m0, (int)(m1 - m0));
    for (int64_t t0 = n0; t0 < n1; t0 += NT) {
        const int64_t t1 = t0 + NT < n1 ? t0 + NT : n1;
        for (int64_t m = m0; m < m1; m += MAXR) {
            const int r = (int)(m1 - m < MAXR ? m1 - m : MAXR);
            if (!one_group) prep(m, r);
            for (int64_t n = t0; n < t1; n++) {
                const void* w = static_cast<const char*>(a->w) + n * rb;
                float out[MAXR];
                switch (r) {
                case 4: rows32<F, 4>(nb, w, xs, xd, xsum, out); break;
                case 3: rows32<F, 3>(nb, w, xs, xd, xsum, out); break;
                case 2: rows32<F, 2>(nb, w, xs, xd, xsum, out); break;
                default: rows32<F, 1>(nb, w, xs, xd, xsum, out); break;
                }
                const float bias = bias_at(a, n);
                for (int i = 0; i < r; i++) a->y[(m + i) * a->ldy + n] = out[i] + bias;
            }
        }
    }
}

template <bool FIVE>
constexpr auto lin_k45 = linear_q<rows_k45<FIVE, 1>, rows_k45<FIVE, 2>, rows_k45<FIVE, 3>, rows_k45<FIVE, 4>>;
constexpr auto lin_q6k = linear_q<rows_q6k<1>, rows_q6k<2>, rows_q6k<3>, rows_q6k<4>>;

} // namespace

DequantFn dequant_avx2(int32_t dt) {
    switch (dt) {
    case PANOPT_DTYPE_Q8_0: return dequant32<FQ8_0>;
    case PANOPT_DTYPE_Q4_0: return dequant32<FQ4_0>;
    case PANOPT_DTYPE_Q5_0: return dequant32<FQ5_0>;
    case PANOPT_DTYPE_Q4_1: return dequant32<FQ4_1>;
    case PANOPT_DTYPE_Q5_1: return dequant32<FQ5_1>;
    default: return type_traits(dt)->to_f32;
    }
}

void quant_kernels_avx2(TypeKernels* type) {
    type[PANOPT_DTYPE_Q8_0].linear_range = lin32<FQ8_0>;
    type[PANOPT_DTYPE_Q4_0].linear_range = lin32<FQ4_0>;
    type[PANOPT_DTYPE_Q5_0].linear_range = lin32<FQ5_0>;
    type[PANOPT_DTYPE_Q4_1].linear_range = lin32<FQ4_1>;
    type[PANOPT_DTYPE_Q5_1].linear_range = lin32<FQ5_1>;
    type[PANOPT_DTYPE_Q4_K].linear_range = lin_k45<false>;
    type[PANOPT_DTYPE_Q5_K].linear_range = lin_k45<true>;
    type[PANOPT_DTYPE_Q6_K].linear_range = lin_q6k;
}

} // namespace panopt
