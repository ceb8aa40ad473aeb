// kernels_neon.cpp — AArch64 Advanced SIMD (NEON) kernels: the f32 products of every weight type,
// the float types' conversions, attention over F32/F16/Q8_0 cache rows and the F16 cache's store,
// the small vector ops, and the activation quantizers (Q8_0, Q8_1, Q8_K). NEON (with the f16 <-> f32
// conversions) is part of every AArch64 CPU, so this file takes the compiler's baseline flags; the
// block formats' int8 products, which need the dot-product extension, are in quant_dot_neon.cpp (its
// own flags, chosen at run time).
//
// The products: W rows are read as f32 lanes (F32 in place, F16 by fcvtl, BF16 by a shift; the
// block formats' rows first dequantized into a panel in scratch by their reference) and dotted with
// MR rows of X at once, MR x NR sums in registers, 4 lanes each: per 4 elements, MR + NR loads feed
// MR x NR FMAs. A decode step (one X row) takes 8 W rows per pass (8 chains of the FMA's latency);
// longer passes 4 x 4 (16 sums, 8 operands: 24 of the 32 registers). Each sum is reduced by faddp's
// tree (vaddvq) and the K % 4 tail added by fmaf, so a row's values do not depend on the tile it
// falls in, nor on the rows it is batched with.
#include "kernels.h"

#include <arm_neon.h>
#include <math.h>
#include <string.h>

#include "../dtype.h"
#include "../quant/blocks.h"

namespace panopt {
namespace {

constexpr int NR1 = 8; // W rows per pass with one X row
constexpr int MR = 4, NR = 4;

// One f16 as f32 by fcvtl (exact, as the reference's software f16_to_f32).
inline float h2f(uint16_t h) { return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0); }

// 4 elements k..k+3 of a row of a float type as f32.
template <int DT> inline float32x4_t load4(const void* row, int64_t k) {
    if (DT == PANOPT_DTYPE_F32) return vld1q_f32(static_cast<const float*>(row) + k);
    const uint16x4_t h = vld1_u16(static_cast<const uint16_t*>(row) + k);
    if (DT == PANOPT_DTYPE_F16) return vcvt_f32_f16(vreinterpret_f16_u16(h));
    return vreinterpretq_f32_u32(vshll_n_u16(h, 16)); // BF16: the upper half of an f32
}
template <int DT> inline float elem(const void* row, int64_t k) {
    if (DT == PANOPT_DTYPE_F32) return static_cast<const float*>(row)[k];
    const uint16_t h = static_cast<const uint16_t*>(row)[k];
    if (DT == PANOPT_DTYPE_F16) return h2f(h);
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

template <int DT> void to_f32(const void* src, float* dst, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, load4<DT>(src, i));
    for (; i < n; i++) dst[i] = elem<DT>(src, i);
}

inline float bias_at(const LinearArgs* a, int64_t n) {
    float f;
    type_traits(a->bdtype)->to_f32(static_cast<const char*>(a->bias) + n * kBlockBytes[a->bdtype], &f, 1);
    return f;
}

// y[i][j] = x_i . w_j over K for M_ X rows and N_ W rows of type DT (rows as pointers).
template <int DT, int M_, int N_> void tile(const float* const* x, const void* const* w, int64_t K, float y[M_][N_]) {
    float32x4_t acc[M_][N_];
    for (int i = 0; i < M_; i++)
        for (int j = 0; j < N_; j++) acc[i][j] = vdupq_n_f32(0.0f);
    int64_t k = 0;
    for (; k + 4 <= K; k += 4) {
        float32x4_t wv[N_];
        for (int j = 0; j < N_; j++) wv[j] = load4<DT>(w[j], k);
        for (int i = 0; i < M_; i++) {
            const float32x4_t xv = vld1q_f32(x[i] + k);
            for (int j = 0; j < N_; j++) acc[i][j] = vfmaq_f32(acc[i][j], xv, wv[j]);
        }
    }
    for (int i = 0; i < M_; i++)
        for (int j = 0; j < N_; j++) {
            float s = vaddvq_f32(acc[i][j]);
            for (int64_t t = k; t < K; t++) s = fmaf(x[i][t], elem<DT>(w[j], t), s);
            y[i][j] = s;
        }
}

// Rows [m0, m1) of X times the nr (<= N_) W rows w[], into Y's columns n..n + nr (bias b[] added).
template <int DT, int M_, int N_>
void rows_times(const LinearArgs* a, int64_t m0, int64_t m1, const void* const* w, int nr, int64_t n, const float* b) {
    const void* wp[N_];
    for (int j = 0; j < N_; j++) wp[j] = w[j < nr ? j : 0]; // a short tile repeats row 0 (not stored)
    auto put = [&](int64_t m, int mr, const float* yv) {
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) a->y[(m + i) * a->ldy + n + j] = yv[i * N_ + j] + b[j];
    };
    int64_t m = m0;
    for (; m + M_ <= m1; m += M_) {
        const float* xp[M_];
        for (int i = 0; i < M_; i++) xp[i] = a->x + (m + i) * a->ldx;
        float y[M_][N_];
        tile<DT, M_, N_>(xp, wp, a->K, y);
        put(m, M_, &y[0][0]);
    }
    for (; m < m1; m++) { // the last rows one at a time
        const float* xp[1] = {a->x + m * a->ldx};
        float y[1][N_];
        tile<DT, 1, N_>(xp, wp, a->K, y);
        put(m, 1, &y[0][0]);
    }
}

// A panel of W rows in scratch, at most kPanelBytes of f32: big enough that a block format's rows,
// dequantized once, serve every X row, and small enough to stay in a core's L2 while each 4-row
// tile of X (in L1) passes over it.
constexpr int64_t kPanelBytes = 512 * 1024;
int64_t panel_rows(int64_t K) {
    const int64_t r = kPanelBytes / (4 * (K > 0 ? K : 1)) / NR * NR;
    return r > NR1 ? r : NR1;
}
int64_t linear_scratch_floats(int64_t K) { return panel_rows(K) * K + 16; }

// Y[m0:m1, n0:n1] = X W^T (+ b). DT: the rows' type as read (F32, F16, BF16); a block format's rows
// are dequantized by its reference into the panel first and read as F32 (its prompt products,
// linear_range_dq). One X row (a decode step): 8 W rows per pass, straight from the weights. More:
// W in panels, and per panel X in tiles of 4 rows, each over all of the panel's rows 4 at a time.
template <int DT> void linear_range(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
    const int64_t K = a->K, rb = row_bytes(a->wdtype, K);
    const bool convert = DT == PANOPT_DTYPE_F32 && a->wdtype != PANOPT_DTYPE_F32;
    const int64_t pr = m1 - m0 == 1 ? NR1 : panel_rows(K);
    auto row = [&](int64_t n) -> const void* { return static_cast<const char*>(a->w) + n * rb; };
    for (int64_t p0 = n0; p0 < n1; p0 += pr) {
        const int64_t p1 = p0 + pr < n1 ? p0 + pr : n1;
        if (convert)
            for (int64_t n = p0; n < p1; n++) type_traits(a->wdtype)->to_f32(row(n), scratch + (n - p0) * K, K);
        auto wrow = [&](int64_t n) -> const void* { return convert ? (const void*)(scratch + (n - p0) * K) : row(n); };
        float b[NR1];
        const void* w[NR1] = {};
        if (m1 - m0 == 1) {
            const int nr = (int)(p1 - p0);
            for (int j = 0; j < nr; j++) {
                w[j] = wrow(p0 + j);
                b[j] = a->bias ? bias_at(a, p0 + j) : 0.0f;
            }
            rows_times<DT, 1, NR1>(a, m0, m1, w, nr, p0, b);
            continue;
        }
        for (int64_t m = m0; m < m1; m += MR) {
            const int64_t me = m + MR < m1 ? m + MR : m1;
            for (int64_t n = p0; n < p1; n += NR) {
                const int nr = (int)(p1 - n < NR ? p1 - n : NR);
                for (int j = 0; j < nr; j++) {
                    w[j] = wrow(n + j);
                    b[j] = a->bias ? bias_at(a, n + j) : 0.0f;
                }
                rows_times<DT, MR, NR>(a, m, me, w, nr, n, b);
            }
        }
    }
}

// ---- attention over cached rows (kernels.h dot_rows / axpy_rows), F32 and F16 ----
// Each query on its own, each score and output element by the same operations whatever the
// queries per call and the key's place in a group of four: per key 4-lane sums in k order, vaddvq,
// then the tail by fmaf; per output element fmas over the keys in order, zero weights skipped.

template <int DT> void dot_rows(const float* q, int64_t ldq, int64_t nq, const void* rows, int64_t n, int64_t K, float* out,
                                int64_t ldo) {
    const int64_t rb = row_bytes(DT, K);
    const char* base = static_cast<const char*>(rows);
    for (int64_t i = 0; i < nq; i++) {
        const float* qi = q + i * ldq;
        int64_t j = 0;
        for (; j + 4 <= n; j += 4) {
            const void* w[4] = {base + j * rb, base + (j + 1) * rb, base + (j + 2) * rb, base + (j + 3) * rb};
            float y[1][4];
            tile<DT, 1, 4>(&qi, w, K, y);
            for (int t = 0; t < 4; t++) out[i * ldo + j + t] = y[0][t];
        }
        for (; j < n; j++) {
            const void* w[1] = {base + j * rb};
            float y[1][1];
            tile<DT, 1, 1>(&qi, w, K, y);
            out[i * ldo + j] = y[0][0];
        }
    }
}

// out[d0 .. d0 + 4 V) += sum_j p[j] row_j over those elements, V vectors in registers.
template <int DT, int V> void weigh(const float* p, const char* base, int64_t rb, int64_t n, int64_t d0, float* out) {
    float32x4_t acc[V];
    for (int v = 0; v < V; v++) acc[v] = vld1q_f32(out + d0 + 4 * v);
    for (int64_t j = 0; j < n; j++) {
        if (p[j] == 0.0f) continue;
        const void* r = base + j * rb;
        for (int v = 0; v < V; v++) acc[v] = vfmaq_n_f32(acc[v], load4<DT>(r, d0 + 4 * v), p[j]);
    }
    for (int v = 0; v < V; v++) vst1q_f32(out + d0 + 4 * v, acc[v]);
}

template <int DT> void axpy_rows(const float* p, int64_t ldp, int64_t nq, const void* rows, int64_t n, int64_t K, float* out,
                                 int64_t ldo) {
    const int64_t rb = row_bytes(DT, K), K4 = K & ~(int64_t)3;
    const char* base = static_cast<const char*>(rows);
    for (int64_t i = 0; i < nq; i++) {
        const float* pi = p + i * ldp;
        float* oi = out + i * ldo;
        int64_t d0 = 0;
        for (; d0 + 64 <= K4; d0 += 64) weigh<DT, 16>(pi, base, rb, n, d0, oi); // a 64-element head at once
        for (; d0 + 16 <= K4; d0 += 16) weigh<DT, 4>(pi, base, rb, n, d0, oi);
        for (; d0 < K4; d0 += 4) weigh<DT, 1>(pi, base, rb, n, d0, oi);
        for (int64_t j = 0; j < n; j++) {
            if (pi[j] == 0.0f) continue;
            for (int64_t k = K4; k < K; k++) oi[k] = fmaf(pi[j], elem<DT>(base + j * rb, k), oi[k]);
        }
    }
}

// Q8_0 rows (a Q8_0 cache): per key and block, d (q . codes), the codes converted to f32 8 at a
// time; keys 4 at a time for independent chains, each key's operations the same in a group or alone.
inline void codes32(const int8_t* c, float32x4_t v[8]) {
    for (int h = 0; h < 2; h++) {
        const int8x16_t b = vld1q_s8(c + 16 * h);
        const int16x8_t lo = vmovl_s8(vget_low_s8(b)), hi = vmovl_s8(vget_high_s8(b));
        v[4 * h] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo)));
        v[4 * h + 1] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(lo)));
        v[4 * h + 2] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi)));
        v[4 * h + 3] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(hi)));
    }
}
template <int NK> void dot_q8_0_keys(const float* q, const block_q8_0* r, int64_t nb, float* out) {
    float32x4_t acc[NK];
    for (int t = 0; t < NK; t++) acc[t] = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < nb; b++)
        for (int t = 0; t < NK; t++) {
            const block_q8_0& blk = r[t * nb + b];
            float32x4_t c[8];
            codes32(blk.qs, c);
            float32x4_t s = vmulq_f32(vld1q_f32(q + 32 * b), c[0]);
            for (int v = 1; v < 8; v++) s = vfmaq_f32(s, vld1q_f32(q + 32 * b + 4 * v), c[v]);
            acc[t] = vfmaq_n_f32(acc[t], s, h2f(blk.d));
        }
    for (int t = 0; t < NK; t++) out[t] = vaddvq_f32(acc[t]);
}
void dot_rows_q8_0(const float* q, int64_t ldq, int64_t nq, const void* rows, int64_t n, int64_t K, float* out, int64_t ldo) {
    const int64_t nb = K / QK;
    const block_q8_0* r = static_cast<const block_q8_0*>(rows);
    for (int64_t i = 0; i < nq; i++) {
        int64_t j = 0;
        for (; j + 4 <= n; j += 4) dot_q8_0_keys<4>(q + i * ldq, r + j * nb, nb, out + i * ldo + j);
        for (; j < n; j++) dot_q8_0_keys<1>(q + i * ldq, r + j * nb, nb, out + i * ldo + j);
    }
}
// out += sum_j p_j v_j: p_j d folded into one multiplier per block, 32 outputs per pass over the rows.
void axpy_rows_q8_0(const float* p, int64_t ldp, int64_t nq, const void* rows, int64_t n, int64_t K, float* out, int64_t ldo) {
    const int64_t nb = K / QK;
    const block_q8_0* r = static_cast<const block_q8_0*>(rows);
    for (int64_t i = 0; i < nq; i++)
        for (int64_t b = 0; b < nb; b++) {
            float* o = out + i * ldo + 32 * b;
            float32x4_t acc[8];
            for (int v = 0; v < 8; v++) acc[v] = vld1q_f32(o + 4 * v);
            for (int64_t j = 0; j < n; j++) {
                const float pj = p[i * ldp + j];
                if (pj == 0.0f) continue;
                float32x4_t c[8];
                codes32(r[j * nb + b].qs, c);
                const float s = pj * h2f(r[j * nb + b].d);
                for (int v = 0; v < 8; v++) acc[v] = vfmaq_n_f32(acc[v], c[v], s);
            }
            for (int v = 0; v < 8; v++) vst1q_f32(o + 4 * v, acc[v]);
        }
}

// The F16 cache's store: f32 -> f16 by fcvtn, nearest even (the FPCR default), which gives the
// reference f32_to_f16's bits (test_f16_all checks every class of input against it).
void to_f16(const float* x, void* y, int64_t n) {
    uint16_t* o = static_cast<uint16_t*>(y);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1_u16(o + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(x + i))));
    for (; i < n; i++) o[i] = vget_lane_u16(vreinterpret_u16_f16(vcvt_f16_f32(vdupq_n_f32(x[i]))), 0);
}

// ---- small vector ops ----
float dot(const float* a, const float* b, int64_t n) {
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
        s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    }
    float s = vaddvq_f32(vaddq_f32(s0, s1));
    for (; i < n; i++) s = fmaf(a[i], b[i], s);
    return s;
}

void axpy(float a, const float* x, float* y, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
    for (; i < n; i++) y[i] = fmaf(a, x[i], y[i]);
}

void add(float* y, const float* x, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vaddq_f32(vld1q_f32(y + i), vld1q_f32(x + i)));
    for (; i < n; i++) y[i] += x[i];
}

void activation(int32_t act, float* x, int64_t n) {
    if (act != PANOPT_ACT_RELU) {
        activation_scalar(act, x, n); // the transcendental ones: the scalar table's (double) formulas
        return;
    }
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vmaxq_f32(vld1q_f32(x + i), vdupq_n_f32(0.0f)));
    for (; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

// ---- Q8_0 / Q8_1 activation rows: ggml's quantize_row_q8_{0,1}_ref bytes ----
// d = amax / 127 and its inverse in scalar f32 as the reference; q = round(x * id) half away from
// zero (fcvtas: C's roundf) per lane; codes stay within [-127, 127] for finite rows.
inline uint16_t fp16(float f) { return f32_to_f16(f); }

// One 32-block: its scale d and codes; returns the sum of the codes.
inline int q8_block(const float* x, float* d_out, int8_t* qs) {
    float32x4_t v[8];
    float32x4_t amax = vdupq_n_f32(0.0f);
    for (int i = 0; i < 8; i++) {
        v[i] = vld1q_f32(x + 4 * i);
        amax = vmaxq_f32(amax, vabsq_f32(v[i]));
    }
    const float d = vmaxvq_f32(amax) / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    int32x4_t sum = vdupq_n_s32(0);
    for (int i = 0; i < 8; i += 2) {
        const int32x4_t a = vcvtaq_s32_f32(vmulq_n_f32(v[i], id)), b = vcvtaq_s32_f32(vmulq_n_f32(v[i + 1], id));
        sum = vaddq_s32(sum, vaddq_s32(a, b));
        const int16x8_t h = vcombine_s16(vqmovn_s32(a), vqmovn_s32(b));
        vst1_s8(qs + 4 * i, vqmovn_s16(h));
    }
    *d_out = d;
    return vaddvq_s32(sum);
}

#include "quant_act_rows.inc"

// Q8_K (the K-quants' activations): quantize_row_q8_K_ref's bytes. The scale from the first element
// of largest magnitude, with its sign; q = min(127, round half to even (iscale x)) (fcvtns: ggml's
// nearest_int); the 16-element sums of the codes.
void quantize_q8_K(const float* x, void* y, int64_t n) {
    block_q8_K* b = static_cast<block_q8_K*>(y);
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        float32x4_t am = vdupq_n_f32(0.0f);
        for (int j = 0; j < QK_K; j += 4) am = vmaxq_f32(am, vabsq_f32(vld1q_f32(x + j)));
        const float amax = vmaxvq_f32(am);
        if (amax == 0.0f) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        float max = 0;
        for (int j = 0; j < QK_K; j++)
            if (x[j] == amax || x[j] == -amax) {
                max = x[j];
                break;
            }
        const float iscale = -127.f / max;
        for (int j = 0; j < QK_K; j += 16) {
            int32x4_t q[4];
            for (int k = 0; k < 4; k++)
                q[k] = vminq_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + j + 4 * k), iscale)), vdupq_n_s32(127));
            const int16x8_t h0 = vcombine_s16(vqmovn_s32(q[0]), vqmovn_s32(q[1]));
            const int16x8_t h1 = vcombine_s16(vqmovn_s32(q[2]), vqmovn_s32(q[3]));
            vst1q_s8(b[i].qs + j, vcombine_s8(vqmovn_s16(h0), vqmovn_s16(h1)));
            b[i].bsums[j / 16] = (int16_t)vaddvq_s32(vaddq_s32(vaddq_s32(q[0], q[1]), vaddq_s32(q[2], q[3])));
        }
        b[i].d = 1 / iscale;
    }
}

Kernels make_table() {
    Kernels k = *kernels_scalar(); // layernorm and softmax (double / expf formulas) stay the reference's
    k.isa = PANOPT_ISA_NEON;
    k.name = "neon";
    k.n_align = NR1;
    k.linear_scratch_floats = linear_scratch_floats;
    for (int32_t dt = 0; dt < PANOPT_DTYPE_COUNT; dt++) k.type[dt] = TypeKernels{}; // the rest by completion
    k.type[PANOPT_DTYPE_F32] = float_type(to_f32<PANOPT_DTYPE_F32>, linear_range<PANOPT_DTYPE_F32>);
    k.type[PANOPT_DTYPE_F16] = float_type(to_f32<PANOPT_DTYPE_F16>, linear_range<PANOPT_DTYPE_F16>);
    k.type[PANOPT_DTYPE_BF16] = float_type(to_f32<PANOPT_DTYPE_BF16>, linear_range<PANOPT_DTYPE_BF16>);
    for (int32_t dt = 0; dt < PANOPT_DTYPE_COUNT; dt++)
        if (type_traits(dt)->vec_dot_type != PANOPT_DTYPE_F32) k.type[dt].linear_range_dq = linear_range<PANOPT_DTYPE_F32>;
    k.type[PANOPT_DTYPE_F32].dot_rows = dot_rows<PANOPT_DTYPE_F32>;
    k.type[PANOPT_DTYPE_F32].axpy_rows = axpy_rows<PANOPT_DTYPE_F32>;
    k.type[PANOPT_DTYPE_F16].dot_rows = dot_rows<PANOPT_DTYPE_F16>;
    k.type[PANOPT_DTYPE_F16].axpy_rows = axpy_rows<PANOPT_DTYPE_F16>;
    k.type[PANOPT_DTYPE_F16].quantize_row = to_f16;
    k.type[PANOPT_DTYPE_Q8_0].dot_rows = dot_rows_q8_0;
    k.type[PANOPT_DTYPE_Q8_0].axpy_rows = axpy_rows_q8_0;
    k.type[PANOPT_DTYPE_Q8_0].quantize_row = quantize_q8_0;
    k.type[PANOPT_DTYPE_Q8_0].quantize_row_sums = quantize_q8_0_sums;
    k.type[PANOPT_DTYPE_Q8_1].quantize_row = quantize_q8_1;
    k.type[PANOPT_DTYPE_Q8_K].quantize_row = quantize_q8_K;
    if (cpu_has_dotprod()) quant_dot_neon(k.type);
    k.activation = activation;
    k.dot = dot;
    k.axpy = axpy;
    k.add = add;
    return k;
}

} // namespace

const Kernels* kernels_neon() {
    static const Kernels table = make_table(); // thread-safe, on first use
    return &table;
}

} // namespace panopt
