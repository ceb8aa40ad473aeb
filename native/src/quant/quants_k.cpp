// quants_k.cpp — reference (de)quantizers of ggml's K-quants Q4_K, Q5_K, Q6_K and of Q8_K, their
// activation format: the bytes of ggml's quantize_row_*_ref, the floats of dequantize_row_*
// (quants.h). A super-block of 256 is quantized on its own.
//
// Q4_K / Q5_K: each sub-block of 32 gets an affine fit x ≈ scale * q - min (make_qkx2 searches the
// scale around the min-max span, minimising the squared error weighted by |x| plus the sub-block's rms);
// the 8 scales and mins are then quantized to 6 bits against the super-block's largest (fp16 d, dmin)
// and every element is re-quantized against its sub-block's rounded scale and min.
// Q6_K: each sub-block of 16 gets a symmetric fit (make_qx: scale search weighted by x^2), the 16
// scales become int8 against the largest one, and the elements are re-quantized to 6 bits.
// Rounding is ggml's nearest_int (ties to even), never roundf.
#include <algorithm>
#include <cmath>

#include "blocks.h"
#include "ggml_math.h"
#include "quants.h"

namespace panopt {
namespace quant {

namespace {

constexpr float kGroupMaxEps = 1e-15f; // ggml's GROUP_MAX_EPS: a group below it is all zero

// ggml's make_qkx2_quants (squared error): levels L[i] in [0, nmax] and scale, min (returned as
// *neg_min = -min >= 0) minimising sum w (scale * L + min - x)^2, min <= 0. Tries the min-max fit,
// then nstep + 1 scales (rmin + rdelta * is + nmax) / (max - min) with least-squares scale and min.
float make_qkx2(int n, int nmax, const float* x, const float* w, uint8_t* L, float* neg_min, uint8_t* Laux,
                float rmin, float rdelta, int nstep) {
    float min = x[0], max = x[0];
    float sum_w = w[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; i++) L[i] = 0;
        *neg_min = -min;
        return 0.f;
    }
    float iscale = (float)nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; i++) {
        const int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)std::max(0, std::min(nmax, l));
        float diff = scale * (float)L[i] + min - x[i];
        diff = diff * diff;
        best_error += w[i] * diff;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * (float)is + (float)nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = nearest_int(iscale * (x[i] - min));
            l = std::max(0, std::min(nmax, l));
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * (float)l;
            sum_l2 += w[i] * (float)l * (float)l;
            sum_xl += w[i] * (float)l * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * (float)Laux[i] + this_min - x[i];
                diff = diff * diff;
                cur_error += w[i] * diff;
            }
            if (cur_error < best_error) {
                for (int i = 0; i < n; i++) L[i] = Laux[i];
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *neg_min = -min;
    return scale;
}

// ggml's make_qx_quants with rmse_type 1 and no importance weights: symmetric levels L[i] = l + nmax,
// l in [-nmax, nmax - 1], weights x^2; tries -(nmax + 0.1 is) / max for is in -9..9 and keeps the
// least-squares scale that explains most of sum w x^2.
float make_qx(int n, int nmax, const float* x, int8_t* L) {
    const float max = signed_absmax(x, n);
    if (std::fabs(max) < kGroupMaxEps) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.f;
    }
    float iscale = (float)-nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = nearest_int(iscale * x[i]);
        l = std::max(-nmax, std::min(nmax - 1, l));
        L[i] = (int8_t)(l + nmax);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -((float)nmax + 0.1f * (float)is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = nearest_int(iscale * x[i]);
            l = std::max(-nmax, std::min(nmax - 1, l));
            const float w = x[i] * x[i];
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++) {
                const int l = nearest_int(iscale * x[i]);
                L[i] = (int8_t)(nmax + std::max(-nmax, std::min(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

// The reference searches, one sub-block after another.
void affine8_reference(const float* x, const float* w, int nmax, float rmin, float rdelta, int nstep, uint8_t* L,
                       float* scale, float* neg_min) {
    uint8_t Laux[32];
    for (int j = 0; j < 8; j++)
        scale[j] = make_qkx2(32, nmax, x + 32 * j, w + 32 * j, L + 32 * j, &neg_min[j], Laux, rmin, rdelta, nstep);
}
void symmetric8_reference(const float* x, int8_t* L, float* scale) {
    for (int j = 0; j < 8; j++) scale[j] = make_qx(16, 32, x + 16 * j, L + 16 * j);
}

// The common part of Q4_K and Q5_K: fits the 8 sub-blocks of one super-block, writes d, dmin and
// scales, and leaves each element's level (0..nmax) in L.
template <class B>
void quantize_k_affine(const KSearch& search, const float* x, B& b, uint8_t L[QK_K], int nmax, float rmin, float rdelta,
                       int nstep) {
    float weights[QK_K];
    float mins[QK_K / 32];
    float scales[QK_K / 32];
    for (int j = 0; j < QK_K / 32; j++) {
        const float* xs = x + 32 * j;
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += xs[l] * xs[l];
        const float av_x = std::sqrt(sum_x2 / 32);
        for (int l = 0; l < 32; l++) weights[32 * j + l] = av_x + std::fabs(xs[l]);
    }
    search.affine8(x, weights, nmax, rmin, rdelta, nstep, L, scales, mins);
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < QK_K / 32; j++) {
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < QK_K / 32; j++) {
        const uint8_t ls = std::min<uint8_t>(63, (uint8_t)nearest_int(inv_scale * scales[j]));
        const uint8_t lm = std::min<uint8_t>(63, (uint8_t)nearest_int(inv_min * mins[j]));
        put_scale_min_k4(j, b.scales, ls, lm);
    }
    b.d = to_fp16(max_scale / 63.f);
    b.dmin = to_fp16(max_min / 63.f);
    for (int j = 0; j < QK_K / 32; j++) {
        uint8_t sc, m;
        get_scale_min_k4(j, b.scales, sc, m);
        const float d = from_fp16(b.d) * (float)sc;
        if (d == 0.0f) continue; // keeps make_qkx2's levels, as ggml
        const float dm = from_fp16(b.dmin) * (float)m;
        for (int ii = 0; ii < 32; ii++) {
            const int l = nearest_int((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = (uint8_t)std::max(0, std::min(nmax, l));
        }
    }
}

// Q4_K / Q5_K: element 64g + 32 half + l = d * sc * level - dmin * m, with sc, m those of sub-block
// 2g + half and level(b, g, l, half) the format's.
template <class B, class Level> void dequantize_k_affine(const void* x, float* y, int64_t n, Level level) {
    for (int64_t i = 0; i < n / QK_K; i++) {
        const B b = load_block<B>(x, i);
        const float d = from_fp16(b.d), min = from_fp16(b.dmin);
        for (int g = 0; g < QK_K / 64; g++) {
            for (int half = 0; half < 2; half++) {
                uint8_t sc, m;
                get_scale_min_k4(2 * g + half, b.scales, sc, m);
                const float dl = d * (float)sc, ml = min * (float)m;
                for (int l = 0; l < 32; l++) *y++ = dl * (float)level(b, g, l, half) - ml;
            }
        }
    }
}

} // namespace

const KSearch& ksearch_reference() {
    static const KSearch s{affine8_reference, symmetric8_reference};
    return s;
}

void quantize_q4_K(const float* x, void* y, int64_t n) { quantize_q4_K_with(ksearch_reference(), x, y, n); }
void quantize_q5_K(const float* x, void* y, int64_t n) { quantize_q5_K_with(ksearch_reference(), x, y, n); }
void quantize_q6_K(const float* x, void* y, int64_t n) { quantize_q6_K_with(ksearch_reference(), x, y, n); }

void quantize_q4_K_with(const KSearch& search, const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        block_q4_K b;
        uint8_t L[QK_K];
        quantize_k_affine(search, x, b, L, 15, -1.f, 0.1f, 20);
        put_codes_k45(L, b.qs, nullptr);
        store_block(y, i, b);
    }
}

void quantize_q5_K_with(const KSearch& search, const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        block_q5_K b;
        uint8_t L[QK_K];
        quantize_k_affine(search, x, b, L, 31, -0.5f, 0.1f, 15);
        put_codes_k45(L, b.qs, b.qh);
        store_block(y, i, b);
    }
}

void quantize_q6_K_with(const KSearch& search, const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        block_q6_K b;
        int8_t L[QK_K];
        float scales[QK_K / 16];
        float max_scale = 0, max_abs_scale = 0;
        search.symmetric8(x, L, scales);
        search.symmetric8(x + QK_K / 2, L + QK_K / 2, scales + 8);
        for (int ib = 0; ib < QK_K / 16; ib++) {
            const float abs_scale = std::fabs(scales[ib]);
            if (abs_scale > max_abs_scale) {
                max_abs_scale = abs_scale;
                max_scale = scales[ib];
            }
        }
        if (max_abs_scale < kGroupMaxEps) { // all (near) zero: an all-zero block
            std::memset(&b, 0, sizeof b);
            b.d = to_fp16(0.f);
            store_block(y, i, b);
            continue;
        }
        const float iscale = -128.f / max_scale;
        b.d = to_fp16(1 / iscale);
        for (int ib = 0; ib < QK_K / 16; ib++) b.scales[ib] = (int8_t)std::min(127, nearest_int(iscale * scales[ib]));
        for (int j = 0; j < QK_K / 16; j++) {
            const float d = from_fp16(b.d) * (float)b.scales[j];
            if (d == 0.0f) continue; // keeps make_qx's levels, as ggml
            for (int ii = 0; ii < 16; ii++) {
                const int l = nearest_int(x[16 * j + ii] / d);
                L[16 * j + ii] = (int8_t)(std::max(-32, std::min(31, l)) + 32);
            }
        }
        put_codes_q6_K(reinterpret_cast<const uint8_t*>(L), b.ql, b.qh); // levels 0..63 by now
        store_block(y, i, b);
    }
}

void quantize_q8_K(const float* x, void* y, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        block_q8_K b;
        const float max = signed_absmax(x, QK_K);
        if (max == 0.0f) {
            // ggml writes d and qs only; the block sums of zeros are zero.
            std::memset(&b, 0, sizeof b);
            store_block(y, i, b);
            continue;
        }
        const float iscale = -127.f / max; // -127, not -128: ggml's choice (its IQ2_XXS kernels need it)
        for (int j = 0; j < QK_K; j++) b.qs[j] = (int8_t)std::min(127, nearest_int(iscale * x[j]));
        for (int j = 0; j < QK_K / 16; j++) {
            int sum = 0;
            for (int ii = 0; ii < 16; ii++) sum += b.qs[16 * j + ii];
            b.bsums[j] = (int16_t)sum;
        }
        b.d = 1 / iscale;
        store_block(y, i, b);
    }
}

void dequantize_q4_K(const void* x, float* y, int64_t n) {
    dequantize_k_affine<block_q4_K>(x, y, n, [](const block_q4_K& b, int g, int l, int half) {
        return half ? b.qs[32 * g + l] >> 4 : b.qs[32 * g + l] & 0xf;
    });
}

void dequantize_q5_K(const void* x, float* y, int64_t n) {
    dequantize_k_affine<block_q5_K>(x, y, n, [](const block_q5_K& b, int g, int l, int half) {
        const int low = half ? b.qs[32 * g + l] >> 4 : b.qs[32 * g + l] & 0xf;
        return low | (b.qh[l] >> (2 * g + half) & 1) << 4;
    });
}

void dequantize_q6_K(const void* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++) {
        const block_q6_K b = load_block<block_q6_K>(x, i);
        const float d = from_fp16(b.d);
        for (int h = 0; h < QK_K / 128; h++, y += 128) {
            const uint8_t* ql = b.ql + 64 * h;
            const uint8_t* qh = b.qh + 32 * h;
            const int8_t* sc = b.scales + 8 * h;
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xf) | (qh[l] >> 0 & 3) << 4) - 32;
                const int q2 = ((ql[l + 32] & 0xf) | (qh[l] >> 2 & 3) << 4) - 32;
                const int q3 = ((ql[l] >> 4) | (qh[l] >> 4 & 3) << 4) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (qh[l] >> 6 & 3) << 4) - 32;
                y[l] = d * (float)sc[is] * (float)q1;
                y[l + 32] = d * (float)sc[is + 2] * (float)q2;
                y[l + 64] = d * (float)sc[is + 4] * (float)q3;
                y[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
        }
    }
}

void dequantize_q8_K(const void* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n / QK_K; i++, y += QK_K) {
        const block_q8_K b = load_block<block_q8_K>(x, i);
        for (int j = 0; j < QK_K; j++) y[j] = b.d * (float)b.qs[j];
    }
}

void put_codes_k45(const uint8_t* L, uint8_t* qs, uint8_t* qh) {
    if (qh) std::memset(qh, 0, QK_K / 8);
    for (int g = 0; g < QK_K / 64; g++)
        for (int l = 0; l < 32; l++) {
            const int lo = L[64 * g + l], hi = L[64 * g + l + 32];
            qs[32 * g + l] = (uint8_t)((lo & 0xf) | (hi & 0xf) << 4);
            if (qh) qh[l] |= (uint8_t)((lo >> 4) << (2 * g) | (hi >> 4) << (2 * g + 1));
        }
}

void get_codes_k45(const uint8_t* qs, const uint8_t* qh, uint8_t* L) {
    for (int g = 0; g < QK_K / 64; g++)
        for (int l = 0; l < 32; l++)
            for (int h = 0; h < 2; h++)
                L[64 * g + 32 * h + l] = (uint8_t)((h ? qs[32 * g + l] >> 4 : qs[32 * g + l] & 0xf) |
                                                   (qh ? (qh[l] >> (2 * g + h) & 1) << 4 : 0));
}

void put_codes_q6_K(const uint8_t* L, uint8_t* ql, uint8_t* qh) {
    for (int h = 0; h < QK_K / 128; h++, L += 128, ql += 64, qh += 32)
        for (int l = 0; l < 32; l++) {
            ql[l] = (uint8_t)((L[l] & 0xf) | (L[l + 64] & 0xf) << 4);
            ql[l + 32] = (uint8_t)((L[l + 32] & 0xf) | (L[l + 96] & 0xf) << 4);
            qh[l] = (uint8_t)((L[l] >> 4) | (L[l + 32] >> 4) << 2 | (L[l + 64] >> 4) << 4 | (L[l + 96] >> 4) << 6);
        }
}

void get_codes_q6_K(const uint8_t* ql, const uint8_t* qh, uint8_t* L) {
    for (int h = 0; h < QK_K / 128; h++, L += 128, ql += 64, qh += 32)
        for (int l = 0; l < 32; l++)
            for (int k = 0; k < 4; k++) {
                const uint8_t lo = ql[l + 32 * (k & 1)];
                L[l + 32 * k] = (uint8_t)(((k >> 1) ? lo >> 4 : lo & 0xf) | ((qh[l] >> (2 * k)) & 3) << 4);
            }
}

// Q4_K/Q5_K scales[12]: 6-bit scale and min of sub-block j. j < 4: low 6 bits of bytes j and j + 4;
// j >= 4: low / high nibble of byte j + 4, top two bits in the top bits of bytes j - 4 and j.
void get_scale_min_k4(int j, const uint8_t* q, uint8_t& sc, uint8_t& m) {
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = (uint8_t)((q[j + 4] & 0xf) | (q[j - 4] >> 6) << 4);
        m = (uint8_t)((q[j + 4] >> 4) | (q[j] >> 6) << 4);
    }
}

void put_scale_min_k4(int j, uint8_t* q, uint8_t sc, uint8_t m) {
    if (j < 4) {
        q[j] = sc;
        q[j + 4] = m;
    } else {
        q[j + 4] = (uint8_t)((sc & 0xf) | (m & 0xf) << 4);
        q[j - 4] |= (uint8_t)((sc >> 4) << 6);
        q[j] |= (uint8_t)((m >> 4) << 6);
    }
}

} // namespace quant
} // namespace panopt
