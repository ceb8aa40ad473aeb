// quant_dot_neon.cpp — products with ggml's block formats (Q8_0, Q4_0, Q5_0 with Q8_0 activations;
// Q4_1, Q5_1 with Q8_1; the K-quants Q4_K, Q5_K, Q6_K with Q8_K) by the AArch64 dot-product
// extension's sdot, weights in row order. Compiled with -march=armv8.2-a+dotprod and entered only
// where the CPU has it (kernels_neon.cpp, dispatch.cpp cpu_has_dotprod); internal linkage only, and
// no inline code of other headers (kernels.h, ODR).
//
// Per block, a weight row's 32 codes become two int8x16 (the 4- and 5-bit formats' nibbles and
// fifth bits unpacked, their offset -8 / -16 subtracted) and meet each activation row's 32 int8 in
// two sdot; the block's exact integer sum (addv) then enters the scalar reference's own f32
// expression (quant_dot_scalar.cpp), block after block, so the products are the reference's, FMA
// contraction aside. Why not 4 f32 lanes summed once per output (as ggml): the opt-125m-shape
// forward test's decode pass under qemu then moved Q5_1's logits by 1e-3 of the row's max from the
// scalar reference's (one activation code rounding the other way, then carried through the layers;
// within the test's bound, but 2e-7 on x86; this way every format's decode logits there equal the
// scalar reference's bit for bit); a decode step streams the weights from memory, which a chain of
// one add per block per output should keep up with (not measured: no ARM machine here). Two weight
// rows per pass, each block's codes unpacked once for up to four activation rows.
#include "kernels.h"

#include <arm_neon.h>
#include <string.h>

#include <type_traits>

#include "../dtype.h"
#include "../quant/blocks.h"
#include "../quant/quants.h"

namespace panopt {
namespace {

constexpr int NW = 2, MX = 4;

inline float h2f(uint16_t h) { return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0); }

// A block's 32 codes as signed bytes: c[0] elements 0..15, c[1] 16..31.
inline void codes(const block_q8_0& w, int8x16_t c[2]) {
    c[0] = vld1q_s8(w.qs);
    c[1] = vld1q_s8(w.qs + 16);
}
inline void nibbles(const uint8_t* qs, uint8x16_t& lo, uint8x16_t& hi) {
    const uint8x16_t v = vld1q_u8(qs);
    lo = vandq_u8(v, vdupq_n_u8(0x0F));
    hi = vshrq_n_u8(v, 4);
}
// Bit j of the 32-bit qh as 0x10 in byte j: bytes 0..15 from qh[0..1], 16..31 from qh[2..3].
inline void fifth_bits(const uint8_t* qh, uint8x16_t& b0, uint8x16_t& b1) {
    static const uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bit = vld1q_u8(kBit);
    b0 = vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1])), bit), vdupq_n_u8(0x10));
    b1 = vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3])), bit), vdupq_n_u8(0x10));
}
inline void codes(const block_q4_0& w, int8x16_t c[2]) {
    uint8x16_t lo, hi;
    nibbles(w.qs, lo, hi);
    c[0] = vsubq_s8(vreinterpretq_s8_u8(lo), vdupq_n_s8(8));
    c[1] = vsubq_s8(vreinterpretq_s8_u8(hi), vdupq_n_s8(8));
}
inline void codes(const block_q5_0& w, int8x16_t c[2]) {
    uint8x16_t lo, hi, b0, b1;
    nibbles(w.qs, lo, hi);
    fifth_bits(w.qh, b0, b1);
    c[0] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, b0)), vdupq_n_s8(16));
    c[1] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(hi, b1)), vdupq_n_s8(16));
}
inline void codes(const block_q4_1& w, int8x16_t c[2]) { // 0..15, no offset (the minimum is separate)
    uint8x16_t lo, hi;
    nibbles(w.qs, lo, hi);
    c[0] = vreinterpretq_s8_u8(lo);
    c[1] = vreinterpretq_s8_u8(hi);
}
inline void codes(const block_q5_1& w, int8x16_t c[2]) { // 0..31
    uint8x16_t lo, hi, b0, b1;
    nibbles(w.qs, lo, hi);
    fifth_bits(w.qh, b0, b1);
    c[0] = vreinterpretq_s8_u8(vorrq_u8(lo, b0));
    c[1] = vreinterpretq_s8_u8(vorrq_u8(hi, b1));
}

template <class W> constexpr bool kMin = std::is_same<W, block_q4_1>::value || std::is_same<W, block_q5_1>::value;
inline float min_term(const block_q4_1& w, const block_q8_1& x) { return h2f(w.m) * h2f(x.s); }
inline float min_term(const block_q5_1& w, const block_q8_1& x) { return h2f(w.m) * h2f(x.s); }
template <class W, class X> inline float min_term(const W&, const X&) { return 0.0f; }

inline float bias_at(const LinearArgs* a, int64_t n) { // the reference conversion: once per output
    if (!a->bias) return 0.0f;
    float f;
    type_traits(a->bdtype)->to_f32(static_cast<const char*>(a->bias) + n * kBlockBytes[a->bdtype], &f, 1);
    return f;
}

// Y[m..m + R) x [n..n + G) for R activation rows and G weight rows (pointers), all nb blocks.
template <class W, class X, int R, int G> void btile(const W* const* w, const X* const* x, int64_t nb, float y[R][G]) {
    float acc[R][G];
    for (int i = 0; i < R; i++)
        for (int g = 0; g < G; g++) acc[i][g] = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int8x16_t c[G][2];
        float dw[G];
        for (int g = 0; g < G; g++) {
            codes(w[g][b], c[g]);
            dw[g] = h2f(w[g][b].d);
        }
        for (int i = 0; i < R; i++) {
            const int8x16_t x0 = vld1q_s8(x[i][b].qs), x1 = vld1q_s8(x[i][b].qs + 16);
            const float dx = h2f(x[i][b].d);
            for (int g = 0; g < G; g++) {
                const float sumi = (float)vaddvq_s32(vdotq_s32(vdotq_s32(vdupq_n_s32(0), c[g][0], x0), c[g][1], x1));
                if constexpr (kMin<W>) acc[i][g] += sumi * (dw[g] * dx) + min_term(w[g][b], x[i][b]);
                else acc[i][g] += sumi * (dw[g] * dx);
            }
        }
    }
    for (int i = 0; i < R; i++)
        for (int g = 0; g < G; g++) y[i][g] = acc[i][g];
}

// ---- the K-quants (super-blocks of 256, Q8_K activations): one weight row per pass, its 256 codes
// unpacked into 16 registers once per block for up to four activation rows. Per activation row
// the sub-blocks' sdot sums times their scales go into 4 int32 lanes (the exact integers), and the
// block's total enters the reference's own f32 expression, so the results are its own but for
// contraction. Bounds: Q4_K 8 x 63 x 32 x 15 x 127, Q5_K with 31, Q6_K 16 x 127 x 16 x 32 x 127 < 2^31.
template <class W> constexpr bool kK = std::is_same<W, block_q4_K>::value || std::is_same<W, block_q5_K>::value ||
                                       std::is_same<W, block_q6_K>::value;

// Codes c[2j], c[2j + 1]: sub-block j's elements 0..15, 16..31 (chunk j / 2's low nibbles for even j,
// high for odd j; Q5_K: bit j of qh[l] as bit 4 of element l).
template <class W> inline void kcodes(const W& w, int8x16_t c[16]) {
    for (int g = 0; g < 4; g++) {
        const uint8x16_t v0 = vld1q_u8(w.qs + 32 * g), v1 = vld1q_u8(w.qs + 32 * g + 16);
        c[4 * g] = vreinterpretq_s8_u8(vandq_u8(v0, vdupq_n_u8(0x0F)));
        c[4 * g + 1] = vreinterpretq_s8_u8(vandq_u8(v1, vdupq_n_u8(0x0F)));
        c[4 * g + 2] = vreinterpretq_s8_u8(vshrq_n_u8(v0, 4));
        c[4 * g + 3] = vreinterpretq_s8_u8(vshrq_n_u8(v1, 4));
    }
    if constexpr (std::is_same<W, block_q5_K>::value) {
        const uint8x16_t h0 = vld1q_u8(w.qh), h1 = vld1q_u8(w.qh + 16);
        for (int j = 0; j < 8; j++) {
            const uint8x16_t bit = vdupq_n_u8((uint8_t)(1u << j)), b4 = vdupq_n_u8(0x10);
            c[2 * j] = vorrq_s8(c[2 * j], vreinterpretq_s8_u8(vandq_u8(vtstq_u8(h0, bit), b4)));
            c[2 * j + 1] = vorrq_s8(c[2 * j + 1], vreinterpretq_s8_u8(vandq_u8(vtstq_u8(h1, bit), b4)));
        }
    }
}

// Q6_K: c[u] = sub-block u's 16 codes minus 32. In half h, element 32 r + l takes ql[64 h + l + 32 (r & 1)]
// (low nibble for r < 2, high for r >= 2) and bits 2r..2r+1 of qh[32 h + l]; sub-block u = 8 h + 2 r + l / 16.
inline void kcodes(const block_q6_K& w, int8x16_t c[16]) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m2 = vdupq_n_u8(3);
    for (int h = 0; h < 2; h++) {
        const uint8_t* ql = w.ql + 64 * h;
        const uint8x16_t a[2] = {vld1q_u8(ql), vld1q_u8(ql + 16)}, b[2] = {vld1q_u8(ql + 32), vld1q_u8(ql + 48)};
        const uint8x16_t q[2] = {vld1q_u8(w.qh + 32 * h), vld1q_u8(w.qh + 32 * h + 16)};
        for (int i = 0; i < 2; i++) {
            const uint8x16_t hi[4] = {vshlq_n_u8(vandq_u8(q[i], m2), 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(q[i], 2), m2), 4),
                                      vshlq_n_u8(vandq_u8(vshrq_n_u8(q[i], 4), m2), 4), vshlq_n_u8(vshrq_n_u8(q[i], 6), 4)};
            const uint8x16_t lo[4] = {vandq_u8(a[i], m4), vandq_u8(b[i], m4), vshrq_n_u8(a[i], 4), vshrq_n_u8(b[i], 4)};
            for (int r = 0; r < 4; r++)
                c[8 * h + 2 * r + i] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo[r], hi[r])), vdupq_n_s8(32));
        }
    }
}

// y[i] = row w times activation rows x[i] over nb super-blocks.
template <class W, int R> void ktile(const W* w, const block_q8_K* const* x, int64_t nb, float y[R]) {
    float s[R];
    for (int i = 0; i < R; i++) s[i] = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int8x16_t c[16];
        kcodes(w[b], c);
        if constexpr (std::is_same<W, block_q6_K>::value) {
            const float dw = h2f(w[b].d);
            for (int i = 0; i < R; i++) {
                int32x4_t acc = vdupq_n_s32(0);
                for (int u = 0; u < 16; u++)
                    acc = vmlaq_n_s32(acc, vdotq_s32(vdupq_n_s32(0), c[u], vld1q_s8(x[i][b].qs + 16 * u)), w[b].scales[u]);
                s[i] += x[i][b].d * dw * (float)vaddvq_s32(acc);
            }
        } else {
            uint8_t sc[8], mn[8]; // the 6-bit scales and minima (ggml's get_scale_min_k4)
            for (int j = 0; j < 8; j++) quant::get_scale_min_k4(j, w[b].scales, sc[j], mn[j]);
            const float dw = h2f(w[b].d), mw = h2f(w[b].dmin);
            for (int i = 0; i < R; i++) {
                const int8_t* xq = x[i][b].qs;
                int32x4_t acc = vdupq_n_s32(0);
                int32_t summ = 0;
                for (int j = 0; j < 8; j++) {
                    const int32x4_t t = vdotq_s32(vdotq_s32(vdupq_n_s32(0), c[2 * j], vld1q_s8(xq + 32 * j)), c[2 * j + 1],
                                                  vld1q_s8(xq + 32 * j + 16));
                    acc = vmlaq_n_s32(acc, t, sc[j]);
                    summ += mn[j] * (x[i][b].bsums[2 * j] + x[i][b].bsums[2 * j + 1]);
                }
                s[i] += x[i][b].d * (dw * (float)vaddvq_s32(acc) - mw * (float)summ);
            }
        }
    }
    for (int i = 0; i < R; i++) y[i] = s[i];
}

// Y[m..m + R) x [n..n + G) of either kind (the K-quants: G = 1).
template <class W, class X, int R, int G> void tile(const W* const* w, const X* const* x, int64_t nb, float y[R][G]) {
    if constexpr (kK<W>) {
        static_assert(G == 1, "one weight row per pass");
        float t[R];
        ktile<W, R>(w[0], x, nb, t);
        for (int i = 0; i < R; i++) y[i][0] = t[i];
    } else {
        btile<W, X, R, G>(w, x, nb, y);
    }
}

template <class W, class X, int G>
void rows_times(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n, const W* const* w, int64_t nb) {
    float b[G];
    for (int g = 0; g < G; g++) b[g] = bias_at(a, n + g);
    auto xrow = [&](int64_t m) { return reinterpret_cast<const X*>(static_cast<const char*>(a->xq) + m * a->ldxq); };
    int64_t m = m0;
    for (; m + MX <= m1; m += MX) {
        const X* x[MX] = {xrow(m), xrow(m + 1), xrow(m + 2), xrow(m + 3)};
        float y[MX][G];
        tile<W, X, MX, G>(w, x, nb, y);
        for (int i = 0; i < MX; i++)
            for (int g = 0; g < G; g++) a->y[(m + i) * a->ldy + n + g] = y[i][g] + b[g];
    }
    for (; m < m1; m++) {
        const X* x[1] = {xrow(m)};
        float y[1][G];
        tile<W, X, 1, G>(w, x, nb, y);
        for (int g = 0; g < G; g++) a->y[m * a->ldy + n + g] = y[0][g] + b[g];
    }
}

template <class W, class X> void linear_range(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float*) {
    const int64_t nb = a->K / (kK<W> ? QK_K : QK), rb = nb * (int64_t)sizeof(W);
    auto row = [&](int64_t n) { return reinterpret_cast<const W*>(static_cast<const char*>(a->w) + n * rb); };
    int64_t n = n0;
    if constexpr (!kK<W>)
        for (; n + NW <= n1; n += NW) {
            const W* w[NW] = {row(n), row(n + 1)};
            rows_times<W, X, NW>(a, m0, m1, n, w, nb);
        }
    for (; n < n1; n++) {
        const W* w[1] = {row(n)};
        rows_times<W, X, 1>(a, m0, m1, n, w, nb);
    }
}

} // namespace

void quant_dot_neon(TypeKernels* type) {
    type[PANOPT_DTYPE_Q8_0].linear_range = linear_range<block_q8_0, block_q8_0>;
    type[PANOPT_DTYPE_Q4_0].linear_range = linear_range<block_q4_0, block_q8_0>;
    type[PANOPT_DTYPE_Q5_0].linear_range = linear_range<block_q5_0, block_q8_0>;
    type[PANOPT_DTYPE_Q4_1].linear_range = linear_range<block_q4_1, block_q8_1>;
    type[PANOPT_DTYPE_Q5_1].linear_range = linear_range<block_q5_1, block_q8_1>;
    type[PANOPT_DTYPE_Q4_K].linear_range = linear_range<block_q4_K, block_q8_K>;
    type[PANOPT_DTYPE_Q5_K].linear_range = linear_range<block_q5_K, block_q8_K>;
    type[PANOPT_DTYPE_Q6_K].linear_range = linear_range<block_q6_K, block_q8_K>;
}

} // namespace panopt
