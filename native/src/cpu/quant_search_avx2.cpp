// quant_search_avx2.cpp — the K-quant quantizers' sub-block searches (quant/quants.h KSearch) with
// AVX2, one sub-block per lane (compiled with -mavx2 -ffp-contract=off and no -mfma; internal
// linkage only, see kernels.h).
//
//   ggml's make_qkx2_quants (Q4_K, Q5_K) and make_qx_quants (Q6_K) are loops over one sub-block's
//   elements with data-dependent choices, 16-21 trial scales each: nearly all of a K-quant
//   quantizer's time. The 8 sub-blocks of a call are independent, so lane j runs sub-block j's
//   loop: the same IEEE operations in the same order as the scalar reference (a product rounded,
//   then the sum: never fused), its ifs as per-lane compares and blends. So every lane's levels,
//   scale and min equal the reference's bit for bit and quantize_*_with(these) gives ggml's bytes
//   (test_quant_kernels compares them with the reference's on random and special inputs).
#include "kernels.h"

#include <immintrin.h>

#include "../quant/quants.h"

namespace panopt {
namespace {

// ggml's nearest_int (quant/ggml_math.h) in every lane: the low mantissa bits of v + 1.5 * 2^23.
inline __m256i nearest8(__m256 v) {
    const __m256i i = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.f)));
    return _mm256_sub_epi32(_mm256_and_si256(i, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x00400000));
}
// max(lo, min(hi, l)), as the reference clamps.
inline __m256i clamp8(__m256i l, int lo, int hi) {
    return _mm256_max_epi32(_mm256_set1_epi32(lo), _mm256_min_epi32(_mm256_set1_epi32(hi), l));
}
inline __m256 blend(__m256 a, __m256 b, __m256 take_b) { return _mm256_blendv_ps(a, b, take_b); }
inline __m256i blendi(__m256i a, __m256i b, __m256 take_b) {
    return _mm256_blendv_epi8(a, b, _mm256_castps_si256(take_b));
}
inline __m256 gt(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); } // a > b (false with NaN)
inline __m256 f32(__m256i l) { return _mm256_cvtepi32_ps(l); }
inline __m256 fabs8(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// Lane j's level i as a byte of out[stride * j + i].
template <class T> inline void store_levels(const __m256i* Lv, int n, int stride, T* out) {
    alignas(32) int32_t t[8];
    for (int i = 0; i < n; i++) {
        _mm256_store_si256((__m256i*)t, Lv[i]);
        for (int j = 0; j < 8; j++) out[stride * j + i] = (T)t[j];
    }
}

// make_qkx2_quants(32, nmax, ...) of sub-block j in lane j (quants_k.cpp's make_qkx2, line for line).
void affine8(const float* x, const float* w, int nmax, float rmin, float rdelta, int nstep, uint8_t* L, float* scale_out,
             float* neg_min_out) {
    const __m256i idx = _mm256_setr_epi32(0, 32, 64, 96, 128, 160, 192, 224);
    const __m256 zero = _mm256_setzero_ps();
    __m256 xv[32], wv[32];
    for (int i = 0; i < 32; i++) {
        xv[i] = _mm256_i32gather_ps(x + i, idx, 4);
        wv[i] = _mm256_i32gather_ps(w + i, idx, 4);
    }
    __m256 mn = xv[0], mx = xv[0], sum_w = wv[0], sum_x = _mm256_mul_ps(wv[0], xv[0]);
    for (int i = 1; i < 32; i++) {
        mn = _mm256_min_ps(xv[i], mn); // x < min ? x : min
        mx = _mm256_max_ps(xv[i], mx); // x > max ? x : max
        sum_w = _mm256_add_ps(sum_w, wv[i]);
        sum_x = _mm256_add_ps(sum_x, _mm256_mul_ps(wv[i], xv[i]));
    }
    mn = blend(mn, zero, gt(mn, zero));                       // if (min > 0) min = 0
    const __m256 flat = _mm256_cmp_ps(mx, mn, _CMP_EQ_OQ);    // max == min: levels 0, scale 0
    const __m256 flat_neg_min = _mm256_xor_ps(mn, _mm256_set1_ps(-0.0f));
    __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)nmax), _mm256_sub_ps(mx, mn));
    __m256 scale = _mm256_div_ps(_mm256_set1_ps(1.0f), iscale);
    __m256i Lv[32], La[32];
    __m256 best = zero;
    for (int i = 0; i < 32; i++) {
        Lv[i] = clamp8(nearest8(_mm256_mul_ps(iscale, _mm256_sub_ps(xv[i], mn))), 0, nmax);
        __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(scale, f32(Lv[i])), mn), xv[i]);
        diff = _mm256_mul_ps(diff, diff);
        best = _mm256_add_ps(best, _mm256_mul_ps(wv[i], diff));
    }
    for (int is = 0; is <= nstep; is++) {
        const float num = rmin + rdelta * (float)is + (float)nmax;
        iscale = _mm256_div_ps(_mm256_set1_ps(num), _mm256_sub_ps(mx, mn)); // min: the best so far
        __m256 sl = zero, sl2 = zero, sxl = zero;
        for (int i = 0; i < 32; i++) {
            La[i] = clamp8(nearest8(_mm256_mul_ps(iscale, _mm256_sub_ps(xv[i], mn))), 0, nmax);
            const __m256 lf = f32(La[i]), wl = _mm256_mul_ps(wv[i], lf);
            sl = _mm256_add_ps(sl, wl);
            sl2 = _mm256_add_ps(sl2, _mm256_mul_ps(wl, lf));
            sxl = _mm256_add_ps(sxl, _mm256_mul_ps(wl, xv[i]));
        }
        const __m256 D = _mm256_sub_ps(_mm256_mul_ps(sum_w, sl2), _mm256_mul_ps(sl, sl));
        __m256 ts = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sum_w, sxl), _mm256_mul_ps(sum_x, sl)), D);
        __m256 tm = _mm256_div_ps(_mm256_sub_ps(_mm256_mul_ps(sl2, sum_x), _mm256_mul_ps(sl, sxl)), D);
        const __m256 pos = gt(tm, zero); // this_min > 0: min 0 and the scale alone
        tm = blend(tm, zero, pos);
        ts = blend(ts, _mm256_div_ps(sxl, sl2), pos);
        __m256 cur = zero;
        for (int i = 0; i < 32; i++) {
            __m256 diff = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(ts, f32(La[i])), tm), xv[i]);
            diff = _mm256_mul_ps(diff, diff);
            cur = _mm256_add_ps(cur, _mm256_mul_ps(wv[i], diff));
        }
        const __m256 take = _mm256_and_ps(gt(D, zero), _mm256_cmp_ps(cur, best, _CMP_LT_OQ));
        for (int i = 0; i < 32; i++) Lv[i] = blendi(Lv[i], La[i], take);
        best = blend(best, cur, take);
        scale = blend(scale, ts, take);
        mn = blend(mn, tm, take);
    }
    for (int i = 0; i < 32; i++) Lv[i] = blendi(Lv[i], _mm256_setzero_si256(), flat);
    _mm256_storeu_ps(scale_out, blend(scale, zero, flat));
    _mm256_storeu_ps(neg_min_out, blend(_mm256_xor_ps(mn, _mm256_set1_ps(-0.0f)), flat_neg_min, flat));
    store_levels(Lv, 32, 32, L);
}

// make_qx_quants(16, 32, ...) of sub-block j in lane j (quants_k.cpp's make_qx, line for line).
void symmetric8(const float* x, int8_t* L, float* scale_out) {
    constexpr int nmax = 32;
    const __m256i idx = _mm256_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112);
    const __m256 zero = _mm256_setzero_ps();
    __m256 xv[16];
    for (int i = 0; i < 16; i++) xv[i] = _mm256_i32gather_ps(x + i, idx, 4);
    __m256 amax = zero, mx = zero; // signed_absmax: the first element of largest magnitude
    for (int i = 0; i < 16; i++) {
        const __m256 a = fabs8(xv[i]), bigger = gt(a, amax);
        amax = blend(amax, a, bigger);
        mx = blend(mx, xv[i], bigger);
    }
    const __m256 tiny = _mm256_cmp_ps(fabs8(mx), _mm256_set1_ps(1e-15f), _CMP_LT_OQ); // GROUP_MAX_EPS: all zero
    // the sums of one trial scale: levels l in [-nmax, nmax - 1], weights x^2
    __m256i La[16];
    auto trial = [&](__m256 iscale, __m256& sumlx, __m256& suml2) {
        sumlx = suml2 = zero;
        for (int i = 0; i < 16; i++) {
            const __m256i l = clamp8(nearest8(_mm256_mul_ps(iscale, xv[i])), -nmax, nmax - 1);
            La[i] = _mm256_add_epi32(l, _mm256_set1_epi32(nmax));
            const __m256 lf = f32(l), wx = _mm256_mul_ps(xv[i], xv[i]);
            sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(wx, xv[i]), lf));
            suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(wx, lf), lf));
        }
    };
    __m256 sumlx, suml2;
    trial(_mm256_div_ps(_mm256_set1_ps((float)-nmax), mx), sumlx, suml2);
    __m256i Lv[16];
    for (int i = 0; i < 16; i++) Lv[i] = La[i];
    __m256 scale = blend(zero, _mm256_div_ps(sumlx, suml2), _mm256_cmp_ps(suml2, zero, _CMP_NEQ_UQ));
    __m256 best = _mm256_mul_ps(scale, sumlx);
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        const float num = -((float)nmax + 0.1f * (float)is);
        trial(_mm256_div_ps(_mm256_set1_ps(num), mx), sumlx, suml2);
        const __m256 take = _mm256_and_ps(gt(suml2, zero), gt(_mm256_mul_ps(sumlx, sumlx), _mm256_mul_ps(best, suml2)));
        for (int i = 0; i < 16; i++) Lv[i] = blendi(Lv[i], La[i], take);
        const __m256 s = _mm256_div_ps(sumlx, suml2);
        scale = blend(scale, s, take);
        best = blend(best, _mm256_mul_ps(s, sumlx), take);
    }
    for (int i = 0; i < 16; i++) Lv[i] = blendi(Lv[i], _mm256_setzero_si256(), tiny);
    _mm256_storeu_ps(scale_out, blend(scale, zero, tiny));
    store_levels(Lv, 16, 16, L);
}

const quant::KSearch kSearch{affine8, symmetric8};

void quantize_q4_K(const float* x, void* y, int64_t n) { quant::quantize_q4_K_with(kSearch, x, y, n); }
void quantize_q5_K(const float* x, void* y, int64_t n) { quant::quantize_q5_K_with(kSearch, x, y, n); }
void quantize_q6_K(const float* x, void* y, int64_t n) { quant::quantize_q6_K_with(kSearch, x, y, n); }

} // namespace

void quant_search_avx2(TypeKernels* type) {
    type[PANOPT_DTYPE_Q4_K].quantize_weights = quantize_q4_K;
    type[PANOPT_DTYPE_Q5_K].quantize_weights = quantize_q5_K;
    type[PANOPT_DTYPE_Q6_K].quantize_weights = quantize_q6_K;
}

} // namespace panopt
