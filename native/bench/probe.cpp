// libpanopt_probe: the machine's ceilings for the JMH suite (bench/), behind a tiny C ABI that the
// Java side calls through FFM. Peak FMA comes from peak.cpp (shared with panopt_bench); the read
// bandwidth probe streams a buffer much larger than the last-level cache with AVX2 loads; the hand-off
// probe times a cache line passed between two threads (where the OS has placed them, see below).
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <sys/mman.h>

double measure_peak_gflops(int threads);                        // peak.cpp
double measure_peak_int8_gops(int threads, const char** which); // peak.cpp
double measure_peak_bf16_gflops(int threads);                     // peak.cpp

#define PROBE_API extern "C" __attribute__((visibility("default")))

namespace {

__attribute__((target("avx2"))) uint64_t sum_avx2(const uint8_t* p, size_t n) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i + 128 <= n; i += 128) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i*)(p + i)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i*)(p + i + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256((const __m256i*)(p + i + 64)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256((const __m256i*)(p + i + 96)));
    }
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    uint64_t out[4];
    _mm256_storeu_si256((__m256i*)out, s);
    return out[0] + out[1] + out[2] + out[3];
}

uint64_t sum_scalar(const uint8_t* p, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t v;
        std::memcpy(&v, p + i, 8);
        s += v;
    }
    return s;
}

} // namespace

// Peak f32 FMA rate of `threads` threads in GFLOP/s (0 without AVX2+FMA).
PROBE_API double panopt_probe_peak_gflops(int32_t threads) { return measure_peak_gflops(threads); }

// Peak int8 dot-product rate of `threads` threads in GOP/s (AMX where usable, else VNNI, else AVX2; 0 without AVX2).
PROBE_API double panopt_probe_peak_int8_gops(int32_t threads) { return measure_peak_int8_gops(threads, nullptr); }

// Peak bf16 dot-product rate of `threads` threads in GFLOP/s (AVX512_BF16's vdpbf16ps; 0 without it).
PROBE_API double panopt_probe_peak_bf16_gflops(int32_t threads) { return measure_peak_bf16_gflops(threads); }

// Best-of-`reps` read bandwidth in GB/s (1e9 B/s) of `threads` threads each streaming its own
// slice of one `bytes`-byte buffer (first touched by the thread that reads it).
PROBE_API double panopt_probe_read_gbps(int32_t threads, int64_t bytes, int32_t reps) {
    if (threads < 1 || bytes < (1 << 20) || reps < 1) return 0;
    // On huge pages where the kernel gives them, as Panopt's weight arena (src/cpu/weight_arena.cpp)
    // asks for its weights: the floor is the bandwidth of the pages the weights live on (on 4 KB
    // pages, 256 MB read 5-10% slower here, 1 GB about 2%).
    constexpr size_t kHuge = size_t(2) << 20;
    const size_t slice = (size_t(bytes) / threads) & ~size_t(4095);
    const size_t size = (slice * threads + kHuge - 1) / kHuge * kHuge;
    uint8_t* buf = static_cast<uint8_t*>(std::aligned_alloc(kHuge, size));
    if (!buf) return 0;
#ifdef MADV_HUGEPAGE
    madvise(buf, size, MADV_HUGEPAGE);
#endif
    const bool avx2 = __builtin_cpu_supports("avx2");
    std::vector<std::thread> init;
    for (int t = 0; t < threads; t++)
        init.emplace_back([=] { std::memset(buf + t * slice, t + 1, slice); });
    for (auto& t : init) t.join();
    volatile uint64_t sink = 0;
    double best = 0;
    for (int r = 0; r < reps + 1; r++) { // first pass warms the TLB / page tables
        auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> ts;
        for (int t = 0; t < threads; t++)
            ts.emplace_back([&, t] {
                const uint8_t* p = buf + t * slice;
                sink = sink + (avx2 ? sum_avx2(p, slice) : sum_scalar(p, slice));
            });
        for (auto& t : ts) t.join();
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (r > 0) best = std::max(best, double(slice) * threads / s / 1e9);
    }
    std::free(buf);
    return best;
}

// One-way latency in ns of a cache line handed back and forth between two threads (a release store
// answered by the other thread's store), the median of `rounds` batches of 1000 round trips. Where
// the OS has placed the two threads shows in it: on the project's Zen 4 VMs ~20-50 ns when the two
// vCPUs share an L3, ~120-350 ns when they do not, and then two threads read memory through two
// paths (the suite's 2-thread read bandwidth ~30-34 GB/s against ~40-54; bench/RESULTS.md).
PROBE_API double panopt_probe_handoff_ns(int32_t rounds) {
    if (rounds < 1) return 0;
    constexpr int kTrips = 1000;
    alignas(128) static std::atomic<int64_t> line{0}; // one caller at a time (the suite's trials run serially)
    line.store(0);
    std::vector<double> ns;
    std::thread other([&] {
        for (int64_t i = 0; i < (int64_t)rounds * kTrips; i++) {
            while (line.load(std::memory_order_acquire) != 2 * i + 1) _mm_pause();
            line.store(2 * i + 2, std::memory_order_release);
        }
    });
    for (int r = 0; r < rounds; r++) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int64_t i = (int64_t)r * kTrips; i < (int64_t)(r + 1) * kTrips; i++) {
            line.store(2 * i + 1, std::memory_order_release);
            while (line.load(std::memory_order_acquire) != 2 * i + 2) _mm_pause();
        }
        ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / (2.0 * kTrips));
    }
    other.join();
    std::sort(ns.begin(), ns.end());
    return ns[ns.size() / 2];
}
