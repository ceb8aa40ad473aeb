// Peak f32 FMA probe: the floor of compute-bound work (prefill) is flops / this rate.
// Each thread runs 12 independent FMA chains on registers (enough to cover FMA latency x ports),
// so the loop is bound by FMA throughput only. Target attributes keep the ISA code local.
// Other architectures have no probe yet: every rate reads 0 ("unknown") there.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "cpu/amx_os.h"

namespace {

constexpr int kChains = 12;
constexpr long kIters = 20'000'000;

// Best of 3 runs of `run(kIters)` on each of `threads` threads: ops per second / 1e9, where one
// thread's run does ops_per_iter operations per iteration.
template <class Run> double best_rate(int threads, double ops_per_iter, Run run, long iters = kIters) {
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        std::atomic<double> sink{0};
        auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> ts;
        for (int t = 0; t < threads; t++) ts.emplace_back([&] { sink = sink + (double)run(iters); });
        for (auto& t : ts) t.join();
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double rate = ops_per_iter * iters * threads / s / 1e9;
        if (rate > best) best = rate;
    }
    return best;
}

// The kChains 16-lane sums folded into one value the caller keeps (so the loop is not dead code).
__attribute__((target("avx512f"))) inline float fold16(const __m512* acc) {
    __m512 s = acc[0];
    for (int i = 1; i < kChains; i++) s = _mm512_add_ps(s, acc[i]);
    float out[16];
    _mm512_storeu_ps(out, s);
    return out[0] + out[15];
}

__attribute__((target("avx512f"))) float run_avx512(long iters) {
    __m512 acc[kChains];
    for (int i = 0; i < kChains; i++) acc[i] = _mm512_set1_ps(0.001f * i);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < kChains; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    return fold16(acc);
}

__attribute__((target("avx2,fma"))) float run_avx2(long iters) {
    __m256 acc[kChains];
    for (int i = 0; i < kChains; i++) acc[i] = _mm256_set1_ps(0.001f * i);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < kChains; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    float out[8];
    __m256 s = acc[0];
    for (int i = 1; i < kChains; i++) s = _mm256_add_ps(s, acc[i]);
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}

} // namespace

// GFLOP/s of `threads` threads running FMAs of the widest vector the CPU has (0 if no AVX2).
double measure_peak_gflops(int threads) {
    const bool z = __builtin_cpu_supports("avx512f");
    if (!z && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return 0;
    const int lanes = z ? 16 : 8;
    return best_rate(threads, 2.0 * lanes * kChains, [z](long n) { return z ? run_avx512(n) : run_avx2(n); });
}

// Peak int8 dot-product rate: the ceiling of the quantized prefill GEMM, in GOP/s (a multiply and
// an add per int8 pair). With AMX-INT8 one tdpbssd does 16 x 16 x 64 s8 x s8 products into a tile
// of int32 sums (the kernel level AMX's prompts); with AVX512-VNNI one vpdpbusd does 64 u8 x s8
// products into 16 int32 sums; with AVX2 the same 32 products take vpmaddubsw + vpmaddwd (+ vpaddd
// into the sum), which is what the kernels issue.
namespace {

constexpr int kTileChains = 4; // C tiles 0-3, each += A (tile 4) x B (tile 5): independent chains

__attribute__((target("amx-tile,amx-int8"))) int run_amx(long iters) {
    panopt::TileConfig cfg{};
    cfg.palette = 1;
    for (int t = 0; t < 6; t++) cfg.rows[t] = 16, cfg.colsb[t] = 64;
    alignas(64) int8_t ab[16 * 64];
    for (int i = 0; i < 16 * 64; i++) ab[i] = (int8_t)(i % 7 - 3);
    _tile_loadconfig(&cfg);
    __asm__ volatile("" ::: "memory"); // GCC's _tile_loadd declares no memory read: ab's stores first
    _tile_loadd(4, ab, 64);
    _tile_loadd(5, ab, 64);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (long it = 0; it < iters; it++) {
        _tile_dpbssd(0, 4, 5);
        _tile_dpbssd(1, 4, 5);
        _tile_dpbssd(2, 4, 5);
        _tile_dpbssd(3, 4, 5);
    }
    alignas(64) int out[256];
    _tile_stored(0, out, 64);
    _tile_release();
    return out[0] + out[255];
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) int run_vnni512(long iters) {
    __m512i acc[kChains];
    for (int i = 0; i < kChains; i++) acc[i] = _mm512_set1_epi32(i);
    const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < kChains; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
    __m512i s = acc[0];
    for (int i = 1; i < kChains; i++) s = _mm512_add_epi32(s, acc[i]);
    int out[16];
    _mm512_storeu_si512(out, s);
    return out[0] + out[15];
}

// The AVX2 loop needs care: with loop-invariant operands the compiler hoists vpmaddubsw/vpmaddwd
// out of the loop and only the vpaddd remain (an earlier version of this probe reported that
// rate, ~3x the real one). So x is made opaque each iteration (an empty asm that "changes" it)
// and each chain has its own b, so every step issues all three instructions.
constexpr int kInt8Chains = 6; // 6 acc + 6 b + x + ones stay in the 16 ymm registers

__attribute__((target("avx2"))) int run_int8_avx2(long iters) {
    __m256i acc[kInt8Chains], b[kInt8Chains];
    for (int i = 0; i < kInt8Chains; i++) acc[i] = _mm256_set1_epi32(i), b[i] = _mm256_set1_epi8((char)(i + 1)); // non-zero: a zero b folds away
    __m256i x = _mm256_set1_epi8(3);
    const __m256i ones = _mm256_set1_epi16(1);
    for (long it = 0; it < iters; it++) {
        __asm__ volatile("" : "+x"(x));
        for (int i = 0; i < kInt8Chains; i++)
            acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(x, b[i]), ones));
    }
    __m256i s = acc[0];
    for (int i = 1; i < kInt8Chains; i++) s = _mm256_add_epi32(s, acc[i]);
    int out[8];
    _mm256_storeu_si256((__m256i*)out, s);
    return out[0] + out[7];
}

} // namespace

// GOP/s of `threads` threads (0 without AVX2); *which = "amx", "avx512_vnni" or "avx2" when not NULL.
double measure_peak_int8_gops(int threads, const char** which) {
    if (panopt::amx_int8_usable()) {
        if (which) *which = "amx";
        return best_rate(threads, 2.0 * 16 * 16 * 64 * kTileChains, [](long n) { return run_amx(n); }, kIters / 16);
    }
    const bool vnni = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw");
    if (!vnni && !__builtin_cpu_supports("avx2")) return 0;
    if (which) *which = vnni ? "avx512_vnni" : "avx2";
    const int macs = vnni ? 64 : 32; // u8 x s8 products per instruction chain step
    return best_rate(threads, 2.0 * macs * (vnni ? kChains : kInt8Chains),
                     [vnni](long n) { return vnni ? run_vnni512(n) : run_int8_avx2(n); });
}

// Peak bf16 dot-product rate (AVX512_BF16): the ceiling of a prompt with a session's compute type
// BF16, in GFLOP/s (a multiply and an add per bf16 pair). One vdpbf16ps adds 2 products of bf16
// pairs to each of 16 f32 sums: 32 products, twice the FMA's 16. 0 without AVX512_BF16.
namespace {

__attribute__((target("avx512f,avx512bf16"))) float run_bf16(long iters) {
    __m512 acc[kChains];
    for (int i = 0; i < kChains; i++) acc[i] = _mm512_set1_ps(0.001f * i);
    const __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f803f80), b = (__m512bh)_mm512_set1_epi32(0x33d633d6); // 1.0, 1e-7
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < kChains; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
    return fold16(acc);
}

} // namespace

double measure_peak_bf16_gflops(int threads) {
    if (!__builtin_cpu_supports("avx512bf16")) return 0;
    return best_rate(threads, 2.0 * 32 * kChains, [](long n) { return run_bf16(n); });
}

#else // not x86

double measure_peak_gflops(int) { return 0; }
double measure_peak_int8_gops(int, const char**) { return 0; }
double measure_peak_bf16_gflops(int) { return 0; }

#endif
