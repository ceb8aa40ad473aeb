// Every vector kernel against the scalar reference on random, never-zero data and odd sizes.
#include <random>

#include "cpu/buffer.h"
#include "cpu/kernels.h"
#include "cpu/linear.h"
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
    std::vector<uint8_t> w((size_t)(n * (dt == DT_F32 ? 4 : 2)) + 64);
    for (int64_t i = 0; i < n; i++) {
        if (dt == DT_F32) {
            float f = rnd_nz();
            std::memcpy(&w[4 * i], &f, 4);
        } else if (dt == DT_F16) { // exponent 12..15: |x| in [2^-3, 2)
            uint16_t h = (uint16_t)(((rng() & 1) << 15) | ((12 + rng() % 4) << 10) | (rng() & 0x3ff));
            std::memcpy(&w[2 * i], &h, 2);
        } else { // bf16 exponent 124..127
            uint16_t h = (uint16_t)(((rng() & 1) << 15) | ((124 + rng() % 4) << 7) | (rng() & 0x7f));
            std::memcpy(&w[2 * i], &h, 2);
        }
    }
    return w;
}

const char* dt_name(int dt) { return dt == DT_F32 ? "f32" : dt == DT_F16 ? "f16" : "bf16"; }

void test_linear(const Kernels* ref, const Kernels* kt) {
    const int64_t Ms[] = {1, 2, 3, 5, 17, 33, 128};
    const int64_t Ns[] = {1, 3, 7, 15, 33, 65, 257};
    const int64_t Ks[] = {1, 3, 15, 16, 17, 31, 33, 65, 100, 257};
    FloatBuf s1, s2;
    int fails = 0, count = 0;
    for (int dt = 0; dt < 3; dt++)
        for (int64_t M : Ms)
            for (int64_t N : Ns)
                for (int64_t K : Ks) {
                    // odd byte offset of the weights (elements stay element-aligned): +1 element
                    auto wb = rnd_weights(dt, N * K + 1);
                    const void* w = wb.data() + (dt == DT_F32 ? 4 : 2);
                    auto bb = rnd_weights(dt, N);
                    std::vector<float> x((size_t)(M * K)), y1((size_t)(M * N)), y2((size_t)(M * N)), ab((size_t)(M * N));
                    for (auto& v : x) v = rnd_nz();
                    bool with_bias = (M + N + K) % 2 == 0;
                    LinearArgs a{x.data(), K, w, dt, with_bias ? (const void*)bb.data() : nullptr, dt, y1.data(), N, M, N, K};
                    ref->linear_range(&a, 0, M, 0, N, s1.reserve(ref->linear_scratch_floats(K)));
                    a.y = y2.data();
                    kt->linear_range(&a, 0, M, 0, N, s2.reserve(kt->linear_scratch_floats(K)));
                    // tolerance relative to sum |x w| (f32 accumulation in a different order)
                    std::vector<float> wf((size_t)(N * K));
                    ref->to_f32(dt, w, wf.data(), N * K);
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

void test_linear_threaded(const Kernels* kt) {
    // The multithreaded driver: N split, and M split for small N.
    ThreadPool pool(2);
    std::vector<FloatBuf> scratch(2);
    FloatBuf s1;
    const Kernels* ref = kernels_scalar();
    int64_t shapes[][3] = {{128, 1000, 64}, {64, 3, 40}, {1, 515, 33}, {40, 2, 300}};
    for (auto& sh : shapes) {
        int64_t M = sh[0], N = sh[1], K = sh[2];
        auto wb = rnd_weights(DT_F16, N * K);
        std::vector<float> x((size_t)(M * K)), y1((size_t)(M * N)), y2((size_t)(M * N));
        for (auto& v : x) v = rnd_nz();
        LinearArgs a{x.data(), K, wb.data(), DT_F16, nullptr, 0, y1.data(), N, M, N, K};
        ref->linear_range(&a, 0, M, 0, N, s1.reserve(ref->linear_scratch_floats(K)));
        a.y = y2.data();
        linear(kt, pool, scratch, a);
        t::close(y2.data(), y1.data(), M * N, 1e-4, 1e-4,
                 std::string("threaded linear ") + kt->name + " " + std::to_string(M) + "x" + std::to_string(N));
    }
}

void test_small(const Kernels* ref, const Kernels* kt) {
    const int64_t sizes[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 64, 65, 100, 257, 768};
    for (int64_t n : sizes) {
        std::vector<float> x((size_t)n), y((size_t)n), r1((size_t)n), r2((size_t)n);
        for (auto& v : x) v = rnd_nz() * 3 + 0.5f;
        for (auto& v : y) v = rnd_nz();
        // dtype conversion (exact)
        for (int dt = 0; dt < 3; dt++) {
            auto w = rnd_weights(dt, n);
            ref->to_f32(dt, w.data(), r1.data(), n);
            kt->to_f32(dt, w.data(), r2.data(), n);
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
    kernels_scalar()->to_f32(DT_F16, h.data(), r1.data(), 65536);
    kt->to_f32(DT_F16, h.data(), r2.data(), 65536);
    int bad = 0;
    for (int i = 0; i < 65536; i++) {
        bool same = std::isnan(r1[i]) ? std::isnan(r2[i]) : std::memcmp(&r1[i], &r2[i], 4) == 0;
        if (!same) bad++;
    }
    T_CHECK(bad == 0, "%s: %d f16 patterns convert differently", kt->name, bad);
}

} // namespace

int run_kernel_tests() {
    std::printf("kernels: cpu best isa %d\n", cpu_best_isa());
    const Kernels* ref = kernels_scalar();
    T_CHECK(f16_to_f32(0x3c00) == 1.0f && f16_to_f32(0xc000) == -2.0f && f16_to_f32(0x7bff) == 65504.0f &&
                f16_to_f32(0x0001) == 5.9604644775390625e-8f && std::isinf(f16_to_f32(0x7c00)) &&
                std::isnan(f16_to_f32(0x7e00)) && f16_to_f32(0x8000) == 0.0f,
            "scalar f16 conversion");
    test_small(ref, ref);
    test_linear_threaded(ref);
    for (int isa : {ISA_AVX2, ISA_AVX512}) {
        const Kernels* kt = kernels_for_isa(isa);
        if (!kt) {
            std::printf("  SKIP isa %d: not supported by this CPU\n", isa);
            continue;
        }
        std::printf("  testing %s\n", kt->name);
        test_f16_all(kt);
        test_small(ref, kt);
        test_linear(ref, kt);
        test_linear_threaded(kt);
    }
    return 0;
}
