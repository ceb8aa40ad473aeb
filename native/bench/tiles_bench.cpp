// panopt_tiles_bench — the AMX prompt kernels (src/cpu/tiles_r8.inc) against the VNNI group kernels,
// one thread, one product of M activation rows by N x K weights in 8-row groups, per block format:
//   vnni      the AVX512_VNNI table's linear_range_r8 (what prompts take without AMX)
//   no tiles  the tile kernel with its tile operations made no-ops: its AVX-512 part alone (the
//             B panel, the activation scales, the per-block f32 steps), which bounds what tiles can
//             gain on a machine whose tile products cost nothing
//   amx       the AMX table's kernel, where the CPU has AMX (and tdpbssd's rate, bench/peak.cpp: the
//             tile products' ceiling)
//   panopt_tiles_bench [--rows M (512)] [--n N (3072)] [--k K (768)] [--reps R (9)]
// Prints the minimum ms of R calls and its GMAC/s (M N K / time). Needs AVX512_VNNI.
#include <immintrin.h>
#include <string.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "cpu/buffer.h"
#include "cpu/kernels.h"
#include "dtype.h"
#include "panopt.h"
#include "quant/rows8.h"
#include "cpu/amx_os.h" // TileConfig

namespace panopt {
namespace {

#include "cpu/rows8_helpers.inc"

struct NoTiles {
    static void config(const void*) {}
    static void release() {}
    static void zero0() {}
    static void zero1() {}
    static void load_a0(const void*, int64_t) {}
    static void load_a1(const void*, int64_t) {}
    static void load_b0(const void*) {}
    static void load_b1(const void*) {}
    static void dp0() {}
    static void dp1() {}
    static void store0(void*) {}
    static void store1(void*) {}
};

#include "cpu/tiles_r8.inc"

} // namespace
} // namespace panopt

double measure_peak_int8_gops(int threads, const char** which); // peak.cpp

using namespace panopt;

int main(int argc, char** argv) {
    int64_t M = 512, N = 3072, K = 768;
    int reps = 9;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--rows") M = atoll(argv[i + 1]);
        else if (k == "--n") N = atoll(argv[i + 1]);
        else if (k == "--k") K = atoll(argv[i + 1]);
        else if (k == "--reps") reps = atoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (cpu_vector_isa() != PANOPT_ISA_AVX512_VNNI || M < 1 || N % 16 || K % 256) {
        std::fprintf(stderr, "needs AVX512_VNNI, --n a multiple of 16 and --k of 256\n");
        return 2;
    }
    TypeKernels none[PANOPT_DTYPE_COUNT] = {};
    tile_kernels<NoTiles>(none);
    const Kernels* vnni = kernels_for_isa(PANOPT_ISA_AVX512_VNNI);
    const Kernels* amx = kernels_for_isa(PANOPT_ISA_AMX);
    if (amx) std::printf("tdpbssd, one thread: %.0f GMAC/s\n", measure_peak_int8_gops(1, nullptr) / 2);
    else std::printf("this CPU has no AMX: vnni and no-tiles columns only\n");
    std::mt19937 rng(1);
    for (int dt : {PANOPT_DTYPE_Q8_0, PANOPT_DTYPE_Q4_0, PANOPT_DTYPE_Q4_1, PANOPT_DTYPE_Q5_0, PANOPT_DTYPE_Q5_1,
                   PANOPT_DTYPE_Q4_K, PANOPT_DTYPE_Q5_K, PANOPT_DTYPE_Q6_K}) {
        std::vector<float> wf((size_t)(N * K)), xf((size_t)(M * K)), y((size_t)(M * N));
        for (auto& f : wf) f = (float)(rng() % 2001) / 1000.0f - 1.0f;
        for (auto& f : xf) f = (float)(rng() % 2001) / 1000.0f - 1.0f;
        const int vt = type_traits(dt)->vec_dot_type;
        const int64_t rb = row_bytes(dt, K), xrb = row_bytes(vt, K);
        std::vector<uint8_t> w((size_t)(N * rb)), w8(w.size()), xq((size_t)(M * xrb));
        for (int64_t n = 0; n < N; n++) type_traits(dt)->from_f32(&wf[n * K], &w[n * rb], K);
        quant::repack_rows8(dt, w.data(), w8.data(), K, 0, N / R8);
        for (int64_t m = 0; m < M; m++) type_traits(vt)->from_f32(&xf[m * K], &xq[m * xrb], K);
        LinearArgs a{nullptr, K, xq.data(), xrb, w8.data(), dt, nullptr, PANOPT_DTYPE_F32, y.data(), N, M, N, K};
        FloatBuf sb;
        float* s = sb.reserve((size_t)std::max(tiles_scratch_floats(K), (amx ? amx : vnni)->linear_scratch_floats(K)));
        auto best_ms = [&](auto fn) {
            double best = 1e30;
            for (int r = 0; r < reps; r++) {
                const auto t0 = std::chrono::steady_clock::now();
                fn(&a, 0, M, 0, N, s);
                best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
            }
            return best;
        };
        const double gmac = (double)M * N * K / 1e6; // per ms
        const double tv = best_ms(vnni->type[dt].linear_range_r8), tn = best_ms(none[dt].linear_range_tiles_r8);
        std::printf("%-5s %lldx%lldx%lld: vnni %7.2f ms (%4.0f GMAC/s)  no tiles %7.2f ms (%4.0f)", type_traits(dt)->name,
                    (long long)M, (long long)N, (long long)K, tv, gmac / tv, tn, gmac / tn);
        if (amx) {
            const double ta = best_ms(amx->type[dt].linear_range_tiles_r8);
            std::printf("  amx %7.2f ms (%4.0f)", ta, gmac / ta);
        }
        std::printf("\n");
    }
    return 0;
}
