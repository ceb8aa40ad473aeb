// quant_dot_scalar.cpp — the reference for products with ggml's block formats: one weight row
// dotted with one activation row already quantized to the weight's vec_dot_type (Q8_0, Q8_1 or
// Q8_K, see dtype.h). Per block, the integer dot product of the stored values is exact; it is then
// scaled by the two block scales (and, for the formats with a minimum, the minimum times the
// activation block's sum). The SIMD kernels (quant_dot_*.cpp) compute exactly these integers and
// differ only in the order of the f32 sums, which is what the tests allow for.
#include "kernels.h"

#include <cstring>

#include "../dtype.h"
#include "../quant/blocks.h"

namespace panopt {
namespace {

inline float h2f(uint16_t h) { return f16_to_f32(h); }

inline uint32_t qh32(const uint8_t* qh) { // Q5_0/Q5_1 high bits, little-endian
    uint32_t v;
    std::memcpy(&v, qh, 4);
    return v;
}

// 4-bit value j (0..31) of a 32-block: low nibbles hold elements 0..15, high nibbles 16..31.
inline int nib(const uint8_t* qs, int j) { return j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4); }

float dot_q8_0(int64_t nb, const void* wv, const void* xv) {
    const block_q8_0* w = static_cast<const block_q8_0*>(wv);
    const block_q8_0* x = static_cast<const block_q8_0*>(xv);
    float s = 0;
    for (int64_t b = 0; b < nb; b++) {
        int32_t sumi = 0;
        for (int j = 0; j < QK; j++) sumi += (int32_t)w[b].qs[j] * x[b].qs[j];
        s += (float)sumi * (h2f(w[b].d) * h2f(x[b].d));
    }
    return s;
}

float dot_q4_0(int64_t nb, const void* wv, const void* xv) {
    const block_q4_0* w = static_cast<const block_q4_0*>(wv);
    const block_q8_0* x = static_cast<const block_q8_0*>(xv);
    float s = 0;
    for (int64_t b = 0; b < nb; b++) {
        int32_t sumi = 0;
        for (int j = 0; j < QK; j++) sumi += (nib(w[b].qs, j) - 8) * x[b].qs[j];
        s += (float)sumi * (h2f(w[b].d) * h2f(x[b].d));
    }
    return s;
}

float dot_q5_0(int64_t nb, const void* wv, const void* xv) {
    const block_q5_0* w = static_cast<const block_q5_0*>(wv);
    const block_q8_0* x = static_cast<const block_q8_0*>(xv);
    float s = 0;
    for (int64_t b = 0; b < nb; b++) {
        const uint32_t qh = qh32(w[b].qh);
        int32_t sumi = 0;
        for (int j = 0; j < QK; j++) sumi += ((nib(w[b].qs, j) | (int)((qh >> j) & 1u) << 4) - 16) * x[b].qs[j];
        s += (float)sumi * (h2f(w[b].d) * h2f(x[b].d));
    }
    return s;
}

// Q4_1/Q5_1: x = d q + m, so w.x = d_w d_x sum(q xq) + m_w (d_x sum(xq)) = ... + m_w s_x.
float dot_q4_1(int64_t nb, const void* wv, const void* xv) {
    const block_q4_1* w = static_cast<const block_q4_1*>(wv);
    const block_q8_1* x = static_cast<const block_q8_1*>(xv);
    float s = 0;
    for (int64_t b = 0; b < nb; b++) {
        int32_t sumi = 0;
        for (int j = 0; j < QK; j++) sumi += nib(w[b].qs, j) * x[b].qs[j];
        s += (float)sumi * (h2f(w[b].d) * h2f(x[b].d)) + h2f(w[b].m) * h2f(x[b].s);
    }
    return s;
}

float dot_q5_1(int64_t nb, const void* wv, const void* xv) {
    const block_q5_1* w = static_cast<const block_q5_1*>(wv);
    const block_q8_1* x = static_cast<const block_q8_1*>(xv);
    float s = 0;
    for (int64_t b = 0; b < nb; b++) {
        const uint32_t qh = qh32(w[b].qh);
        int32_t sumi = 0;
        for (int j = 0; j < QK; j++) sumi += (nib(w[b].qs, j) | (int)((qh >> j) & 1u) << 4) * x[b].qs[j];
        s += (float)sumi * (h2f(w[b].d) * h2f(x[b].d)) + h2f(w[b].m) * h2f(x[b].s);
    }
    return s;
}

// Q4_K/Q5_K sub-block j (0..7): 6-bit scale and min packed in 12 bytes (ggml's get_scale_min_k4).
void k4_scale_min(const uint8_t* q, int j, int* sc, int* m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Q4_K/Q5_K: x = d sc_j q - dmin m_j for element q of sub-block j (32 elements). Element 64 g + l
// (l < 32) is the low nibble of qs[32 g + l] (sub-block 2g), element 64 g + 32 + l its high nibble
// (sub-block 2g + 1); Q5_K adds 16 where bit 2g (2g + 1) of qh[l] is set. The min term uses the
// activation's per-16 sums: sum over sub-block j of xq = bsums[2j] + bsums[2j + 1].
template <bool FIVE> float dot_qk45(int64_t nb, const void* wv, const void* xv) {
    const block_q8_K* x = static_cast<const block_q8_K*>(xv);
    const unsigned char* wp = static_cast<const unsigned char*>(wv);
    const int64_t bb = FIVE ? (int64_t)sizeof(block_q5_K) : (int64_t)sizeof(block_q4_K);
    float s = 0;
    for (int64_t b = 0; b < nb; b++) {
        // the two layouts share d, dmin, scales; Q5_K puts qh before qs
        const block_q4_K* w4 = reinterpret_cast<const block_q4_K*>(wp + b * bb);
        const block_q5_K* w5 = reinterpret_cast<const block_q5_K*>(wp + b * bb);
        const uint8_t* scales = FIVE ? w5->scales : w4->scales;
        const uint8_t* qs = FIVE ? w5->qs : w4->qs;
        int32_t sumi = 0, summ = 0;
        for (int j = 0; j < 8; j++) {
            int sc, m;
            k4_scale_min(scales, j, &sc, &m);
            const int g = j / 2, hi = j % 2;
            int32_t si = 0;
            for (int l = 0; l < 32; l++) {
                int q = hi ? (qs[32 * g + l] >> 4) : (qs[32 * g + l] & 0xF);
                if (FIVE) q |= ((w5->qh[l] >> j) & 1) << 4;
                si += q * x[b].qs[32 * j + l];
            }
            sumi += sc * si;
            summ += m * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
        }
        const float dw = h2f(FIVE ? w5->d : w4->d), mw = h2f(FIVE ? w5->dmin : w4->dmin);
        s += x[b].d * (dw * (float)sumi - mw * (float)summ);
    }
    return s;
}

// Q6_K: 16 sub-blocks of 16 with int8 scales, x = d sc (q - 32). In each half h (128 elements),
// element 128 h + 32 r + l (r < 4, l < 32) takes ql[64 h + l + 32 (r & 1)] (low nibble for r < 2,
// high for r >= 2) and bits 2r..2r+1 of qh[32 h + l].
float dot_q6_K(int64_t nb, const void* wv, const void* xv) {
    const block_q6_K* w = static_cast<const block_q6_K*>(wv);
    const block_q8_K* x = static_cast<const block_q8_K*>(xv);
    float s = 0;
    for (int64_t b = 0; b < nb; b++) {
        int32_t sumi = 0;
        for (int e0 = 0; e0 < QK_K; e0 += 16) {
            int32_t si = 0;
            for (int e = e0; e < e0 + 16; e++) {
                const int h = e / 128, r = (e % 128) / 32, l = e % 32;
                const uint8_t qlb = w[b].ql[64 * h + l + 32 * (r & 1)];
                const int lo = r < 2 ? (qlb & 0xF) : (qlb >> 4);
                const int q = (lo | (((w[b].qh[32 * h + l] >> (2 * r)) & 3) << 4)) - 32;
                si += q * x[b].qs[e];
            }
            sumi += w[b].scales[e0 / 16] * si;
        }
        s += x[b].d * h2f(w[b].d) * (float)sumi;
    }
    return s;
}

inline float load_bias(const LinearArgs* a, int64_t n) {
    float f;
    type_traits(a->bdtype)->to_f32(static_cast<const char*>(a->bias) + n * kBlockBytes[a->bdtype], &f, 1);
    return f;
}

// Y[m, n] = dot(W[n], XQ[m]) + bias[n], one pair at a time.
template <float (*DOT)(int64_t, const void*, const void*)>
void linear_q(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float*) {
    const int64_t nb = a->K / kBlockElems[a->wdtype];
    const int64_t rb = row_bytes(a->wdtype, a->K);
    for (int64_t n = n0; n < n1; n++) {
        const void* w = static_cast<const char*>(a->w) + n * rb;
        const float bias = a->bias ? load_bias(a, n) : 0.0f;
        for (int64_t m = m0; m < m1; m++)
            a->y[m * a->ldy + n] = DOT(nb, w, static_cast<const char*>(a->xq) + m * a->ldxq) + bias;
    }
}

} // namespace

namespace {
void quantize_q8_0_sums(const float* x, void* y, int64_t n, float* scale, int32_t* sum, int64_t ld) {
    type_traits(PANOPT_DTYPE_Q8_0)->from_f32(x, y, n);
    const block_q8_0* b = static_cast<const block_q8_0*>(y);
    for (int64_t i = 0; i < n / QK; i++) {
        int32_t s = 0;
        for (int j = 0; j < QK; j++) s += b[i].qs[j];
        sum[i * ld] = s;
        scale[i * ld] = h2f(b[i].d);
    }
}
} // namespace

void quant_kernels_scalar(TypeKernels* type) {
    type[PANOPT_DTYPE_Q8_0].quantize_row_sums = quantize_q8_0_sums;
    type[PANOPT_DTYPE_Q8_0].linear_range = linear_q<dot_q8_0>;
    type[PANOPT_DTYPE_Q4_0].linear_range = linear_q<dot_q4_0>;
    type[PANOPT_DTYPE_Q5_0].linear_range = linear_q<dot_q5_0>;
    type[PANOPT_DTYPE_Q4_1].linear_range = linear_q<dot_q4_1>;
    type[PANOPT_DTYPE_Q5_1].linear_range = linear_q<dot_q5_1>;
    type[PANOPT_DTYPE_Q4_K].linear_range = linear_q<dot_qk45<false>>;
    type[PANOPT_DTYPE_Q5_K].linear_range = linear_q<dot_qk45<true>>;
    type[PANOPT_DTYPE_Q6_K].linear_range = linear_q<dot_q6_K>;
}

} // namespace panopt
