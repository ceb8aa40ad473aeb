// panopt_step_bench — the linear products of one decode step of an OPT shape alone, per block format:
// every matrix of the layers (q/k/v, out, fc1, fc2) and the LM head, each its own memory (the weights
// stream from DRAM as in a real step), M activation rows through the best table's linear_range_r8
// on a pool of T threads, each thread a contiguous range of the output's groups (as
// CpuExecutor::linear_multi splits them). No attention, norms or activation quantization: what the
// weights' products cost, against the bytes ÷ bandwidth and multiply-adds ÷ int8 peak floors.
//   panopt_step_bench [--rows M (8)] [--threads T (2)] [--reps R (30)] [--hidden H (768)] [--ffn F (3072)]
//                     [--layers L (12)] [--vocab V (50272)] [--formats q8_0,q4_0,...] [--shared 1]
// --shared 1: every layer the same matrices (the layers' weights from cache, the head still from memory).
// Prints the median and minimum ms of R steps per format.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <strings.h> // strcasecmp
#include <random>
#include <string>
#include <vector>

#include "cpu/buffer.h"
#include "cpu/kernels.h"
#include "cpu/threadpool.h"
#include "dtype.h"
#include "panopt.h"
#include "quant/rows8.h"

using namespace panopt;

namespace {
struct Matrix {
    int64_t N, K;
    const uint8_t* w; // 8-row groups (quant/rows8.h)
};
} // namespace

int main(int argc, char** argv) {
    int64_t M = 8, H = 768, F = 3072, L = 12, V = 50272;
    int threads = 2, reps = 30;
    bool shared = false;
    std::string formats = "q8_0,q4_0,q4_1,q5_0,q5_1,q4_k,q5_k,q6_k";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const char* v = argv[i + 1];
        if (k == "--rows") M = atoll(v);
        else if (k == "--threads") threads = atoi(v);
        else if (k == "--reps") reps = atoi(v);
        else if (k == "--hidden") H = atoll(v);
        else if (k == "--ffn") F = atoll(v);
        else if (k == "--layers") L = atoll(v);
        else if (k == "--vocab") V = atoll(v);
        else if (k == "--formats") formats = v;
        else if (k == "--shared") shared = atoi(v) != 0;
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (M < 1 || threads < 1 || reps < 1 || L < 1 || H % 256 || F % 256 || V % 8) {
        std::fprintf(stderr, "needs positive counts, --hidden and --ffn multiples of 256, --vocab of 8\n");
        return 2;
    }
    const Kernels* kt = kernels_for_isa(cpu_vector_isa());
    std::printf("isa %s, %d threads, %lld rows; hidden %lld, ffn %lld, layers %lld, vocab %lld%s\n", kt->name, threads,
                (long long)M, (long long)H, (long long)F, (long long)L, (long long)V, shared ? ", one layer's matrices shared" : "");
    ThreadPool pool(threads);
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    size_t start = 0;
    while (start < formats.size()) {
        size_t end = formats.find(',', start);
        if (end == std::string::npos) end = formats.size();
        const std::string name = formats.substr(start, end - start);
        start = end + 1;
        int dt = -1;
        for (int d = 0; d < PANOPT_DTYPE_COUNT; d++)
            if (strcasecmp(type_traits(d)->name, name.c_str()) == 0) dt = d;
        if (dt < 0 || !quant::has_rows8(dt) || !kt->type[dt].linear_range_r8) {
            std::printf("%-5s: no group kernel on this table\n", name.c_str());
            continue;
        }
        // the step's matrices, each repacked into its own buffer (shared: one layer's, reused)
        std::vector<std::vector<uint8_t>> store;
        std::vector<Matrix> step;
        auto add = [&](int64_t N, int64_t K) {
            const int64_t rb = row_bytes(dt, K);
            std::vector<uint8_t> rows((size_t)(N * rb));
            std::vector<float> f((size_t)K);
            for (int64_t n = 0; n < N; n++) {
                for (auto& x : f) x = u(rng);
                type_traits(dt)->from_f32(f.data(), rows.data() + n * rb, K);
            }
            store.emplace_back(rows.size());
            quant::repack_rows8(dt, rows.data(), store.back().data(), K, 0, N / R8);
            step.push_back({N, K, store.back().data()});
        };
        const int64_t shapes[4][2] = {{3 * H, H}, {H, H}, {F, H}, {H, F}};
        for (int64_t l = 0; l < (shared ? 1 : L); l++)
            for (auto& s : shapes) add(s[0], s[1]);
        for (int64_t l = 1; shared && l < L; l++)
            for (int i = 0; i < 4; i++) step.push_back(step[i]);
        add(V, H);
        // activations for both row lengths, quantized to the format's partner
        const int vt = type_traits(dt)->vec_dot_type;
        std::vector<uint8_t> xq[2];
        for (int j = 0; j < 2; j++) {
            const int64_t K = j ? F : H, xrb = row_bytes(vt, K);
            std::vector<float> f((size_t)K);
            xq[j].resize((size_t)(M * xrb));
            for (int64_t m = 0; m < M; m++) {
                for (auto& x : f) x = u(rng);
                type_traits(vt)->from_f32(f.data(), xq[j].data() + m * xrb, K);
            }
        }
        std::vector<float> y((size_t)(M * std::max({V, F, 3 * H})));
        std::vector<FloatBuf> scratch((size_t)threads);
        for (auto& s : scratch) s.reserve((size_t)kt->linear_scratch_floats(std::max(H, F)));
        double bytes = 0, macs = 0;
        for (const Matrix& m : step) {
            bytes += (double)(m.N * row_bytes(dt, m.K));
            macs += (double)M * m.N * m.K;
        }
        std::vector<double> ms;
        for (int r = 0; r <= reps; r++) { // the first, untimed: page faults, pool start
            const auto t0 = std::chrono::steady_clock::now();
            for (const Matrix& m : step) {
                const int j = m.K == H ? 0 : 1;
                const LinearArgs a{nullptr, m.K, xq[j].data(), row_bytes(vt, m.K), m.w, dt, nullptr, PANOPT_DTYPE_F32,
                                   y.data(), m.N, M, m.N, m.K};
                pool.parallel_for(m.N / R8, [&](int64_t g0, int64_t g1, int tid) {
                    kt->type[dt].linear_range_r8(&a, 0, M, g0 * R8, g1 * R8, scratch[(size_t)tid].data());
                });
            }
            if (r) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(ms.begin(), ms.end());
        const double med = ms[ms.size() / 2];
        std::printf("%-5s: median %7.3f ms, min %7.3f  (%6.1f MB of weights%s, %.0f GMAC/s at the median)\n",
                    type_traits(dt)->name, med, ms[0], bytes / 1e6, shared ? " read, the layers' from cache" : "", macs / med / 1e6);
    }
    return 0;
}
