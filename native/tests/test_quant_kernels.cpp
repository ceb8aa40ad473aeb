// Products with ggml's block formats: every ISA's kernels against the scalar reference
// (quant_dot_scalar.cpp) on random blocks — random codes, random signed scales, never-zero
// activations — for odd row counts, all batch tails and several block counts, with and without bias.
// The integer sums are exact in both; they differ in where f32 rounding happens (the vector kernels
// convert and scale lanes of a block separately), so the bound is relative to sum |w_k| |x_k|.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "cpu/buffer.h"
#include "cpu/kernels.h"
#include "dtype.h"
#include "panopt.h"
#include "quant/blocks.h"
#include "quant/rows8.h"
#include "test_util.h"
#include "tile_model.h"

using namespace panopt;

namespace {

std::mt19937 qrng(777);

uint16_t rnd_scale16(float lo, float hi) { // a random f16 of magnitude in [lo, hi), either sign
    std::uniform_real_distribution<float> u(lo, hi);
    const float f = (qrng() & 1) ? u(qrng) : -u(qrng);
    return f32_to_f16(f);
}

int8_t rnd_q8() { // activation codes: [-127, 127], never 0 (ggml's quantizers never produce -128)
    int v = (int)(qrng() % 254) - 127;
    return (int8_t)(v >= 0 ? v + 1 : v);
}

// n_blocks random weight blocks of type dt: random code bytes, random scales.
std::vector<uint8_t> rnd_wblocks(int dt, int64_t n_blocks) {
    const size_t bb = (size_t)kBlockBytes[dt];
    std::vector<uint8_t> v(bb * (size_t)n_blocks + 1);
    for (auto& b : v) b = (uint8_t)qrng();
    for (int64_t i = 0; i < n_blocks; i++) {
        uint8_t* p = v.data() + (size_t)i * bb;
        uint16_t d = rnd_scale16(1.0f / 256, 1.0f / 16), m = rnd_scale16(1.0f / 256, 1.0f / 16);
        switch (dt) {
        case PANOPT_DTYPE_Q6_K: std::memcpy(p + offsetof(block_q6_K, d), &d, 2); break;
        case PANOPT_DTYPE_Q4_1:
        case PANOPT_DTYPE_Q5_1:
        case PANOPT_DTYPE_Q4_K:
        case PANOPT_DTYPE_Q5_K: // d then m / dmin
            std::memcpy(p, &d, 2);
            std::memcpy(p + 2, &m, 2);
            break;
        default: std::memcpy(p, &d, 2); break; // Q8_0, Q4_0, Q5_0
        }
    }
    return v;
}

// One activation row of K elements in type vt (Q8_0, Q8_1, Q8_K), self-consistent (s, bsums).
std::vector<uint8_t> rnd_xrow(int vt, int64_t K) {
    const int64_t nb = K / kBlockElems[vt];
    std::vector<uint8_t> v((size_t)(nb * kBlockBytes[vt]));
    for (int64_t b = 0; b < nb; b++) {
        uint8_t* p = v.data() + b * kBlockBytes[vt];
        if (vt == PANOPT_DTYPE_Q8_K) {
            block_q8_K blk;
            std::uniform_real_distribution<float> u(0.001f, 0.05f);
            blk.d = u(qrng);
            for (int i = 0; i < QK_K; i++) blk.qs[i] = rnd_q8();
            for (int j = 0; j < QK_K / 16; j++) {
                int s = 0;
                for (int i = 0; i < 16; i++) s += blk.qs[16 * j + i];
                blk.bsums[j] = (int16_t)s;
            }
            std::memcpy(p, &blk, sizeof blk);
        } else if (vt == PANOPT_DTYPE_Q8_1) {
            block_q8_1 blk;
            blk.d = f32_to_f16(std::fabs(f16_to_f32(rnd_scale16(0.001f, 0.05f))));
            int s = 0;
            for (int i = 0; i < QK; i++) s += (blk.qs[i] = rnd_q8());
            blk.s = f32_to_f16(f16_to_f32(blk.d) * (float)s);
            std::memcpy(p, &blk, sizeof blk);
        } else {
            block_q8_0 blk;
            blk.d = rnd_scale16(0.001f, 0.05f);
            for (int i = 0; i < QK; i++) blk.qs[i] = rnd_q8();
            std::memcpy(p, &blk, sizeof blk);
        }
    }
    return v;
}

// The activation type each weight format's product takes (as dtype.cpp's traits say once filled).
int act_type(int dt) {
    switch (dt) {
    case PANOPT_DTYPE_Q4_1:
    case PANOPT_DTYPE_Q5_1: return PANOPT_DTYPE_Q8_1;
    case PANOPT_DTYPE_Q4_K:
    case PANOPT_DTYPE_Q5_K:
    case PANOPT_DTYPE_Q6_K: return PANOPT_DTYPE_Q8_K;
    default: return PANOPT_DTYPE_Q8_0;
    }
}

const int kWeightFormats[] = {PANOPT_DTYPE_Q8_0, PANOPT_DTYPE_Q4_0, PANOPT_DTYPE_Q4_1, PANOPT_DTYPE_Q5_0,
                              PANOPT_DTYPE_Q5_1, PANOPT_DTYPE_Q4_K, PANOPT_DTYPE_Q5_K, PANOPT_DTYPE_Q6_K};

void test_format(const Kernels* ref, const Kernels* kt, int dt) {
    const int vt = act_type(dt);
    const int64_t be = kBlockElems[dt];
    const int64_t Ms[] = {1, 2, 3, 4, 5, 7, 9};
    const int64_t Ns[] = {1, 3, 17, 33};
    const int64_t NBs[] = {1, 2, 3, 5, dt >= PANOPT_DTYPE_Q4_K ? 12 : 40};
    int bad = 0, count = 0, zeros = 0;
    for (int64_t nbk : NBs)
        for (int64_t N : Ns)
            for (int64_t M : Ms)
                for (int bias = 0; bias < 3; bias++) {
                    const int64_t K = nbk * be;
                    // weights at an odd byte offset: rows are 2-byte aligned in real files at best
                    auto wbuf = rnd_wblocks(dt, N * nbk);
                    const int64_t xrb = row_bytes(vt, K);
                    std::vector<uint8_t> xq;
                    for (int64_t m = 0; m < M; m++) {
                        auto r = rnd_xrow(vt, K);
                        xq.insert(xq.end(), r.begin(), r.end());
                    }
                    const int bdt = bias == 1 ? PANOPT_DTYPE_F32 : PANOPT_DTYPE_F16;
                    std::vector<uint8_t> bb((size_t)N * 4);
                    for (int64_t n = 0; n < N; n++) {
                        float f = (float)((int)(qrng() % 200) - 100) / 64.0f + 0.01f;
                        if (bdt == PANOPT_DTYPE_F32) std::memcpy(&bb[4 * n], &f, 4);
                        else {
                            uint16_t h = f32_to_f16(f);
                            std::memcpy(&bb[2 * n], &h, 2);
                        }
                    }
                    std::vector<float> y1((size_t)(M * N)), y2((size_t)(M * N)), mag((size_t)(M * N), 0.0f);
                    LinearArgs a{nullptr, 0, xq.data(), xrb, wbuf.data(), dt, bias ? (const void*)bb.data() : nullptr,
                                 bdt, y1.data(), N, M, N, K};
                    std::vector<float> scratch((size_t)kt->linear_scratch_floats(K));
                    ref->type[dt].linear_range(&a, 0, M, 0, N, nullptr);
                    a.y = y2.data();
                    kt->type[dt].linear_range(&a, 0, M, 0, N, scratch.data());
                    // sum over k of |w[n][k]| |x[m][k]|, from the types' own dequantizers
                    std::vector<float> wf((size_t)(N * K)), xf((size_t)(M * K));
                    for (int64_t n = 0; n < N; n++)
                        type_traits(dt)->to_f32(wbuf.data() + n * nbk * kBlockBytes[dt], &wf[n * K], K);
                    for (int64_t m = 0; m < M; m++) type_traits(vt)->to_f32(&xq[m * xrb], &xf[m * K], K);
                    for (int64_t m = 0; m < M; m++)
                        for (int64_t n = 0; n < N; n++) {
                            double s = 0;
                            for (int64_t k = 0; k < K; k++) s += std::fabs((double)wf[n * K + k] * xf[m * K + k]);
                            mag[m * N + n] = (float)s;
                        }
                    for (int64_t i = 0; i < M * N; i++) {
                        count++;
                        // f32 rounding of lane products and of the running sums: a few eps per block
                        const double tol = 4e-7 * (double)(nbk + 4) * (mag[i] + std::fabs(y1[i]));
                        if (!(std::fabs((double)y1[i] - y2[i]) <= tol)) {
                            if (bad++ < 5)
                                std::printf("  %s %s M=%lld N=%lld K=%lld bias=%d [%lld]: %.9g vs ref %.9g (tol %.3g)\n",
                                            kt->name, type_traits(dt)->name, (long long)M, (long long)N, (long long)K,
                                            bias, (long long)i, y2[i], y1[i], tol);
                        }
                        zeros += !(mag[i] > 0);
                    }
                }
    // the data is not trivially zero: a test that cannot fail is no test
    T_CHECK(zeros == 0, "%s %s: %d outputs with no nonzero term", kt->name, type_traits(dt)->name, zeros);
    T_CHECK(bad == 0, "%s %s: %d of %d outputs differ from the scalar reference", kt->name, type_traits(dt)->name,
            bad, count);
}

// In passes over several positions per row products take f32 X and the dequantized weights
// (linear_range_dq): every ISA against the scalar reference (its generic dequantize-then-dot
// linear), for M under 4 (row by row) and above (packed panels), K across several KC panels, odd
// N, with and without bias. f32 sums in another order: the bound is relative to sum |w_k| |x_k| (as for the float GEMM).
void test_format_dq(const Kernels* ref, const Kernels* kt, int dt) {
    const int64_t be = kBlockElems[dt];
    const int64_t Ms[] = {1, 3, 4, 37};
    const int64_t Ns[] = {1, 17, 35, 131}; // 131 rows of 1280 columns: 2 of NEON's f32 panels (512 KB)
    const int64_t NBs[] = {1, 3, dt >= PANOPT_DTYPE_Q4_K ? 5 : 19}; // up to 1280 / 608 columns: 5 / 3 panels
    std::uniform_real_distribution<float> ux(0.05f, 1.0f);
    int bad = 0, count = 0;
    for (int64_t nbk : NBs)
        for (int64_t N : Ns)
            for (int64_t M : Ms)
                for (int bias = 0; bias < 2; bias++) {
                    const int64_t K = nbk * be;
                    auto wbuf = rnd_wblocks(dt, N * nbk);
                    std::vector<float> x((size_t)(M * K)), bb((size_t)N);
                    for (auto& v : x) v = (qrng() & 1) ? ux(qrng) : -ux(qrng); // never zero
                    for (auto& v : bb) v = (float)((int)(qrng() % 200) - 100) / 64.0f + 0.01f;
                    std::vector<float> y1((size_t)(M * N)), y2((size_t)(M * N));
                    LinearArgs a{x.data(), K, nullptr, 0, wbuf.data(), dt, bias ? (const void*)bb.data() : nullptr,
                                 PANOPT_DTYPE_F32, y1.data(), N, M, N, K};
                    FloatBuf s1, s2; // 64-byte aligned, as the executor's
                    ref->type[dt].linear_range_dq(&a, 0, M, 0, N, s1.reserve((size_t)ref->linear_scratch_floats(K)));
                    a.y = y2.data();
                    kt->type[dt].linear_range_dq(&a, 0, M, 0, N, s2.reserve((size_t)kt->linear_scratch_floats(K)));
                    std::vector<float> wf((size_t)K);
                    for (int64_t n = 0; n < N; n++) {
                        type_traits(dt)->to_f32(wbuf.data() + n * nbk * kBlockBytes[dt], wf.data(), K);
                        for (int64_t m = 0; m < M; m++) {
                            double mag = 0;
                            for (int64_t k = 0; k < K; k++) mag += std::fabs((double)wf[k] * x[m * K + k]);
                            const int64_t i = m * N + n;
                            count++;
                            if (!(std::fabs((double)y1[i] - y2[i]) <= 2e-6 * mag + 1e-6 * std::fabs(y1[i])) || !(mag > 0)) {
                                if (bad++ < 5)
                                    std::printf("  %s %s dq M=%lld N=%lld K=%lld bias=%d [%lld]: %.9g vs ref %.9g (sum|wx| %.3g)\n",
                                                kt->name, type_traits(dt)->name, (long long)M, (long long)N, (long long)K,
                                                bias, (long long)i, y2[i], y1[i], mag);
                            }
                        }
                    }
                }
    T_CHECK(bad == 0, "%s %s: %d of %d dequantized-GEMM outputs differ from the scalar reference", kt->name,
            type_traits(dt)->name, bad, count);
    // the panels' dequantizer (x86 builds): the reference's values (a fused multiply-add at most
    // differs in the last bit of a min format's value)
    if (!dequant_avx2(dt) || !isa_supported(PANOPT_ISA_AVX2)) return;
    const int64_t nb = dt >= PANOPT_DTYPE_Q4_K ? 7 : 57;
    auto wb = rnd_wblocks(dt, nb);
    std::vector<float> r((size_t)(nb * be)), v((size_t)(nb * be));
    type_traits(dt)->to_f32(wb.data(), r.data(), nb * be);
    dequant_avx2(dt)(wb.data(), v.data(), nb * be);
    int off = 0;
    for (size_t i = 0; i < r.size(); i++) off += !(std::fabs(r[i] - v[i]) <= 2.4e-7f * std::fabs(r[i]));
    T_CHECK(off == 0, "%s dequant_avx2: %d of %zu values differ from the reference", type_traits(dt)->name, off, r.size());
}

// Weights in 8-row groups (quant/rows8.h): the layout round-trips byte for byte, and an ISA's
// products from it (linear_range_r8 with quantized X, linear_range_dq_r8 with f32 X) equal the
// scalar reference's from the same weights in row order, within the bounds of test_format and
// test_format_dq: for every batch tail, more rows than one pass prepares (17, 21), a column range
// that starts past the first group, K of one to 40 blocks (1 to 5 super-blocks), with and without bias.
// Row-major weights through the group kernel, and Q8_0 activations with their block scales and sums
// made once (LinearArgs::xscale, xsum), give the repacked weights' results bit for bit, and so does
// each row alone (passes of 4, a batched step's one pass of 8 and a batch-1 step sum alike).
// A kernel's outputs y (M x N) against the scalar reference's y1, for weights w (row-major, rb bytes
// a row) and activations xq (rows of xrb bytes) or, for dq, the f32 rows x: columns below n0
// untouched (7), the rest within the bound of f32 rounding relative to mag = sum |w_j x_j| of the
// dequantized values (int8 products: 4e-7 (nbk + 4) (mag + |ref|), nbk blocks; f32 products on the
// dequantized weights: 2e-6 mag + 1e-6 |ref|). Counts the outputs in count; the first misses printed
// after `what`; returns how many missed.
int misses(int dt, int vt, const std::vector<uint8_t>& w, int64_t rb, const std::vector<uint8_t>& xq, int64_t xrb,
           const float* x, int64_t M, int64_t N, int64_t K, int64_t nbk, int64_t n0, const std::vector<float>& y1,
           const std::vector<float>& y, int& count, const std::string& what) {
    int bad = 0;
    std::vector<float> wf((size_t)K), xf((size_t)K);
    for (int64_t n = 0; n < N; n++) {
        type_traits(dt)->to_f32(w.data() + n * rb, wf.data(), K);
        for (int64_t m = 0; m < M; m++) {
            const int64_t i = m * N + n;
            count++;
            if (n < n0) { // outside the range: untouched
                bad += !(y[i] == 7.0f);
                continue;
            }
            if (x) std::copy(x + m * K, x + (m + 1) * K, xf.begin());
            else type_traits(vt)->to_f32(&xq[m * xrb], xf.data(), K);
            double mag = 0;
            for (int64_t j = 0; j < K; j++) mag += std::fabs((double)wf[j] * xf[j]);
            const double tol = x ? 2e-6 * mag + 1e-6 * std::fabs(y1[i]) : 4e-7 * (double)(nbk + 4) * (mag + std::fabs(y1[i]));
            if (!(std::fabs((double)y1[i] - y[i]) <= tol) || !(mag > 0)) {
                if (bad++ < 5)
                    std::printf("  %s M=%lld N=%lld K=%lld [%lld]: %.9g vs ref %.9g (tol %.3g)\n", what.c_str(), (long long)M,
                                (long long)N, (long long)K, (long long)i, y[i], y1[i], tol);
            }
        }
    }
    return bad;
}

void test_format_r8(const Kernels* ref, const Kernels* kt, int dt) {
    const TypeKernels& k = kt->type[dt];
    if (!k.linear_range_r8 || !k.linear_range_dq_r8) return;
    const int64_t Ms[] = {1, 2, 3, 4, 5, 8, 9, 13, 16, 17, 21, 37}; // 5-16: a batched step's passes of 8 (kOnePass8)
    const int64_t Ns[] = {8, 32, 40, 136}; // past n0 = 8: 3 groups (a pair, one left), 4, 16; 136: past linear_range_via_r8's tile of 64 rows
    const int vt = act_type(dt);
    const int64_t be = kBlockElems[dt];
    const std::vector<int64_t> NBs = be == QK ? std::vector<int64_t>{1, 3, 19, 40} : std::vector<int64_t>{1, 2, 5};
    std::uniform_real_distribution<float> ux(0.05f, 1.0f);
    int bad = 0, count = 0, moved = 0, via = 0, via_runs = 0, alone = 0, alone_runs = 0;
    for (int64_t nbk : NBs)
        for (int64_t N : Ns) {
            const int64_t K = nbk * be, rb = row_bytes(dt, K);
            auto w = rnd_wblocks(dt, N * nbk);
            std::vector<uint8_t> w8((size_t)(N * rb)), back((size_t)(N * rb));
            quant::repack_rows8(dt, w.data(), w8.data(), K, 0, N / R8);
            quant::unpack_rows8(dt, w8.data(), back.data(), K, 0, N / R8);
            moved += std::memcmp(w.data(), w8.data(), back.size()) != 0;
            T_CHECK(std::memcmp(w.data(), back.data(), back.size()) == 0, "%s 8-row groups: N=%lld K=%lld does not "
                    "round-trip", type_traits(dt)->name, (long long)N, (long long)K);
            { // a row looked up in the groups (the token embedding): the reference dequantizer's values
                std::vector<float> r1((size_t)K), r2((size_t)K);
                int off = 0;
                for (int64_t n = 0; n < N; n++) {
                    type_traits(dt)->to_f32(w.data() + n * rb, r1.data(), K);
                    quant::dequantize_row_rows8(dt, w8.data(), K, n, r2.data());
                    off += std::memcmp(r1.data(), r2.data(), r1.size() * sizeof(float)) != 0;
                }
                T_CHECK(off == 0, "%s 8-row groups: %d of %lld rows (K=%lld) looked up differ from the reference",
                        type_traits(dt)->name, off, (long long)N, (long long)K);
            }
            for (int64_t M : Ms)
                for (int bias = 0; bias < 3; bias++) {
                    std::vector<uint8_t> xq;
                    for (int64_t m = 0; m < M; m++) {
                        auto r = rnd_xrow(vt, K);
                        xq.insert(xq.end(), r.begin(), r.end());
                    }
                    std::vector<float> x((size_t)(M * K)), bf((size_t)N);
                    for (auto& v : x) v = (qrng() & 1) ? ux(qrng) : -ux(qrng); // never zero
                    for (auto& v : bf) v = (float)((int)(qrng() % 200) - 100) / 64.0f + 0.01f;
                    std::vector<uint16_t> bh((size_t)N);
                    for (int64_t n = 0; n < N; n++) bh[n] = f32_to_f16(bf[n]);
                    const int bdt = bias == 1 ? PANOPT_DTYPE_F32 : PANOPT_DTYPE_F16;
                    const void* bp = bias == 0 ? nullptr : bias == 1 ? (const void*)bf.data() : (const void*)bh.data();
                    const int64_t xrb = row_bytes(vt, K);
                    FloatBuf s1, s2;
                    float* sref = s1.reserve((size_t)ref->linear_scratch_floats(K));
                    float* skt = s2.reserve((size_t)kt->linear_scratch_floats(K));
                    for (int dq = 0; dq < 2; dq++) {
                        const int64_t n0 = dq == 0 && N > 8 ? 8 : 0; // a range past the first group
                        std::vector<float> y1((size_t)(M * N), 7.0f), y2((size_t)(M * N), 7.0f);
                        LinearArgs a{x.data(), K, xq.data(), xrb, w.data(), dt, bp, bdt, y1.data(), N, M, N, K};
                        (dq ? ref->type[dt].linear_range_dq : ref->type[dt].linear_range)(&a, 0, M, n0, N, sref);
                        a.w = w8.data();
                        a.y = y2.data();
                        (dq ? k.linear_range_dq_r8 : k.linear_range_r8)(&a, 0, M, n0, N, skt);
                        if (!dq) { // every row as it would be alone (a batch-1 step): the same bits
                            std::vector<float> y1r((size_t)(M * N), 7.0f);
                            a.y = y1r.data();
                            for (int64_t m = 0; m < M; m++) k.linear_range_r8(&a, m, m + 1, n0, N, skt);
                            alone += std::memcmp(y2.data(), y1r.data(), y1r.size() * sizeof(float)) != 0;
                            alone_runs++;
                            a.y = y2.data();
                        }
                        if (!dq && k.linear_range_via_r8) { // row-major weights through the group kernel: the same bits
                            std::vector<float> y3((size_t)(M * N), 7.0f);
                            a.w = w.data();
                            a.y = y3.data();
                            k.linear_range_via_r8(&a, 0, M, n0, N, skt);
                            via += std::memcmp(y2.data(), y3.data(), y3.size() * sizeof(float)) != 0;
                            via_runs++;
                        }
                        if (!dq && vt == PANOPT_DTYPE_Q8_0) { // the blocks' scales and code sums made once (xscale): the same bits
                            std::vector<float> scales((size_t)(M * nbk));
                            std::vector<int32_t> sums((size_t)(M * nbk));
                            for (int64_t m = 0; m < M; m++)
                                for (int64_t b = 0; b < nbk; b++) {
                                    const auto* blk = reinterpret_cast<const block_q8_0*>(&xq[m * xrb]) + b;
                                    for (int e = 0; e < QK; e++) sums[(size_t)(b * M + m)] += blk->qs[e];
                                    scales[(size_t)(b * M + m)] = f16_to_f32(blk->d);
                                }
                            std::vector<float> y4((size_t)(M * N), 7.0f), y5(y4);
                            a.xscale = scales.data();
                            a.xsum = sums.data();
                            a.ldxs = M;
                            a.w = w8.data();
                            a.y = y4.data();
                            k.linear_range_r8(&a, 0, M, n0, N, skt);
                            via += std::memcmp(y2.data(), y4.data(), y4.size() * sizeof(float)) != 0;
                            if (k.linear_range_via_r8) {
                                a.w = w.data();
                                a.y = y5.data();
                                k.linear_range_via_r8(&a, 0, M, n0, N, skt);
                                via += std::memcmp(y2.data(), y5.data(), y5.size() * sizeof(float)) != 0;
                            }
                            a.xscale = nullptr;
                            a.xsum = nullptr;
                            via_runs++;
                        }
                        bad += misses(dt, vt, w, rb, xq, xrb, dq ? x.data() : nullptr, M, N, K, nbk, n0, y1, y2, count,
                                      std::string(kt->name) + " " + type_traits(dt)->name + " r8" + (dq ? " dq" : "") +
                                          " bias=" + std::to_string(bias));
                    }
                }
        }
    T_CHECK(moved > 0, "%s 8-row groups: the repack never moved a byte", type_traits(dt)->name);
    T_CHECK(via == 0, "%s %s: %d of %d products of row-major weights through the group kernel differ from the "
            "repacked weights' bit for bit", kt->name, type_traits(dt)->name, via, via_runs);
    T_CHECK(alone == 0, "%s %s: %d of %d products of several rows differ from their rows one at a time", kt->name,
            type_traits(dt)->name, alone, alone_runs);
    T_CHECK(bad == 0, "%s %s: %d of %d outputs from 8-row groups differ from the scalar reference", kt->name,
            type_traits(dt)->name, bad, count);
}

// A prompt's product over long rows: the group kernels keep spans of the weights (kRows8SpanBytes,
// rounded up to tiles of 2 or 3 groups) in L2 while every chunk of 16 activation rows passes over them
// (rows8_driver.inc). At K = 8192, N from n0 = 8 makes two spans and part of a third and M = 37 three chunks:
// every output equals the same kernel's over that row alone (one chunk, one span) bit for bit and is
// within the scalar reference's bound.
void test_format_r8_spans(const Kernels* ref, const Kernels* kt, int dt) {
    const TypeKernels& k = kt->type[dt];
    if (!k.linear_range_r8) return;
    const int vt = act_type(dt);
    const int64_t M = 37, n0 = 8, K = 8192, nbk = K / kBlockElems[dt], rb = row_bytes(dt, K), xrb = row_bytes(vt, K);
    const int64_t span = kRows8SpanBytes / (R8 * rb) + 2; // groups in a span at most (rounded up to a tile)
    const int64_t N = n0 + R8 * (2 * span + 3);
    auto w = rnd_wblocks(dt, N * nbk);
    std::vector<uint8_t> w8((size_t)(N * rb)), xq;
    quant::repack_rows8(dt, w.data(), w8.data(), K, 0, N / R8);
    for (int64_t m = 0; m < M; m++) {
        auto r = rnd_xrow(vt, K);
        xq.insert(xq.end(), r.begin(), r.end());
    }
    FloatBuf s1, s2;
    float* sref = s1.reserve((size_t)ref->linear_scratch_floats(K));
    float* skt = s2.reserve((size_t)kt->linear_scratch_floats(K));
    std::vector<float> y1((size_t)(M * N), 7.0f), y2(y1), y3(y1);
    LinearArgs a{nullptr, K, xq.data(), xrb, w.data(), dt, nullptr, PANOPT_DTYPE_F32, y1.data(), N, M, N, K};
    ref->type[dt].linear_range(&a, 0, M, n0, N, sref);
    a.w = w8.data();
    a.y = y2.data();
    k.linear_range_r8(&a, 0, M, n0, N, skt);
    a.y = y3.data();
    for (int64_t m = 0; m < M; m++) k.linear_range_r8(&a, m, m + 1, n0, N, skt);
    T_CHECK(std::memcmp(y2.data(), y3.data(), y2.size() * sizeof(float)) == 0,
            "%s %s: a %lld-row product over spans of the weights differs from its rows one at a time", kt->name,
            type_traits(dt)->name, (long long)M);
    int count = 0;
    const int bad = misses(dt, vt, w, rb, xq, xrb, nullptr, M, N, K, nbk, n0, y1, y2, count,
                           std::string(kt->name) + " " + type_traits(dt)->name + " r8 spans");
    T_CHECK(bad == 0, "%s %s: %d of %d outputs over spans of the weights differ from the scalar reference", kt->name,
            type_traits(dt)->name, bad, count);
}

// The AMX prompt kernels (cpu/tiles_r8.inc) on the software model of the tile instructions
// (tile_model.cpp) against the scalar reference, for row counts around the 16-row tiles and 64-row
// chunks, weight rows past a first group, with and without bias; the VNNI group kernels' results bit
// for bit (the same integer sums and f32 steps), whatever rows a row is computed with (two calls
// over halves of M equal one over all) and with Q8_0's block scales made once (LinearArgs::xscale)
// or not; and on a CPU with AMX the hardware's bits equal the model's.
void test_format_tiles(const Kernels* ref, int dt) {
    TypeKernels model[PANOPT_DTYPE_COUNT] = {};
    tile_model_kernels(model);
    const auto lin = model[dt].linear_range_tiles_r8;
    if (!lin) return;
    const Kernels* hw = kernels_for_isa(PANOPT_ISA_AMX); // NULL without AMX
    const Kernels* vnni = kernels_for_isa(PANOPT_ISA_AVX512_VNNI);
    const int64_t Ms[] = {1, 2, 7, 15, 16, 17, 33, 64, 65, 70, 130};
    const int64_t Ns[] = {8, 24, 40};
    const int vt = act_type(dt);
    const int64_t be = kBlockElems[dt];
    const std::vector<int64_t> NBs = be == QK ? std::vector<int64_t>{1, 3, 19} : std::vector<int64_t>{1, 2};
    int bad = 0, count = 0, split = 0, hw_diff = 0, runs = 0, groups = 0;
    for (int64_t nbk : NBs)
        for (int64_t N : Ns) {
            const int64_t K = nbk * be, rb = row_bytes(dt, K), xrb = row_bytes(vt, K);
            auto w = rnd_wblocks(dt, N * nbk);
            std::vector<uint8_t> w8((size_t)(N * rb));
            quant::repack_rows8(dt, w.data(), w8.data(), K, 0, N / R8);
            for (int64_t M : Ms) {
                std::vector<uint8_t> xq;
                for (int64_t m = 0; m < M; m++) {
                    auto r = rnd_xrow(vt, K);
                    xq.insert(xq.end(), r.begin(), r.end());
                }
                const int bias = (int)(M % 3);
                std::vector<float> bf((size_t)N);
                for (auto& v : bf) v = (float)((int)(qrng() % 200) - 100) / 64.0f + 0.01f;
                std::vector<uint16_t> bh((size_t)N);
                for (int64_t n = 0; n < N; n++) bh[n] = f32_to_f16(bf[n]);
                const int bdt = bias == 1 ? PANOPT_DTYPE_F32 : PANOPT_DTYPE_F16;
                const void* bp = bias == 0 ? nullptr : bias == 1 ? (const void*)bf.data() : (const void*)bh.data();
                FloatBuf s1, s2;
                float* sref = s1.reserve((size_t)ref->linear_scratch_floats(K));
                float* st = s2.reserve((size_t)std::max(tile_model_scratch_floats(K), hw ? hw->linear_scratch_floats(K)
                                                                                         : vnni->linear_scratch_floats(K)));
                const int64_t n0 = N > 8 ? 8 : 0, mid = M / 2;
                std::vector<float> y1((size_t)(M * N), 7.0f), y2(y1), y3(y1);
                LinearArgs a{nullptr, K, xq.data(), xrb, w.data(), dt, bp, bdt, y1.data(), N, M, N, K};
                ref->type[dt].linear_range(&a, 0, M, n0, N, sref);
                a.w = w8.data();
                a.y = y2.data();
                lin(&a, 0, M, n0, N, st);
                T_CHECK(!tile_model_configured(), "%s tiles: the kernel returned with its tiles configured", type_traits(dt)->name);
                a.y = y3.data();
                lin(&a, 0, mid, n0, N, st);
                lin(&a, mid, M, n0, N, st);
                split += std::memcmp(y2.data(), y3.data(), y3.size() * sizeof(float)) != 0;
                runs++;
                {
                    std::vector<float> yv((size_t)(M * N), 7.0f);
                    a.y = yv.data();
                    vnni->type[dt].linear_range_r8(&a, 0, M, n0, N, st);
                    groups += std::memcmp(y2.data(), yv.data(), yv.size() * sizeof(float)) != 0;
                }
                if (vt == PANOPT_DTYPE_Q8_0) { // the blocks' scales made once by the product: the same bits
                    std::vector<float> scales((size_t)(M * nbk));
                    for (int64_t m = 0; m < M; m++)
                        for (int64_t b = 0; b < nbk; b++)
                            scales[(size_t)(b * M + m)] = f16_to_f32((reinterpret_cast<const block_q8_0*>(&xq[m * xrb]) + b)->d);
                    std::vector<float> y4((size_t)(M * N), 7.0f);
                    a.xscale = scales.data();
                    a.ldxs = M;
                    a.y = y4.data();
                    lin(&a, 0, M, n0, N, st);
                    split += std::memcmp(y2.data(), y4.data(), y4.size() * sizeof(float)) != 0;
                    a.xscale = nullptr;
                }
                if (hw) {
                    std::vector<float> y5((size_t)(M * N), 7.0f);
                    a.y = y5.data();
                    hw->type[dt].linear_range_tiles_r8(&a, 0, M, n0, N, st);
                    hw_diff += std::memcmp(y2.data(), y5.data(), y5.size() * sizeof(float)) != 0;
                }
                bad += misses(dt, vt, w, rb, xq, xrb, nullptr, M, N, K, nbk, n0, y1, y2, count,
                              std::string("tiles ") + type_traits(dt)->name + " bias=" + std::to_string(bias));
            }
        }
    T_CHECK(split == 0, "%s tiles: %d of %d products differ bit for bit with the rows split or the scales made once",
            type_traits(dt)->name, split, runs);
    T_CHECK(hw_diff == 0, "%s tiles: %d of %d products on the AMX hardware differ from the model", type_traits(dt)->name,
            hw_diff, runs);
    T_CHECK(groups == 0, "%s tiles: %d of %d products differ from the VNNI group kernel's bit for bit", type_traits(dt)->name,
            groups, runs);
    T_CHECK(bad == 0, "%s tiles (model): %d of %d outputs differ from the scalar reference", type_traits(dt)->name, bad, count);
}

// The scalar reference itself against hand-computed blocks (so it cannot drift with the kernels).
void test_reference_by_hand() {
    const Kernels* ref = kernels_scalar();
    // Q4_0 with codes c (value d (c - 8)) against Q8_0 all ones with d = 1: sum of d (c - 8)
    block_q4_0 w;
    w.d = f32_to_f16(0.5f);
    for (int j = 0; j < 16; j++) w.qs[j] = (uint8_t)((j & 0xF) | ((15 - j) << 4));
    block_q8_0 x;
    x.d = f32_to_f16(1.0f);
    for (int j = 0; j < 32; j++) x.qs[j] = (int8_t)(j % 2 ? 2 : -1);
    int expect = 0;
    for (int j = 0; j < 32; j++) {
        const int c = j < 16 ? (j & 0xF) : (15 - (j - 16));
        expect += (c - 8) * x.qs[j];
    }
    float y = 0;
    LinearArgs a{nullptr, 0, &x, (int64_t)sizeof x, &w, PANOPT_DTYPE_Q4_0, nullptr, 0, &y, 1, 1, 1, 32};
    ref->type[PANOPT_DTYPE_Q4_0].linear_range(&a, 0, 1, 0, 1, nullptr);
    T_CHECK(y == 0.5f * (float)expect, "Q4_0 by hand: %g vs %g", y, 0.5f * (float)expect);

    // Q6_K: all codes 33 (value d sc (33 - 32) = d sc), scales j + 1, d = 1; x = Q8_K all 1, d = 1
    block_q6_K w6;
    std::memset(&w6, 0, sizeof w6);
    for (int i = 0; i < 128; i++) w6.ql[i] = 0x11; // low 4 bits 1 in both nibbles
    for (int i = 0; i < 64; i++) w6.qh[i] = 0xAA;  // high 2 bits = 2 (32) everywhere
    for (int j = 0; j < 16; j++) w6.scales[j] = (int8_t)(j + 1);
    w6.d = f32_to_f16(1.0f);
    block_q8_K x8;
    x8.d = 1.0f;
    for (int i = 0; i < 256; i++) x8.qs[i] = 1;
    for (int j = 0; j < 16; j++) x8.bsums[j] = 16;
    LinearArgs a6{nullptr, 0, &x8, (int64_t)sizeof x8, &w6, PANOPT_DTYPE_Q6_K, nullptr, 0, &y, 1, 1, 1, 256};
    ref->type[PANOPT_DTYPE_Q6_K].linear_range(&a6, 0, 1, 0, 1, nullptr);
    T_CHECK(y == 16.0f * (16 * 17 / 2), "Q6_K by hand: %g vs %d", y, 16 * (16 * 17 / 2));
}

// Attention over cached rows (dot_rows/axpy_rows) of each cache type against the scalar reference:
// n rows of K elements made by the type's own quantizer from random never-zero values, nq queries
// at odd strides. A kernel's values must not depend on how many queries share a call nor where a
// key falls in its groups of keys: every call's results equal, bit for bit, those of the same
// kernel one query (and, for the scores, one key) at a time.
void test_cache_rows(const Kernels* ref, const Kernels* kt) {
    for (int dt : {PANOPT_DTYPE_F32, PANOPT_DTYPE_F16, PANOPT_DTYPE_Q8_0}) {
        const TypeTraits* tt = type_traits(dt);
        if (!tt->from_f32 || !tt->to_f32) {
            std::printf("  SKIP cache rows %s: no conversion in this build\n", tt->name);
            continue;
        }
        int bad = 0, differ = 0;
        for (int64_t K : {32, 40, 48, 56, 64, 80, 96, 128, 160, 256}) {
            if (dt != PANOPT_DTYPE_Q8_0 && K == 32) K = 37; // odd sizes where the type allows them
            if (dt != PANOPT_DTYPE_Q8_0 && K == 96) K = 99;
            if (K % kBlockElems[dt]) continue; // Q8_0: whole blocks
            for (int64_t n : {1, 2, 3, 4, 5, 9, 16, 31, 48, 100}) {
                const int64_t nq = 1 + (n + K) % 9, ldq = K + 3, ldp = n + 1, ldo = n + 2, ldc = K + 5;
                const int64_t rb = row_bytes(dt, K);
                std::vector<float> src((size_t)(n * K)), q((size_t)(nq * ldq)), p((size_t)(nq * ldp));
                std::uniform_real_distribution<float> u(0.05f, 2.0f);
                for (auto& v : src) v = (qrng() & 1) ? u(qrng) : -u(qrng);
                for (auto& v : q) v = (qrng() & 1) ? u(qrng) : -u(qrng);
                for (int64_t i = 0; i < nq; i++) // zeros are skipped: every third key, and a causal-like tail
                    for (int64_t j = 0; j < n; j++)
                        p[i * ldp + j] = ((j + i) % 3 == 1 || j > n - nq + i) ? 0.0f : u(qrng);
                std::vector<uint8_t> rows((size_t)(n * rb));
                for (int64_t j = 0; j < n; j++) tt->from_f32(&src[j * K], rows.data() + j * rb, K);
                std::vector<float> d1((size_t)(nq * ldo)), d2(d1.size()), d3(d1.size()), d4(d1.size());
                std::vector<float> o1((size_t)(nq * ldc), 0.5f), o2(o1), o3(o1);
                ref->type[dt].dot_rows(q.data(), ldq, nq, rows.data(), n, K, d1.data(), ldo);
                kt->type[dt].dot_rows(q.data(), ldq, nq, rows.data(), n, K, d2.data(), ldo);
                ref->type[dt].axpy_rows(p.data(), ldp, nq, rows.data(), n, K, o1.data(), ldc);
                kt->type[dt].axpy_rows(p.data(), ldp, nq, rows.data(), n, K, o2.data(), ldc);
                for (int64_t i = 0; i < nq; i++) {
                    kt->type[dt].dot_rows(&q[i * ldq], ldq, 1, rows.data(), n, K, &d3[i * ldo], ldo);
                    for (int64_t j = 0; j < n; j++)
                        kt->type[dt].dot_rows(&q[i * ldq], ldq, 1, rows.data() + j * rb, 1, K, &d4[i * ldo + j], ldo);
                    kt->type[dt].axpy_rows(&p[i * ldp], ldp, 1, rows.data(), n, K, &o3[i * ldc], ldc);
                }
                for (int64_t i = 0; i < nq; i++) {
                    // f32 sums in another order: relative to the sums of absolute terms (|q| |row| <= 2 * 2.1)
                    for (int64_t j = 0; j < n; j++) {
                        const size_t at = (size_t)(i * ldo + j);
                        bad += !(std::fabs(d1[at] - d2[at]) <= 4e-6 * (double)K * 4.5);
                        differ += std::memcmp(&d2[at], &d3[at], 4) != 0 || std::memcmp(&d2[at], &d4[at], 4) != 0;
                    }
                    for (int64_t k = 0; k < K; k++) {
                        const size_t at = (size_t)(i * ldc + k);
                        bad += !(std::fabs(o1[at] - o2[at]) <= 4e-6 * (double)n * 4.5 + 1e-6);
                        differ += std::memcmp(&o2[at], &o3[at], 4) != 0;
                    }
                    for (int64_t k = K; k < ldc; k++) bad += o2[(size_t)(i * ldc + k)] != 0.5f; // past K: untouched
                }
            }
        }
        if (dt != PANOPT_DTYPE_Q8_0) { // a zero weight skips its row: an infinite value there stays out
            const int64_t K = 64, n = 5, nq = 4, rb = row_bytes(dt, K);
            std::vector<float> src((size_t)(n * K), 1.0f), p((size_t)(nq * n), 0.25f), o((size_t)(nq * K), 0.0f);
            for (int64_t k = 0; k < K; k++) src[(size_t)(2 * K + k)] = INFINITY;
            for (int64_t i = 0; i < nq; i++) p[(size_t)(i * n + 2)] = 0.0f;
            std::vector<uint8_t> rows((size_t)(n * rb));
            for (int64_t j = 0; j < n; j++) tt->from_f32(&src[j * K], rows.data() + j * rb, K);
            kt->type[dt].axpy_rows(p.data(), n, nq, rows.data(), n, K, o.data(), K);
            for (float v : o) bad += v != 1.0f;
        }
        T_CHECK(bad == 0, "cache rows %s %s: %d values differ from the reference", kt->name, tt->name, bad);
        T_CHECK(differ == 0, "cache rows %s %s: %d values change with the queries or keys per call", kt->name, tt->name, differ);
    }
}

// Activation quantizers: every ISA's bytes equal the reference's (ggml's quantize_row_*_ref) for
// finite rows — random values, exact halves of the step (the rounding ties), zeros, one outlier.
void test_activation_quantizers(const Kernels* ref, const Kernels* kt) {
    for (int vt : {PANOPT_DTYPE_Q8_0, PANOPT_DTYPE_Q8_1, PANOPT_DTYPE_Q8_K}) {
        const int64_t be = kBlockElems[vt];
        int bad = 0;
        for (int trial = 0; trial < 200; trial++) {
            const int64_t n = be * (1 + trial % 5);
            std::vector<float> x((size_t)n);
            std::uniform_real_distribution<float> u(-3.0f, 3.0f);
            for (auto& v : x) v = u(qrng);
            if (trial % 4 == 1) { // ties: multiples of half a step of a block whose max is 127 steps
                for (int64_t i = 0; i < n; i++) x[i] = 0.5f * (float)((int)(qrng() % 255) - 127) * 0.25f;
                for (int64_t b = 0; b < n; b += be) x[b] = 127 * 0.25f;
            }
            if (trial % 4 == 2)
                for (int64_t i = 0; i < n; i += 3) x[i] = 0.0f;
            if (trial % 4 == 3) x[(size_t)(qrng() % n)] = 1e4f;
            if (trial % 50 == 7) std::fill(x.begin(), x.end(), 0.0f);
            std::vector<uint8_t> r1((size_t)row_bytes(vt, n)), r2(r1.size());
            ref->type[vt].quantize_row(x.data(), r1.data(), n);
            kt->type[vt].quantize_row(x.data(), r2.data(), n);
            bad += r1 != r2;
            if (vt == PANOPT_DTYPE_Q8_0) { // with the blocks' scales and code sums, at a stride (3)
                const int64_t nb = n / be, ld = 3;
                std::vector<uint8_t> r3(r1.size()), r4(r1.size());
                std::vector<float> s3((size_t)(nb * ld), -1.0f), s4(s3);
                std::vector<int32_t> c3((size_t)(nb * ld), -7), c4(c3);
                ref->type[vt].quantize_row_sums(x.data(), r3.data(), n, s3.data(), c3.data(), ld);
                kt->type[vt].quantize_row_sums(x.data(), r4.data(), n, s4.data(), c4.data(), ld);
                int32_t direct = 0; // block 0's codes summed here
                for (int j = 0; j < QK; j++) direct += reinterpret_cast<const block_q8_0*>(r1.data())->qs[j];
                bad += r3 != r1 || r4 != r1 || s3 != s4 || c3 != c4 || c3[0] != direct ||
                       s3[0] != f16_to_f32(reinterpret_cast<const block_q8_0*>(r1.data())->d) || c3[1] != -7;
            }
        }
        T_CHECK(bad == 0, "%s quantize_row %s: %d of 200 rows differ from the reference", kt->name,
                type_traits(vt)->name, bad);
    }
}

// Weight quantizers (panopt_quantize's quantize_weights): every ISA's bytes equal the reference's
// (type_traits' from_f32, ggml's bytes) for rows that reach each branch of ggml's searches: normal
// and heavy-tailed values, sub-blocks of one sign (Q4_K's min > 0 case), of equal values (max == min),
// near-zero ones (below GROUP_MAX_EPS), exact zeros, outliers, ties of the level rounding, infinities
// and NaNs.
void test_weight_quantizers(const Kernels* kt) {
    for (int dt = 0; dt < PANOPT_DTYPE_COUNT; dt++) {
        const TypeTraits* tt = type_traits(dt);
        if (!tt->from_f32 || kt->type[dt].quantize_weights == tt->from_f32) continue; // nothing of its own
        const int64_t be = kBlockElems[dt];
        int bad = 0, rows = 0;
        for (int trial = 0; trial < 400; trial++) {
            const int64_t n = be * (1 + trial % 3);
            std::vector<float> x((size_t)n);
            std::normal_distribution<float> nd(0.0f, 0.02f);
            std::student_t_distribution<float> heavy(2.0f);
            for (auto& v : x) v = (trial % 8 == 1) ? 0.01f * heavy(qrng) : nd(qrng);
            const int64_t sub = 16 * (int64_t)(qrng() % (uint64_t)(n / 16)); // a 16-element stretch
            switch (trial % 8) {
            case 2: for (int64_t i = sub; i < sub + 16; i++) x[i] = std::fabs(x[i]) + 0.5f; break; // one sign, min > 0
            case 3: for (int64_t i = sub; i < sub + 16; i++) x[i] = 0.25f; break;                 // max == min
            case 4: for (int64_t i = sub; i < sub + 16; i++) x[i] *= 1e-16f; break;               // near zero
            case 5: for (int64_t i = 0; i < n; i += 2) x[i] = 0.0f; break;
            case 6: x[(size_t)(qrng() % n)] = 50.0f; break;
            case 7: for (auto& v : x) v = (float)((int)(qrng() % 64) - 32) * 0.125f; break;      // rounding ties
            default: break;
            }
            if (trial % 97 == 11) x[(size_t)(qrng() % n)] = INFINITY;
            if (trial % 97 == 12) x[(size_t)(qrng() % n)] = -INFINITY;
            if (trial % 97 == 13) x[(size_t)(qrng() % n)] = NAN;
            if (trial % 97 == 14) std::fill(x.begin(), x.end(), 0.0f);
            std::vector<uint8_t> r1((size_t)row_bytes(dt, n)), r2(r1.size());
            tt->from_f32(x.data(), r1.data(), n);
            kt->type[dt].quantize_weights(x.data(), r2.data(), n);
            bad += r1 != r2;
            rows++;
        }
        T_CHECK(bad == 0, "%s quantize_weights %s: %d of %d rows differ from the reference", kt->name, tt->name, bad, rows);
    }
}

} // namespace

int run_quant_kernel_tests() {
    test_reference_by_hand();
    const Kernels* ref = kernels_scalar();
    if (isa_has_vnni(cpu_best_isa())) {
        std::printf("  prompt products on AMX tiles: the software tile model%s\n",
                    cpu_best_isa() == PANOPT_ISA_AMX ? " and this CPU's AMX" : " (this CPU has no AMX)");
        for (int dt : kWeightFormats) test_format_tiles(ref, dt);
    } else {
        std::printf("  SKIP prompt products on tiles: the model's epilogue needs AVX512-VNNI\n");
    }
    for (int isa : {PANOPT_ISA_AVX2, PANOPT_ISA_AVX512, PANOPT_ISA_AVX512_VNNI, PANOPT_ISA_AMX, PANOPT_ISA_NEON}) {
        const Kernels* kt = kernels_for_isa(isa);
        if (!kt) {
            std::printf("  SKIP quantized products on isa %d: not supported by this CPU\n", isa);
            continue;
        }
        std::printf("  quantized products: %s%s\n", kt->name,
                    isa != PANOPT_ISA_NEON ? "" : cpu_has_dotprod() ? " (sdot: this CPU has the dot-product extension)"
                                                                      : " (no dot-product extension: the reference's products)");
        test_cache_rows(ref, kt);
        test_activation_quantizers(ref, kt);
        test_weight_quantizers(kt);
        for (int dt : kWeightFormats) {
            if (!type_traits(dt)->to_f32 || !type_traits(act_type(dt))->to_f32) {
                std::printf("  SKIP %s: no dequantizer in this build\n", type_traits(dt)->name);
                continue;
            }
            test_format(ref, kt, dt);
            test_format_dq(ref, kt, dt);
            test_format_r8(ref, kt, dt);
            test_format_r8_spans(ref, kt, dt);
        }
    }
    return 0;
}
