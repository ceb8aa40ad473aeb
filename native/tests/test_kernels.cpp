// Every vector kernel against the scalar reference on random, never-zero data and odd sizes.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <thread>

#include "cpu/buffer.h"
#include "cpu/kernels.h"
#include "cpu/backend_cpu.h"
#include "dtype.h"
#include "panopt.h"
#include "test_util.h"

using namespace panopt;

namespace {

std::mt19937 rng(12345);

float rnd_nz() { // uniform in +-[0.1, 1]
    std::uniform_real_distribution<float> u(0.1f, 1.0f);
    return (rng() & 1) ? u(rng) : -u(rng);
}

// Random weights of a dtype, never zero: raw storage + f32 values for reporting.
std::vector<uint8_t> rnd_weights(int dt, int64_t n) {
    std::vector<uint8_t> w((size_t)(n * kBlockBytes[dt]) + 64);
    for (int64_t i = 0; i < n; i++) {
        if (dt == PANOPT_DTYPE_F32) {
            float f = rnd_nz();
            std::memcpy(&w[4 * i], &f, 4);
        } else if (dt == PANOPT_DTYPE_F16) { // exponent 12..15: |x| in [2^-3, 2)
            uint16_t h = (uint16_t)(((rng() & 1) << 15) | ((12 + rng() % 4) << 10) | (rng() & 0x3ff));
            std::memcpy(&w[2 * i], &h, 2);
        } else { // bf16 exponent 124..127
            uint16_t h = (uint16_t)(((rng() & 1) << 15) | ((124 + rng() % 4) << 7) | (rng() & 0x7f));
            std::memcpy(&w[2 * i], &h, 2);
        }
    }
    return w;
}

const char* dt_name(int dt) { return type_traits(dt)->name; }

void test_linear(const Kernels* ref, const Kernels* kt) {
    const int64_t Ms[] = {1, 2, 3, 5, 17, 33, 128};
    const int64_t Ns[] = {1, 3, 7, 15, 33, 65, 257};
    const int64_t Ks[] = {1, 3, 15, 16, 17, 31, 33, 65, 100, 257};
    std::vector<std::array<int64_t, 3>> shapes; // M, N, K
    for (int64_t M : Ms)
        for (int64_t N : Ns)
            for (int64_t K : Ks) shapes.push_back({M, N, K});
    // long rows: several of a kernel's K blocks or W panels (NEON: 512 KB of f32 rows) per product
    for (const auto& s : {std::array<int64_t, 3>{1, 37, 3001}, {6, 301, 1029}, {9, 77, 4099}}) shapes.push_back(s);
    FloatBuf s1, s2;
    int fails = 0, count = 0;
    for (int dt = 0; dt < PANOPT_DTYPE_COUNT; dt++)
        if (kBlockElems[dt] == 1) // the float types; the block formats have their own tests (test_quant.cpp)
        for (const auto& shape : shapes) {
            const int64_t M = shape[0], N = shape[1], K = shape[2];
            // odd byte offset of the weights (elements stay element-aligned): +1 element
            auto wb = rnd_weights(dt, N * K + 1);
            const void* w = wb.data() + kBlockBytes[dt];
            auto bb = rnd_weights(dt, N);
            std::vector<float> x((size_t)(M * K)), y1((size_t)(M * N)), y2((size_t)(M * N)), ab((size_t)(M * N));
            for (auto& v : x) v = rnd_nz();
            bool with_bias = (M + N + K) % 2 == 0;
            LinearArgs a{x.data(), K, nullptr, 0, w, dt, with_bias ? (const void*)bb.data() : nullptr, dt, y1.data(), N, M, N, K};
            ref->type[dt].linear_range(&a, 0, M, 0, N, s1.reserve(ref->linear_scratch_floats(K)));
            a.y = y2.data();
            kt->type[dt].linear_range(&a, 0, M, 0, N, s2.reserve(kt->linear_scratch_floats(K)));
            // tolerance relative to sum |x w| (f32 accumulation in a different order)
            std::vector<float> wf((size_t)(N * K));
            ref->type[dt].to_f32(w, wf.data(), N * K);
            double worst = 0;
            for (int64_t m = 0; m < M; m++)
                for (int64_t n = 0; n < N; n++) {
                    double mag = 1e-3;
                    for (int64_t k = 0; k < K; k++) mag += std::fabs(x[m * K + k] * wf[n * K + k]);
                    double err = std::fabs((double)y1[m * N + n] - y2[m * N + n]) / mag;
                    if (!(err <= worst)) worst = err;
                }
            count++;
            if (!(worst < 2e-6)) {
                if (fails++ < 10)
                    std::printf("FAIL linear %s %s M=%lld N=%lld K=%lld rel err %.3g\n", kt->name, dt_name(dt),
                                (long long)M, (long long)N, (long long)K, worst);
            }
        }
    t::g_checks++;
    if (fails) t::g_failures++;
    std::printf("  linear %s: %d shapes x dtypes, %d failures (tolerance 2e-6 * sum|x*w|)\n", kt->name, count, fails);
}

// bf16 products (a table's linear_range_bf16, where it has one): the activation conversion gives
// f32_to_bf16's bits; the products match linear_range_bf16_ref to f32 summation order (2e-6 of
// sum |x~ w~|, x~ w~ the bf16-rounded values), and the exact f32 product within the bf16 bound:
// each of x and w is rounded with relative error <= u = 2^-8, so |y~ - y| <= (2u + u^2) sum |x w|
// (+ the same f32 slack).
void test_linear_bf16(const Kernels* kt) {
    const TypeKernels& bt = kt->type[PANOPT_DTYPE_BF16];
    if (!bt.linear_range_bf16) return;
    // conversion: random values (some scaled to denormals/overflow), halfway cases, NaN/inf
    std::vector<float> xs(4099);
    for (size_t i = 0; i < xs.size(); i++) xs[i] = rnd_nz() * std::ldexp(1.0f, (int)(i % 300) - 150);
    const uint32_t special[] = {0x3f808000u, 0x3f818000u, 0x3f80ffffu, 0x7f7fffffu, 0x7f800000u, 0xff800000u,
                                0x7fc00001u, 0x7f800001u, 0x00008000u, 0x80018000u, 0x00000000u, 0x80000000u};
    for (size_t i = 0; i < sizeof special / 4; i++) std::memcpy(&xs[i * 7], &special[i], 4);
    std::vector<uint16_t> hb(xs.size());
    bt.quantize_row(xs.data(), hb.data(), (int64_t)xs.size());
    int bad = 0;
    for (size_t i = 0; i < xs.size(); i++) bad += hb[i] != f32_to_bf16(xs[i]);
    T_CHECK(bad == 0, "%s: bf16 conversion differs from f32_to_bf16 in %d of %zu", kt->name, bad, xs.size());

    const int64_t Ms[] = {1, 2, 5, 12, 13, 37};
    const int64_t Ns[] = {1, 16, 31, 33, 70};
    const int64_t Ks[] = {1, 2, 7, 31, 64, 255, 513, 1030};
    const double u = 1.0 / 256;
    FloatBuf s1, s2;
    int fails = 0, count = 0;
    double worst_ref = 0, worst_f32 = 0;
    for (int dt : {PANOPT_DTYPE_F32, PANOPT_DTYPE_F16, PANOPT_DTYPE_BF16})
        for (int64_t M : Ms)
            for (int64_t N : Ns)
                for (int64_t K : Ks) {
                    auto wb = rnd_weights(dt, N * K + 1);
                    const void* w = wb.data() + kBlockBytes[dt]; // odd byte offset, as test_linear
                    auto bb = rnd_weights(PANOPT_DTYPE_F16, N);
                    const int64_t K2 = (K + 1) / 2 * 2;
                    std::vector<float> x((size_t)(M * K)), y0((size_t)(M * N)), y1((size_t)(M * N)), y2((size_t)(M * N));
                    for (auto& v : x) v = rnd_nz();
                    std::vector<uint16_t> xq((size_t)(M * K2), 0x7fc0); // padding must be set by the caller
                    for (int64_t m = 0; m < M; m++) {
                        bt.quantize_row(x.data() + m * K, xq.data() + m * K2, K);
                        if (K2 > K) xq[(size_t)(m * K2 + K)] = 0;
                    }
                    const bool with_bias = (M + N + K) % 2 == 1;
                    LinearArgs a{x.data(), K, xq.data(), K2 * 2, w, dt, with_bias ? (const void*)bb.data() : nullptr,
                                 PANOPT_DTYPE_F16, y0.data(), N, M, N, K};
                    kernels_scalar()->type[dt].linear_range(&a, 0, M, 0, N, s1.reserve(kernels_scalar()->linear_scratch_floats(K)));
                    a.y = y1.data();
                    linear_range_bf16_ref(&a, 0, M, 0, N, s1.reserve(K + 16));
                    a.y = y2.data();
                    kt->type[dt].linear_range_bf16(&a, 0, M, 0, N, s2.reserve(kt->linear_scratch_floats(K)));
                    std::vector<float> wf((size_t)(N * K));
                    kernels_scalar()->type[dt].to_f32(w, wf.data(), N * K);
                    double wr = 0, wf32 = 0;
                    for (int64_t m = 0; m < M; m++)
                        for (int64_t n = 0; n < N; n++) {
                            double mag = 1e-3, magr = 1e-3;
                            for (int64_t k = 0; k < K; k++) {
                                mag += std::fabs(x[m * K + k] * wf[n * K + k]);
                                magr += std::fabs(bf16_to_f32(xq[m * K2 + k]) * bf16_to_f32(f32_to_bf16(wf[n * K + k])));
                            }
                            const double er = std::fabs((double)y2[m * N + n] - y1[m * N + n]) / magr;
                            const double ef = std::fabs((double)y2[m * N + n] - y0[m * N + n]) / mag;
                            if (!(er <= wr)) wr = er;
                            if (!(ef <= wf32)) wf32 = ef;
                        }
                    worst_ref = std::max(worst_ref, wr);
                    worst_f32 = std::max(worst_f32, wf32);
                    count++;
                    if (!(wr < 2e-6) || !(wf32 < 2 * u + u * u + 2e-6)) {
                        if (fails++ < 10)
                            std::printf("FAIL linear_bf16 %s %s M=%lld N=%lld K=%lld: vs reference %.3g, vs f32 %.3g\n",
                                        kt->name, dt_name(dt), (long long)M, (long long)N, (long long)K, wr, wf32);
                    }
                }
    t::g_checks++;
    if (fails) t::g_failures++;
    std::printf("  linear_bf16 %s: %d shapes x dtypes, %d failures (worst vs reference %.2g of sum|x~w~|, "
                "vs f32 %.2g of sum|xw|, bound %.2g)\n",
                kt->name, count, fails, worst_ref, worst_f32, 2 * u + u * u + 2e-6);
}

// An executor of backend be over a one-layer stub model m (for its linear op alone).
std::unique_ptr<Executor> stub_executor(CpuBackend& be, panopt_model& m) {
    m.cfg.num_hidden_layers = 1;
    m.cfg.num_attention_heads = 1;
    m.cfg.hidden_size = 8;
    return be.new_executor(m, 1, 1, PANOPT_DTYPE_F32);
}

void test_linear_threaded(int isa) {
    // The CPU backend's linear op on a 2-thread pool: N split, and M split for small N.
    const Kernels* ref = kernels_scalar();
    CpuBackend be(kernels_for_isa(isa), 2);
    panopt_model m;
    auto ex = stub_executor(be, m);
    FloatBuf s1;
    int64_t shapes[][3] = {{128, 1000, 64}, {64, 3, 40}, {1, 515, 33}, {40, 2, 300}};
    for (auto& sh : shapes) {
        int64_t M = sh[0], N = sh[1], K = sh[2];
        auto wb = rnd_weights(PANOPT_DTYPE_F16, N * K);
        std::vector<float> x((size_t)(M * K)), y1((size_t)(M * N)), y2((size_t)(M * N));
        for (auto& v : x) v = rnd_nz();
        LinearArgs a{x.data(), K, nullptr, 0, wb.data(), PANOPT_DTYPE_F16, nullptr, 0, y1.data(), N, M, N, K};
        ref->type[PANOPT_DTYPE_F16].linear_range(&a, 0, M, 0, N, s1.reserve(ref->linear_scratch_floats(K)));
        TensorRef w;
        w.data = wb.data();
        w.dtype = PANOPT_DTYPE_F16;
        w.rows = N;
        w.cols = K;
        w.row_bytes = row_bytes(PANOPT_DTYPE_F16, K);
        ex->linear(x.data(), M, K, w, nullptr, y2.data(), N);
        t::close(y2.data(), y1.data(), M * N, 1e-4, 1e-4,
                 std::string("threaded linear ") + be.kt->name + " " + std::to_string(M) + "x" + std::to_string(N));
    }
}

// Several products of one X (the attention's q, k, v) through linear_multi: the values of one
// linear() call per product, bit for bit — the same weight type (X converted once, one region over
// all outputs) and mixed types (each on its own), in prompt and decode passes, with and without bias.
void test_linear_multi(int isa) {
    CpuBackend be(kernels_for_isa(isa), 2);
    panopt_model m;
    auto ex = stub_executor(be, m);
    const int64_t K = 96, Ns[3] = {40, 24, 136};
    const int mixes[][3] = {{PANOPT_DTYPE_Q8_0, PANOPT_DTYPE_Q8_0, PANOPT_DTYPE_Q8_0},
                            {PANOPT_DTYPE_Q4_0, PANOPT_DTYPE_Q4_0, PANOPT_DTYPE_Q4_0},
                            {PANOPT_DTYPE_F16, PANOPT_DTYPE_F16, PANOPT_DTYPE_F16},
                            {PANOPT_DTYPE_Q8_0, PANOPT_DTYPE_F16, PANOPT_DTYPE_Q4_K}};
    int bad = 0, runs = 0;
    for (const auto& mix : mixes)
        for (int64_t M : {1, 3, 37}) {
            std::vector<std::vector<uint8_t>> wb(3);
            std::vector<std::vector<float>> bias(3), y1(3), y2(3);
            TensorRef w[3], b[3];
            Executor::LinearOut outs[3];
            std::vector<float> x((size_t)(M * 256));
            for (auto& v : x) v = rnd_nz();
            const int64_t k = mix[2] == PANOPT_DTYPE_Q4_K ? 256 : K; // a K-quant's super-block
            for (int i = 0; i < 3; i++) {
                std::vector<float> wf((size_t)(Ns[i] * k));
                for (auto& v : wf) v = rnd_nz();
                wb[i].resize((size_t)row_bytes(mix[i], Ns[i] * k));
                type_traits(mix[i])->from_f32(wf.data(), wb[i].data(), Ns[i] * k);
                w[i].data = wb[i].data();
                w[i].dtype = mix[i];
                w[i].rows = Ns[i];
                w[i].cols = k;
                w[i].row_bytes = row_bytes(mix[i], k);
                bias[i].resize((size_t)Ns[i]);
                for (auto& v : bias[i]) v = rnd_nz();
                b[i].data = bias[i].data();
                b[i].dtype = PANOPT_DTYPE_F32;
                y1[i].assign((size_t)(M * Ns[i]), 7.0f);
                y2[i].assign((size_t)(M * Ns[i]), 5.0f);
                outs[i] = {&w[i], i == 1 ? nullptr : &b[i], y2[i].data(), Ns[i]};
            }
            ex->set_positions_per_row(M); // M positions of one row: a prompt pass from M = 3
            for (int i = 0; i < 3; i++) ex->linear(x.data(), M, k, w[i], outs[i].b, y1[i].data(), Ns[i]);
            ex->linear_multi(x.data(), M, k, outs, 3);
            for (int i = 0; i < 3; i++) bad += std::memcmp(y1[i].data(), y2[i].data(), y1[i].size() * sizeof(float)) != 0;
            runs++;
        }
    T_CHECK(bad == 0, "linear_multi %s: %d of %d products differ from linear()'s", be.kt->name, bad, 3 * runs);
}

// The type-traits table: sizes from PANOPT_DTYPE_LIST, exact round trips of the float types,
// round-to-nearest-even on ties, and NaN/inf handling of the reference quantizers.
void test_type_traits() {
    for (int dt = 0; dt < PANOPT_DTYPE_COUNT; dt++) {
        const TypeTraits* tt = type_traits(dt);
        T_CHECK(tt && tt->block_elems == kBlockElems[dt] && tt->block_bytes == kBlockBytes[dt], "traits of %d", dt);
        T_CHECK(row_bytes(dt, 3 * tt->block_elems) == 3 * tt->block_bytes, "row_bytes %s", tt->name);
    }
    T_CHECK(!type_traits(-1) && !type_traits(PANOPT_DTYPE_COUNT) && row_bytes(PANOPT_DTYPE_COUNT, 4) == -1, "unknown dtype");
    T_CHECK(std::string(type_traits(PANOPT_DTYPE_F32)->name) == "F32" && std::string(type_traits(PANOPT_DTYPE_BF16)->name) == "BF16",
            "names");
    // every f16 and bf16 pattern survives to_f32 -> from_f32 (NaNs stay NaN)
    for (int dt : {PANOPT_DTYPE_F16, PANOPT_DTYPE_BF16}) {
        const TypeTraits* tt = type_traits(dt);
        std::vector<uint16_t> h(65536), back(65536);
        std::vector<float> f(65536);
        for (int i = 0; i < 65536; i++) h[i] = (uint16_t)i;
        tt->to_f32(h.data(), f.data(), 65536);
        tt->from_f32(f.data(), back.data(), 65536);
        int bad = 0;
        for (int i = 0; i < 65536; i++) {
            if (std::isnan(f[i])) {
                float r;
                tt->to_f32(&back[i], &r, 1);
                bad += !std::isnan(r);
            } else {
                bad += back[i] != h[i];
            }
        }
        T_CHECK(bad == 0, "%s round trip: %d patterns differ", tt->name, bad);
    }
    // ties to even and overflow
    T_CHECK(f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00 && f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02, "f16 ties to even");
    T_CHECK(f32_to_f16(65520.0f) == 0x7c00 && f32_to_f16(65519.0f) == 0x7bff && f32_to_f16(-1e9f) == 0xfc00, "f16 overflow");
    T_CHECK(f32_to_f16(5.9604644775390625e-8f) == 0x0001 && f32_to_f16(2.9802322387695312e-8f) == 0x0000 &&
                f32_to_f16(8.940696716308594e-8f) == 0x0002,
            "f16 subnormal rounding");
    T_CHECK(f32_to_bf16(1.0f + 1.0f / 256) == 0x3f80 && f32_to_bf16(1.0f + 3.0f / 256) == 0x3f82, "bf16 ties to even");
    // random values: from_f32 is the nearest representable value
    for (int i = 0; i < 10000; i++) {
        float x = rnd_nz() * 100;
        float h = f16_to_f32(f32_to_f16(x)), b = bf16_to_f32(f32_to_bf16(x));
        T_CHECK(std::fabs(h - x) <= std::fabs(x) * (1.0f / 2048) && std::fabs(b - x) <= std::fabs(x) * (1.0f / 256),
                "rounding of %g", x);
    }
}

void test_small(const Kernels* ref, const Kernels* kt) {
    const int64_t sizes[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 64, 65, 100, 257, 768};
    for (int64_t n : sizes) {
        std::vector<float> x((size_t)n), y((size_t)n), r1((size_t)n), r2((size_t)n);
        for (auto& v : x) v = rnd_nz() * 3 + 0.5f;
        for (auto& v : y) v = rnd_nz();
        // dtype conversion (exact) of the float types
        for (int dt = 0; dt < PANOPT_DTYPE_COUNT; dt++) {
            if (kBlockElems[dt] != 1) continue;
            auto w = rnd_weights(dt, n);
            ref->type[dt].to_f32(w.data(), r1.data(), n);
            kt->type[dt].to_f32(w.data(), r2.data(), n);
            T_CHECK(std::memcmp(r1.data(), r2.data(), (size_t)n * 4) == 0, "to_f32 %s %s n=%lld", kt->name, dt_name(dt),
                    (long long)n);
            // layernorm with this dtype's affine params; and without affine
            auto b = rnd_weights(dt, n);
            for (int aff = 0; aff < 2; aff++) {
                ref->layernorm(x.data(), r1.data(), n, aff ? w.data() : nullptr, dt, aff ? b.data() : nullptr, dt, 1e-5f);
                kt->layernorm(x.data(), r2.data(), n, aff ? w.data() : nullptr, dt, aff ? b.data() : nullptr, dt, 1e-5f);
                t::close(r2.data(), r1.data(), n, 2e-5, 2e-5, std::string("layernorm ") + kt->name + " " + dt_name(dt));
            }
        }
        // activations
        for (int act = PANOPT_ACT_RELU; act <= PANOPT_ACT_LAPLACE; act++) {
            r1 = x;
            r2 = x;
            for (int64_t i = 0; i < n; i += 3) r1[i] = r2[i] = -r1[i] * 4; // negatives and a wider range
            ref->activation(act, r1.data(), n);
            kt->activation(act, r2.data(), n);
            t::close(r2.data(), r1.data(), n, 1e-6, 1e-6, std::string("activation ") + kt->name + " " + std::to_string(act));
        }
        // dot, axpy, add
        float d1 = ref->dot(x.data(), y.data(), n), d2 = kt->dot(x.data(), y.data(), n);
        double mag = 0;
        for (int64_t i = 0; i < n; i++) mag += std::fabs(x[i] * y[i]);
        T_CHECK(std::fabs(d1 - d2) <= 2e-6 * mag, "dot %s n=%lld %g vs %g", kt->name, (long long)n, d1, d2);
        r1 = y;
        r2 = y;
        ref->axpy(0.37f, x.data(), r1.data(), n);
        kt->axpy(0.37f, x.data(), r2.data(), n);
        t::close(r2.data(), r1.data(), n, 1e-6, 1e-6, std::string("axpy ") + kt->name);
        r1 = y;
        r2 = y;
        ref->add(r1.data(), x.data(), n);
        kt->add(r2.data(), x.data(), n);
        t::close(r2.data(), r1.data(), n, 0, 0, std::string("add ") + kt->name);
        // softmax, with some -inf (masked) entries but never all
        r1 = x;
        for (int64_t i = 0; i < n; i++) r1[i] *= 5;
        for (int64_t i = 1; i < n; i += 4) r1[i] = -INFINITY;
        r2 = r1;
        ref->softmax(r1.data(), n);
        kt->softmax(r2.data(), n);
        t::close(r2.data(), r1.data(), n, 1e-7, 2e-6, std::string("softmax ") + kt->name + " n=" + std::to_string(n));
    }
}

void test_f16_all(const Kernels* kt) {
    // every f16 bit pattern converts like the scalar reference (NaNs compared by NaN-ness)
    std::vector<uint16_t> h(65536);
    for (int i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    std::vector<float> r1(65536), r2(65536);
    kernels_scalar()->type[PANOPT_DTYPE_F16].to_f32(h.data(), r1.data(), 65536);
    kt->type[PANOPT_DTYPE_F16].to_f32(h.data(), r2.data(), 65536);
    int bad = 0;
    for (int i = 0; i < 65536; i++) {
        bool same = std::isnan(r1[i]) ? std::isnan(r2[i]) : std::memcmp(&r1[i], &r2[i], 4) == 0;
        if (!same) bad++;
    }
    T_CHECK(bad == 0, "%s: %d f16 patterns convert differently", kt->name, bad);
    // and f32 -> f16 (the KV cache's store, where the table has it) gives f32_to_f16's bits for
    // every input: random bit patterns (NaNs, infinities, subnormals among them), every f16 value and
    // the midpoints between neighbours (the rounding ties), the overflow edge
    if (!kt->type[PANOPT_DTYPE_F16].quantize_row) return;
    std::vector<float> f;
    for (int i = 0; i < 1 << 20; i++) {
        const uint32_t bits = (uint32_t)rng();
        float v;
        std::memcpy(&v, &bits, 4);
        f.push_back(v);
    }
    for (int i = 0; i < 65535; i++) {
        f.push_back(r1[i]);
        if (!std::isnan(r1[i]) && !std::isnan(r1[i + 1]) && (i & 0x7fff) != 0x7fff) f.push_back(0.5f * (r1[i] + r1[i + 1]));
    }
    for (float v : {65504.0f, 65519.99f, 65520.0f, -65520.0f, 5.96e-8f, 2.98e-8f, 2.99e-8f, 0.0f, -0.0f}) f.push_back(v);
    f.push_back(1.0f); // an odd count: the scalar tail
    std::vector<uint16_t> o1(f.size()), o2(f.size());
    for (size_t i = 0; i < f.size(); i++) o1[i] = f32_to_f16(f[i]);
    kt->type[PANOPT_DTYPE_F16].quantize_row(f.data(), o2.data(), (int64_t)f.size());
    bad = 0;
    for (size_t i = 0; i < f.size(); i++) bad += o1[i] != o2[i];
    T_CHECK(bad == 0, "%s: %d of %zu floats convert to f16 differently from f32_to_f16", kt->name, bad, f.size());
}

// A chunk that throws: the region still completes on the other threads, the exception reaches
// the caller of run() (not std::terminate), and the pool keeps working afterwards.
void test_pool_exceptions() {
    ThreadPool pool(3);
    std::vector<int> seen(30, 0);
    bool caught = false;
    try {
        pool.parallel_for(30, [&](int64_t b, int64_t e, int tid) {
            for (int64_t i = b; i < e; i++) seen[i] = 1;
            if (tid == 1) throw std::runtime_error("chunk 1 failed");
        });
    } catch (const std::runtime_error& e) {
        caught = std::string(e.what()) == "chunk 1 failed";
    }
    int ran = 0;
    for (int v : seen) ran += v;
    T_CHECK(caught && ran == 30, "pool exception: caught %d, chunks ran over %d of 30", (int)caught, ran);
    caught = false;
    try { // thrown by the caller's own chunk
        pool.parallel_for(30, [&](int64_t, int64_t, int tid) {
            if (tid == 0) throw std::runtime_error("chunk 0 failed");
        });
    } catch (const std::runtime_error&) {
        caught = true;
    }
    T_CHECK(caught, "exception of chunk 0 reaches the caller");
    std::atomic<int64_t> sum{0};
    pool.parallel_for(1000, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; i++) sum += i;
    });
    T_CHECK(sum.load() == 999 * 1000 / 2, "pool works after exceptions: %lld", (long long)sum.load());
    // regions from several callers at once queue on the one pool and each completes in full
    std::vector<std::thread> callers;
    std::atomic<int> good{0};
    for (int c = 0; c < 4; c++)
        callers.emplace_back([&] {
            for (int r = 0; r < 200; r++) {
                std::atomic<int64_t> n{0};
                pool.parallel_for(97, [&](int64_t b, int64_t e, int) { n += e - b; });
                good += n.load() == 97;
            }
        });
    for (auto& t : callers) t.join();
    T_CHECK(good.load() == 800, "concurrent regions: %d of 800 complete", good.load());
}

// Slices cover [0, n) exactly once for every n; a thread held up in its first slice has the
// rest of its range run by the others (the region doesn't wait for it beyond that slice).
void test_pool_slices() {
    ThreadPool pool(3);
    for (int64_t n : {1, 2, 3, 5, 17, 24, 97, 1000}) {
        std::vector<std::atomic<int>> hits(n);
        for (auto& h : hits) h.store(0);
        pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
            for (int64_t i = b; i < e; i++) hits[i]++;
        });
        int bad = 0;
        for (auto& h : hits) bad += h.load() != 1;
        T_CHECK(bad == 0, "pool slices over n = %lld: %d indices not run exactly once", (long long)n, bad);
    }
    // 240 items: range 1 is [80, 160) in slices of 10; thread 1 sleeps in its first slice
    std::vector<int> by(240, -1);
    pool.parallel_for(240, [&](int64_t b, int64_t e, int tid) {
        if (tid == 1 && b == 80) std::this_thread::sleep_for(std::chrono::milliseconds(200));
        for (int64_t i = b; i < e; i++) by[i] = tid;
    });
    int others = 0;
    for (int i = 90; i < 160; i++) others += by[i] != 1;
    T_CHECK(by[80] == 1 && others == 70, "slices of a delayed thread: %d of 70 run by others", others);
    // past the workers' spin (1 ms) they sleep; the next region wakes them, each runs its range's first slice
    for (int round = 0; round < 3; round++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        std::fill(by.begin(), by.end(), -1);
        pool.parallel_for(240, [&](int64_t b, int64_t e, int tid) {
            for (int64_t i = b; i < e; i++) by[i] = tid;
        });
        T_CHECK(by[0] == 0 && by[80] == 1 && by[160] == 2, "after a sleep, the first slices ran on %d %d %d", by[0], by[80],
                by[160]);
    }
}

// The pool's timing counts regions of 2+ threads and their time only while it is on, and a
// region's time covers at least its slowest slice.
void test_pool_timing() {
    ThreadPool pool(2);
    auto empty = [&](int64_t n) { pool.parallel_for(n, [](int64_t, int64_t, int) {}); };
    empty(10);
    ThreadPool::Timing t = pool.timing();
    T_CHECK(t.regions == 0 && t.ns == 0, "timing off: %llu regions, %llu ns", (unsigned long long)t.regions,
            (unsigned long long)t.ns);
    pool.set_timing(true);
    empty(10);
    empty(1); // one thread's work: no region
    pool.parallel_for(2, [](int64_t, int64_t, int tid) {
        if (tid == 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    });
    t = pool.timing();
    T_CHECK(t.regions == 2 && t.ns >= 5000000ull, "timing on: %llu regions (2), %llu ns (>= 5 ms)",
            (unsigned long long)t.regions, (unsigned long long)t.ns);
    pool.set_timing(false);
    empty(10);
    T_CHECK(pool.timing().regions == 2, "timing off again: %llu regions (2)", (unsigned long long)pool.timing().regions);
}

} // namespace

int run_kernel_tests() {
    std::printf("kernels: cpu best isa %d\n", cpu_best_isa());
    const Kernels* ref = kernels_scalar();
    T_CHECK(f16_to_f32(0x3c00) == 1.0f && f16_to_f32(0xc000) == -2.0f && f16_to_f32(0x7bff) == 65504.0f &&
                f16_to_f32(0x0001) == 5.9604644775390625e-8f && std::isinf(f16_to_f32(0x7c00)) &&
                std::isnan(f16_to_f32(0x7e00)) && f16_to_f32(0x8000) == 0.0f,
            "scalar f16 conversion");
    test_type_traits();
    test_pool_exceptions();
    test_pool_slices();
    test_pool_timing();
    test_small(ref, ref);
    test_linear_threaded(PANOPT_ISA_SCALAR);
    test_linear_multi(PANOPT_ISA_SCALAR);
    for (int isa : {PANOPT_ISA_AVX2, PANOPT_ISA_AVX512, PANOPT_ISA_AVX512_VNNI, PANOPT_ISA_AMX, PANOPT_ISA_NEON}) {
        const Kernels* kt = kernels_for_isa(isa);
        if (!kt) {
            std::printf("  SKIP isa %d: not supported by this CPU\n", isa);
            continue;
        }
        std::printf("  testing %s\n", kt->name);
        test_f16_all(kt);
        test_small(ref, kt);
        test_linear(ref, kt);
        test_linear_bf16(kt);
        test_linear_threaded(isa);
        test_linear_multi(isa);
    }
    return 0;
}
