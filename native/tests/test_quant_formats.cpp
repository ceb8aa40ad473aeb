// The reference (de)quantizers of ggml's block formats (src/quant/, reached through the type table):
// round-trip error within a bound derived from each format's step, rounding of ties, fixed points,
// NaN/inf behaviour, independence of blocks, any alignment. That the bytes are ggml's own is proven
// in Java against ggml's code (java-api QuantizerGgmlTest); these tests pin the properties.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "dtype.h"
#include "panopt.h"
#include "quant/blocks.h"
#include "test_util.h"

using namespace panopt;

namespace {

std::mt19937 qrng(20240601);

const int kFormats[] = {PANOPT_DTYPE_Q8_0, PANOPT_DTYPE_Q4_0, PANOPT_DTYPE_Q4_1, PANOPT_DTYPE_Q5_0, PANOPT_DTYPE_Q5_1,
                        PANOPT_DTYPE_Q8_1, PANOPT_DTYPE_Q4_K, PANOPT_DTYPE_Q5_K, PANOPT_DTYPE_Q6_K, PANOPT_DTYPE_Q8_K};

const char* name(int dt) { return type_traits(dt)->name; }
bool is_k(int dt) { return kBlockElems[dt] == QK_K; }

std::vector<uint8_t> quantize(int dt, const std::vector<float>& x) {
    std::vector<uint8_t> q((size_t)row_bytes(dt, (int64_t)x.size()));
    type_traits(dt)->from_f32(x.data(), q.data(), (int64_t)x.size());
    return q;
}
std::vector<float> dequantize(int dt, const std::vector<uint8_t>& q) {
    std::vector<float> y(q.size() / (size_t)kBlockBytes[dt] * (size_t)kBlockElems[dt]);
    type_traits(dt)->to_f32(q.data(), y.data(), (int64_t)y.size());
    return y;
}
template <class B> B block_at(const std::vector<uint8_t>& q, size_t i) {
    B b;
    std::memcpy(&b, q.data() + i * sizeof(B), sizeof(B));
    return b;
}

// Rounding error of a value stored as fp16: half its spacing, 2^-11 relative for normal values and
// 2^-25 absolute for subnormal ones (|v| <= 65504 here).
double h16(double v) { return std::max(std::fabs(v) * 0x1p-11, 0x1p-25); }

// Row contents the tests draw from (never all zero, except ALL_ZERO): finite, within fp16's range so
// scales and mins stay representable.
enum Kind { GAUSS_OUTLIERS, POSITIVE, NEGATIVE, TINY, LARGE, EQUAL, SPARSE, ALL_ZERO, KIND_COUNT };

void fill(std::vector<float>& x, Kind kind) {
    std::normal_distribution<float> g;
    std::uniform_real_distribution<float> u(0.1f, 2.0f), p(0, 1);
    const float c = g(qrng) + 0.5f;
    for (auto& v : x) {
        switch (kind) {
        case GAUSS_OUTLIERS: v = g(qrng) * (p(qrng) < 0.02f ? 25.0f : 1.0f); break;
        case POSITIVE: v = u(qrng); break;
        case NEGATIVE: v = -u(qrng); break;
        case TINY: v = g(qrng) * 1e-6f; break; // scales are fp16 subnormals or zero
        case LARGE: v = g(qrng) * 300.0f * (p(qrng) < 0.02f ? 20.0f : 1.0f); break;
        case EQUAL: v = c; break;
        case SPARSE: v = p(qrng) < 0.7f ? 0.0f : g(qrng); break;
        default: v = 0.0f;
        }
    }
    if (kind == SPARSE) x[x.size() / 2] = 1.0f;
}

// ---- per-element bounds, derived from each format's step ----
//
// 32-element formats and Q8_K, from the block's input x (amax = max |x|), with d the unrounded scale,
// h16(d) the error of storing it as fp16, and slack = 2^-16 * (largest |x|) for the float roundings of
// x * (1/d) and q * d (a few ulps, far below any step):
//   Q8_0, Q8_1  d = amax/127, q = roundf(x/d) in [-127, 127]: |x - x'| <= d/2 + 127 h16(d)
//   Q4_0        d = max/-8 (max: the element of largest magnitude, with its sign), q = min(15,
//               floor(x/d + 8.5)) - 8 in [-8, 7]: x/d lies in [-8, 8], the element -max (x/d = 8) is
//               clamped to 7, so |x - x'| <= |d| + 8 h16(d)
//   Q5_0        the same with 16 levels a side: |x - x'| <= |d| + 16 h16(d), d = amax/16
//   Q4_1        d = (max - min)/15, m = min, q = floor((x - m)/d + 0.5) in [0, 15]:
//               |x - x'| <= d/2 + 15 h16(d) + h16(min)
//   Q5_1        the same with d = (max - min)/31: d/2 + 31 h16(d) + h16(min)
//   Q8_K        d = amax/127 kept in f32, q = nearest(x/d): |x - x'| <= d/2
double simple_bound(int dt, const float* x, int n) {
    float amax = 0, mn = x[0], mx = x[0];
    for (int i = 0; i < n; i++) {
        amax = std::max(amax, std::fabs(x[i]));
        mn = std::min(mn, x[i]);
        mx = std::max(mx, x[i]);
    }
    const double slack = 0x1p-16 * amax;
    switch (dt) {
    case PANOPT_DTYPE_Q8_0:
    case PANOPT_DTYPE_Q8_1: return amax / 127.0 / 2 + 127 * h16(amax / 127.0) + slack;
    case PANOPT_DTYPE_Q4_0: return amax / 8.0 + 8 * h16(amax / 8.0) + slack;
    case PANOPT_DTYPE_Q5_0: return amax / 16.0 + 16 * h16(amax / 16.0) + slack;
    case PANOPT_DTYPE_Q4_1: return ((double)mx - mn) / 15 / 2 + 15 * h16(((double)mx - mn) / 15) + h16(mn) + slack;
    case PANOPT_DTYPE_Q5_1: return ((double)mx - mn) / 31 / 2 + 31 * h16(((double)mx - mn) / 31) + h16(mn) + slack;
    case PANOPT_DTYPE_Q8_K: return amax / 127.0 / 2 + slack;
    }
    return 0;
}

// K-quants: the super-block stores a grid per sub-block and every element must land on the grid
// point nearest to it. Grid of sub-block j (D = its step, from the stored fp16 d times the 6-bit or
// int8 sub-block scale):
//   Q4_K / Q5_K  x' = D * q - M, q in [0, nmax] (15 / 31), M = dmin * 6-bit min: covers [-M, nmax D - M]
//   Q6_K         x' = D * (q - 32), q in [0, 63]: covers [-32 D, 31 D] (D may be negative)
// Inside its cover an element is at most D/2 from its level; outside, its level is the nearer end
// (error = the distance to the cover). A sub-block whose scale rounded to 0 (D = 0) decodes to -M (Q6_K: 0).
// slack = 2^-18 * (|x| + the cover's extent), for the float roundings of (x + M)/D and D*q - M.
void check_grid(double x, double got, double D, double lo, double hi, double M, int dt, size_t i, int& bad) {
    if (D == 0) {
        if (got != -M && !bad++) std::printf("  %s element %zu: sub-block step 0, got %g, want %g\n", name(dt), i, got, -M);
        return;
    }
    const double excess = std::max({0.0, lo - x, x - hi});
    const double bound = std::max(std::fabs(D) / 2, excess) + 0x1p-18 * (std::fabs(x) + std::fabs(lo) + std::fabs(hi));
    if (std::fabs(x - got) > bound && !bad++)
        std::printf("  %s element %zu: x %.9g decoded %.9g, bound %.3g (step %.3g)\n", name(dt), i, x, got, bound, D);
}

void sc_min_k4(int j, const uint8_t* s, int& sc, int& m) { // the 6-bit layout of blocks.h
    if (j < 4) {
        sc = s[j] & 63;
        m = s[j + 4] & 63;
    } else {
        sc = (s[j + 4] & 0xf) | (s[j - 4] >> 6) << 4;
        m = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
    }
}

int check_k_grid(int dt, const std::vector<float>& x, const std::vector<uint8_t>& q, const std::vector<float>& y) {
    int bad = 0;
    for (size_t b = 0; b < x.size() / QK_K; b++) {
        const size_t o = b * QK_K;
        if (dt == PANOPT_DTYPE_Q6_K) {
            const block_q6_K blk = block_at<block_q6_K>(q, b);
            for (int j = 0; j < QK_K / 16; j++) {
                const double D = (double)f16_to_f32(blk.d) * blk.scales[j];
                for (int e = 16 * j; e < 16 * j + 16; e++)
                    check_grid(x[o + e], y[o + e], D, std::min(-32 * D, 31 * D), std::max(-32 * D, 31 * D), 0, dt, o + e, bad);
            }
        } else {
            // Q4_K and Q5_K begin alike: fp16 d, fp16 dmin, scales[12].
            static_assert(offsetof(block_q4_K, scales) == offsetof(block_q5_K, scales) &&
                              offsetof(block_q4_K, dmin) == offsetof(block_q5_K, dmin),
                          "Q4_K and Q5_K headers");
            const uint8_t* p = q.data() + b * (size_t)kBlockBytes[dt];
            uint16_t d16, dmin16;
            std::memcpy(&d16, p + offsetof(block_q4_K, d), 2);
            std::memcpy(&dmin16, p + offsetof(block_q4_K, dmin), 2);
            const uint8_t* scales = p + offsetof(block_q4_K, scales);
            const int nmax = dt == PANOPT_DTYPE_Q4_K ? 15 : 31;
            for (int j = 0; j < QK_K / 32; j++) {
                int sc, m;
                sc_min_k4(j, scales, sc, m);
                const double D = (double)f16_to_f32(d16) * sc, M = (double)f16_to_f32(dmin16) * m;
                for (int e = 32 * j; e < 32 * j + 32; e++)
                    check_grid(x[o + e], y[o + e], D, -M, nmax * D - M, M, dt, o + e, bad);
            }
        }
    }
    return bad;
}

// Random rows of every kind, odd row counts and lengths: each element within its format's bound.
void test_round_trip_bounds() {
    for (int dt : kFormats) {
        const int be = kBlockElems[dt];
        for (int kind = 0; kind < KIND_COUNT; kind++) {
            for (int rows : {1, 3, 5}) {
                for (int blocks : {1, 3, 7}) {
                    if (is_k(dt) && blocks == 7) continue; // keep the test fast: K rows of 256 and 768
                    std::vector<float> x((size_t)(blocks * be));
                    int bad = 0;
                    for (int r = 0; r < rows; r++) {
                        fill(x, (Kind)kind);
                        const std::vector<uint8_t> q = quantize(dt, x);
                        const std::vector<float> y = dequantize(dt, q);
                        if (is_k(dt) && dt != PANOPT_DTYPE_Q8_K) {
                            bad += check_k_grid(dt, x, q, y);
                            continue;
                        }
                        for (int b = 0; b < blocks; b++) {
                            const double bound = simple_bound(dt, &x[(size_t)(b * be)], be);
                            for (int e = b * be; e < (b + 1) * be; e++) {
                                if (std::fabs((double)x[e] - y[e]) > bound && !bad++)
                                    std::printf("  %s kind %d element %d: x %.9g decoded %.9g, bound %.3g\n", name(dt), kind, e,
                                                x[e], y[e], bound);
                            }
                        }
                        if (kind == ALL_ZERO) {
                            bool zero = true;
                            for (float v : y) zero = zero && v == 0.0f;
                            T_CHECK(zero, "%s: an all-zero row decodes to zeros", name(dt));
                        }
                    }
                    T_CHECK(bad == 0, "%s kind %d, %d rows of %d blocks: elements outside the bound", name(dt), kind, rows, blocks);
                }
            }
        }
    }
}

// The K-quants' fitted grids are good ones: relative rms error on gaussian data below what a uniform
// quantizer of the format's step gives with margin. A step D gives rms D/sqrt(12); a gaussian sub-block
// spans about 4.1 sigma (32 draws) or 3.5 sigma (16): Q4_K D ~ 4.1/15 -> 0.079, Q5_K 4.1/31 -> 0.038,
// Q6_K (symmetric, D ~ max|x|/32 ~ 2.0/32) -> 0.018 sigma. Bounds: 1.5x those.
void test_k_rms() {
    const std::pair<int, double> cases[] = {{PANOPT_DTYPE_Q4_K, 0.12}, {PANOPT_DTYPE_Q5_K, 0.057}, {PANOPT_DTYPE_Q6_K, 0.027}};
    for (const auto& c : cases) {
        std::normal_distribution<float> g;
        std::vector<float> x(QK_K * 9);
        for (auto& v : x) v = g(qrng);
        const std::vector<float> y = dequantize(c.first, quantize(c.first, x));
        double err = 0, ref = 0;
        for (size_t i = 0; i < x.size(); i++) {
            err += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
            ref += (double)x[i] * x[i];
        }
        T_CHECK(std::sqrt(err / ref) < c.second, "%s relative rms error %.4f >= %.3f", name(c.first), std::sqrt(err / ref), c.second);
    }
}

// Ties: Q8_0/Q8_1 round half away from zero (roundf), Q4_0/Q5_0/Q4_1/Q5_1 half up (floor(v + 0.5)),
// the K-quants and Q8_K half to even (ggml's nearest_int). Blocks built so the scale is exactly 1.
void test_ties() {
    std::vector<float> x(QK, 0.0f);
    x[0] = 127; // Q8_0: d = 127/127 = 1
    x[1] = 2.5f, x[2] = -2.5f, x[3] = 0.5f, x[4] = -0.5f, x[5] = 3.5f;
    for (int dt : {PANOPT_DTYPE_Q8_0, PANOPT_DTYPE_Q8_1}) {
        const std::vector<float> y = dequantize(dt, quantize(dt, x));
        T_CHECK(y[0] == 127 && y[1] == 3 && y[2] == -3 && y[3] == 1 && y[4] == -1 && y[5] == 4,
                "%s ties away from zero: %g %g %g %g %g", name(dt), y[1], y[2], y[3], y[4], y[5]);
    }
    x[0] = -8; // Q4_0: d = -8/-8 = 1
    {
        const std::vector<float> y = dequantize(PANOPT_DTYPE_Q4_0, quantize(PANOPT_DTYPE_Q4_0, x));
        T_CHECK(y[0] == -8 && y[1] == 3 && y[2] == -2 && y[3] == 1 && y[4] == 0 && y[5] == 4,
                "Q4_0 ties up: %g %g %g %g %g", y[1], y[2], y[3], y[4], y[5]);
    }
    {
        std::vector<float> z(QK, 0.0f); // Q4_1: min 0, max 15: d = 1, m = 0
        z[0] = 15, z[1] = 2.5f, z[2] = 3.5f, z[3] = 0.5f;
        const std::vector<float> y = dequantize(PANOPT_DTYPE_Q4_1, quantize(PANOPT_DTYPE_Q4_1, z));
        T_CHECK(y[0] == 15 && y[1] == 3 && y[2] == 4 && y[3] == 1, "Q4_1 ties up: %g %g %g", y[1], y[2], y[3]);
    }
    {
        std::vector<float> z(QK_K, 0.0f); // Q8_K: max -127: iscale = 1, d = 1
        z[0] = -127, z[1] = 2.5f, z[2] = -2.5f, z[3] = 3.5f, z[4] = 0.5f;
        const std::vector<float> y = dequantize(PANOPT_DTYPE_Q8_K, quantize(PANOPT_DTYPE_Q8_K, z));
        T_CHECK(y[0] == -127 && y[1] == 2 && y[2] == -2 && y[3] == 4 && y[4] == 0, "Q8_K ties to even: %g %g %g %g", y[1], y[2],
                y[3], y[4]);
    }
}

// quantize(dequantize(quantize(x))): checked per format on finite rows whose scales are normal fp16.
//   Q8_0, Q4_0, Q5_0, Q4_1, Q5_1  a fixed point: the decoded block has the same extreme element(s), so the
//       same scale (its fp16 value times 127, 8, 16, 15 or 31 is exact in f32) and every level again.
//   Q8_1  d and the levels are fixed; s = d * sum(q) is rounded from the unrounded d the first time and
//       from the fp16 d the second, so it may move: the decoded values are fixed.
//   Q8_K  d = 1/(-127/max) is recomputed in f32 from the decoded max and may move by an ulp; when the
//       largest magnitude is reached by elements of both signs the first one decides the sign of d (and
//       of every level): the decoded values stay within 2 ulps.
//   Q4_K, Q5_K, Q6_K  not fixed points: their scale search runs again on the decoded values and can
//       pick another grid (measured: about half of random Q4_K/Q5_K super-blocks and a quarter of Q6_K
//       ones come back with other bytes); the second round is only bounded like any other input.
void test_fixed_points() {
    for (int dt : kFormats) {
        if (dt == PANOPT_DTYPE_Q4_K || dt == PANOPT_DTYPE_Q5_K || dt == PANOPT_DTYPE_Q6_K) continue;
        int bytes_differ = 0, values_differ = 0, rows = 0;
        for (int kind : {GAUSS_OUTLIERS, POSITIVE, NEGATIVE, LARGE, EQUAL, SPARSE}) {
            for (int rep = 0; rep < 40; rep++) {
                std::vector<float> x((size_t)(kBlockElems[dt] * 3));
                fill(x, (Kind)kind);
                const std::vector<uint8_t> q1 = quantize(dt, x);
                const std::vector<float> x1 = dequantize(dt, q1);
                const std::vector<uint8_t> q2 = quantize(dt, x1);
                const std::vector<float> x2 = dequantize(dt, q2);
                rows++;
                bytes_differ += q1 != q2;
                for (size_t i = 0; i < x1.size(); i++) {
                    const bool same = dt == PANOPT_DTYPE_Q8_K ? std::fabs(x2[i] - x1[i]) <= std::fabs(x1[i]) * 0x1p-22f : x2[i] == x1[i];
                    if (!same) {
                        values_differ++;
                        break;
                    }
                }
                if (dt == PANOPT_DTYPE_Q8_1) { // d and qs fixed; s may move
                    for (size_t b = 0; b < q1.size() / sizeof(block_q8_1); b++) {
                        const block_q8_1 a = block_at<block_q8_1>(q1, b), c = block_at<block_q8_1>(q2, b);
                        T_CHECK(a.d == c.d && std::memcmp(a.qs, c.qs, QK) == 0, "Q8_1 d and levels fixed (block %zu)", b);
                    }
                }
            }
        }
        const bool bytes_fixed = dt != PANOPT_DTYPE_Q8_1 && dt != PANOPT_DTYPE_Q8_K;
        if (bytes_fixed) T_CHECK(bytes_differ == 0, "%s: %d of %d rows are not a fixed point", name(dt), bytes_differ, rows);
        T_CHECK(values_differ == 0, "%s: %d of %d rows decode differently after a second round", name(dt), values_differ, rows);
    }
}

// NaN and infinities: not values these formats hold; the quantizers do what ggml's do (on x86-64; the
// bytes themselves are compared with ggml's in QuantizerGgmlTest). A block is quantized on its own, so
// other blocks of the row are never affected. Within the block, NaN-valued outputs after a round trip:
//               NaN mid-block  NaN last  one +inf          all NaN
//   Q8_0, Q8_1  none           all       all               all    (amax scan MAX(amax, |x|): a NaN is
//                                                                  kept only as the last element)
//   Q4_0, Q5_0  none           none      all but the inf   none   (scale from the largest |x| a NaN never
//                                        (decodes to inf)         wins; NaN itself gets a level)
//   Q4_1, Q5_1  none           none      all               all    (min/max skip NaN; an inf span -> d inf)
//   Q4_K, Q5_K  none           none      all               none
//   Q6_K        none           none      none              none   (the NaN's or inf's sub-block of 16
//                                                                  decodes to wrong but finite values)
//   Q8_K        none           none      all               none
struct NanCase {
    int dt;
    int nan_mid, nan_last, inf, all_nan; // -1: the whole block; -2: all but the infinite element
};
const NanCase kNanCases[] = {
    {PANOPT_DTYPE_Q8_0, 0, -1, -1, -1}, {PANOPT_DTYPE_Q8_1, 0, -1, -1, -1}, {PANOPT_DTYPE_Q4_0, 0, 0, -2, 0},
    {PANOPT_DTYPE_Q5_0, 0, 0, -2, 0},   {PANOPT_DTYPE_Q4_1, 0, 0, -1, -1},  {PANOPT_DTYPE_Q5_1, 0, 0, -1, -1},
    {PANOPT_DTYPE_Q4_K, 0, 0, -1, 0},   {PANOPT_DTYPE_Q5_K, 0, 0, -1, 0},   {PANOPT_DTYPE_Q6_K, 0, 0, 0, 0},
    {PANOPT_DTYPE_Q8_K, 0, 0, -1, 0},
};

void test_nan_inf() {
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    for (const NanCase& c : kNanCases) {
        const int be = kBlockElems[c.dt];
        std::vector<float> clean((size_t)(3 * be));
        fill(clean, GAUSS_OUTLIERS);
        const std::vector<float> ref = dequantize(c.dt, quantize(c.dt, clean));
        const int expect[] = {c.nan_mid, c.nan_last, c.inf, c.all_nan};
        for (int k = 0; k < 4; k++) {
            std::vector<float> x = clean;
            float* mid = &x[(size_t)be]; // the middle block
            if (k == 0) mid[5] = nan;
            if (k == 1) mid[be - 1] = nan;
            if (k == 2) mid[5] = inf;
            if (k == 3) std::fill(mid, mid + be, nan);
            const std::vector<float> y = dequantize(c.dt, quantize(c.dt, x));
            int nans = 0;
            for (int e = be; e < 2 * be; e++) nans += std::isnan(y[(size_t)e]);
            const int want = expect[k] == -1 ? be : expect[k] == -2 ? be - 1 : expect[k];
            T_CHECK(nans == want, "%s case %d: %d NaN outputs in the block, ggml gives %d", name(c.dt), k, nans, want);
            if (k == 2 && expect[k] == -2) T_CHECK(std::isinf(y[(size_t)be + 5]), "%s: the inf element decodes to inf", name(c.dt));
            const bool others = std::memcmp(y.data(), ref.data(), (size_t)be * 4) == 0 &&
                                std::memcmp(y.data() + 2 * be, ref.data() + 2 * be, (size_t)be * 4) == 0;
            T_CHECK(others, "%s case %d: other blocks unaffected", name(c.dt), k);
        }
    }
}

// ggml's fp16 NaNs: a scale that is NaN is stored as the canonical 0x7e00 with its sign (payload
// dropped), and a NaN scale read back has its quiet bit set (ggml reads fp16 through a table filled by
// a multiplication, which quiets signaling NaNs).
void test_fp16_nan() {
    std::vector<float> x(QK, 1.0f);
    uint32_t payload = 0x7fc00123u;
    std::memcpy(&x[QK - 1], &payload, 4); // the last element: Q8_0's amax scan ends on the NaN
    const block_q8_0 b = block_at<block_q8_0>(quantize(PANOPT_DTYPE_Q8_0, x), 0);
    T_CHECK(b.d == 0x7e00, "Q8_0 NaN scale stored as 0x7e00, got 0x%04x", b.d);
    std::vector<uint8_t> q(sizeof(block_q8_0), 0);
    const uint16_t snan = 0xfc01; // negative signaling NaN, payload 1
    std::memcpy(q.data(), &snan, 2);
    q[2] = 1;
    const std::vector<float> y = dequantize(PANOPT_DTYPE_Q8_0, q);
    uint32_t bits;
    std::memcpy(&bits, &y[0], 4);
    T_CHECK(bits == 0xffc02000u, "signaling NaN scale read as quiet NaN 0xffc02000, got 0x%08x", bits);
}

// Rows may start at any address (the API takes unaligned buffers): same bytes and floats.
void test_unaligned() {
    for (int dt : kFormats) {
        const int64_t n = 3 * kBlockElems[dt], nb = row_bytes(dt, n);
        std::vector<float> x((size_t)n);
        fill(x, GAUSS_OUTLIERS);
        const std::vector<uint8_t> q = quantize(dt, x);
        std::vector<uint8_t> buf((size_t)nb + 8);
        type_traits(dt)->from_f32(x.data(), buf.data() + 3, n);
        T_CHECK(std::memcmp(buf.data() + 3, q.data(), (size_t)nb) == 0, "%s quantize to an odd address", name(dt));
        std::vector<float> y = dequantize(dt, q), y2((size_t)n + 1);
        type_traits(dt)->to_f32(buf.data() + 3, y2.data() + 1, n);
        T_CHECK(std::memcmp(y2.data() + 1, y.data(), (size_t)n * 4) == 0, "%s dequantize from an odd address", name(dt));
    }
}

// The table wires every block format, and the activation type of each one's dot product.
void test_traits() {
    const std::pair<int, int> dot[] = {
        {PANOPT_DTYPE_Q8_0, PANOPT_DTYPE_Q8_0}, {PANOPT_DTYPE_Q4_0, PANOPT_DTYPE_Q8_0}, {PANOPT_DTYPE_Q5_0, PANOPT_DTYPE_Q8_0},
        {PANOPT_DTYPE_Q4_1, PANOPT_DTYPE_Q8_1}, {PANOPT_DTYPE_Q5_1, PANOPT_DTYPE_Q8_1}, {PANOPT_DTYPE_Q4_K, PANOPT_DTYPE_Q8_K},
        {PANOPT_DTYPE_Q5_K, PANOPT_DTYPE_Q8_K}, {PANOPT_DTYPE_Q6_K, PANOPT_DTYPE_Q8_K}, {PANOPT_DTYPE_Q8_1, PANOPT_DTYPE_F32},
        {PANOPT_DTYPE_Q8_K, PANOPT_DTYPE_F32}};
    for (const auto& p : dot) {
        const TypeTraits* t = type_traits(p.first);
        T_CHECK(t->to_f32 && t->from_f32 && t->vec_dot_type == p.second, "%s: conversions and vec_dot_type %d", t->name,
                t->vec_dot_type);
    }
}

} // namespace

int run_quant_format_tests() {
    test_traits();
    test_round_trip_bounds();
    test_k_rms();
    test_ties();
    test_fixed_points();
    test_nan_inf();
    test_fp16_nan();
    test_unaligned();
    return 0;
}
