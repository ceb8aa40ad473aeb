// panopt_bench — timing of the forward pass and of the hot matmul.
//   panopt_bench [--isa 0..3] [--threads N] [--batch B] [--seq S] [--reps R] [--peak GFLOPS|measure]
//                [--fixture DIR (a conformance case: loads its model.safetensors)]
//                [--hidden H --heads NH --layers L --ffn F --vocab V --dtype f32|f16|bf16|q8_0|q4_0|q4_k|...]
//                (random weights: the matrices in that type, vectors in f32) [--cache f32|f16|q8_0]
//                [--compute f32|bf16 (the session's compute type: bf16 products in prompt passes)]
//                [--steps N (decode steps timed; default min(reps, 64))] [--decode-only 1]
//                [--keep-layout 1 (panopt_config.keep_weight_layout: no 8-row groups)]
//                [--digest 1 (print an FNV-1a hash of the forward's logits: bit-identity across changes)]
//                [--split 1 (a decode step's time inside the pool's parallel regions and outside them,
//                 with the two threads' hand-off latency before and after: where the OS placed them)]
// Prints median ms, GFLOP/s and the fraction of the given f32 FMA peak (default 220 GFLOP/s =
// 2 Zen-4 cores) for: a full forward with the head at every position, the vocab projection alone,
// and a 1-token decode step on top of a seq-long cache.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/backend_cpu.h"
#include "dtype.h"
#include "panopt.h"
#include "../tests/test_util.h"

namespace t {
int g_failures = 0, g_checks = 0;
}

namespace {

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
// Median time of f over reps calls after a warm-up; with `before`, run untimed ahead of each call.
template <class F, class G> double median_ms(int reps, F&& f, G&& before) {
    f(); // warm-up
    std::vector<double> v;
    for (int i = 0; i < reps; i++) {
        before();
        double t0 = now_ms();
        f();
        v.push_back(now_ms() - t0);
    }
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}
template <class F> double median_ms(int reps, F&& f) {
    return median_ms(reps, f, [] {});
}

// Writes 96 MB (3x the largest L3 here), so that what a timed call reads next comes from memory,
// as a decode step finds its head after streaming the rest of the model.
void evict_caches() {
    static std::vector<char> junk(size_t(96) << 20);
    for (size_t i = 0; i < junk.size(); i += 64) junk[i]++;
}


} // namespace

double measure_peak_gflops(int threads);

#if PANOPT_BENCH_HANDOFF
extern "C" double panopt_probe_handoff_ns(int32_t rounds); // probe.cpp
#else
static double panopt_probe_handoff_ns(int32_t) { return -1; } // no probe for this architecture
#endif

int main(int argc, char** argv) {
    int isa = 0, threads = 2, B = 1, S = 128, reps = 15, L = 2, H = 256, NH = 4, F = 1024, V = 50272, dt = 1,
        cache_dt = PANOPT_DTYPE_F32, compute_dt = PANOPT_DTYPE_F32;
    // a type name of the type table, case-insensitive
    auto dtype_of = [](std::string v) {
        for (auto& ch : v) ch = (char)toupper((unsigned char)ch);
        for (int d = 0; d < PANOPT_DTYPE_COUNT; d++)
            if (v == panopt::type_traits(d)->name) return d;
        std::fprintf(stderr, "unknown type %s\n", v.c_str());
        std::exit(2);
    };
    double peak = 220;
    int steps = -1;
    bool decode_only = false, keep_layout = false, digest = false, split = false;
    std::string fixture;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        const char* v = argv[i + 1];
        if (k == "--isa") isa = atoi(v);
        else if (k == "--threads") threads = atoi(v);
        else if (k == "--batch") B = atoi(v);
        else if (k == "--seq") S = atoi(v);
        else if (k == "--reps") reps = atoi(v);
        else if (k == "--steps") steps = atoi(v);
        else if (k == "--decode-only") decode_only = atoi(v) != 0;
        else if (k == "--keep-layout") keep_layout = atoi(v) != 0;
        else if (k == "--digest") digest = atoi(v) != 0;
        else if (k == "--split") split = atoi(v) != 0;
        else if (k == "--peak") peak = std::string(v) == "measure" ? -1 : atof(v);
        else if (k == "--fixture") fixture = v;
        else if (k == "--hidden") H = atoi(v);
        else if (k == "--heads") NH = atoi(v);
        else if (k == "--layers") L = atoi(v);
        else if (k == "--ffn") F = atoi(v);
        else if (k == "--vocab") V = atoi(v);
        else if (k == "--dtype") dt = dtype_of(v);
        else if (k == "--cache") cache_dt = dtype_of(v);
        else if (k == "--compute") compute_dt = dtype_of(v);
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (peak < 0) {
        peak = measure_peak_gflops(threads);
        std::printf("measured peak f32 FMA, %d threads: %.1f GFLOP/s\n", threads, peak);
    }
    panopt_config c{};
    c.struct_size = sizeof c;
    t::SafeTensors st;
    std::vector<uint8_t> wq;
    std::vector<float> w32;
    std::deque<std::vector<uint8_t>> own; // per-tensor weight memory (random-weights mode)
    if (!fixture.empty()) {
        std::vector<char> cj;
        if (!t::read_file(fixture + "/config.json", cj) || !st.load(fixture + "/model.safetensors")) {
            std::fprintf(stderr, "cannot read fixture %s\n", fixture.c_str());
            return 1;
        }
        t::Json j = t::parse_json(std::string(cj.begin(), cj.end()));
        V = (int)j.n("vocab_size");
        H = (int)j.n("hidden_size");
        L = (int)j.n("num_hidden_layers");
        NH = (int)j.n("num_attention_heads");
        F = (int)j.n("ffn_dim");
        c.max_position_embeddings = (int)j.n("max_position_embeddings");
        c.word_embed_proj_dim = (int)j.n("word_embed_proj_dim");
        c.do_layer_norm_before = (int)j.n("do_layer_norm_before");
        c.enable_bias = (int)j.n("enable_bias", 1);
        c.layer_norm_elementwise_affine = (int)j.n("layer_norm_elementwise_affine", 1);
        c.has_final_layer_norm = c.do_layer_norm_before && !(int)j.n("_remove_final_layer_norm");
    } else {
        c.max_position_embeddings = 2048;
        c.word_embed_proj_dim = H;
        c.do_layer_norm_before = 1;
        c.enable_bias = 1;
        c.layer_norm_elementwise_affine = 1;
        c.has_final_layer_norm = 1;
    }
    c.keep_weight_layout = keep_layout;
    c.vocab_size = V;
    c.hidden_size = H;
    c.num_hidden_layers = L;
    c.num_attention_heads = NH;
    c.ffn_dim = F;
    c.activation = PANOPT_ACT_RELU;
    c.head_size = V;
    c.layer_norm_eps = 1e-5f;
    const int P = c.word_embed_proj_dim;
    panopt_backend_options bo{};
    bo.struct_size = sizeof bo;
    bo.kind = PANOPT_BACKEND_CPU;
    bo.n_threads = threads;
    bo.isa = isa;
    panopt_backend* be = nullptr;
    if (panopt_backend_create(&bo, &be)) {
        std::fprintf(stderr, "backend: %s\n", panopt_last_error());
        return 1;
    }
    panopt_model* m = nullptr;
    if (panopt_model_create(be, &c, &m)) {
        std::fprintf(stderr, "%s\n", panopt_last_error());
        return 1;
    }
    const void* embed = nullptr;
    int embed_dt = 0;
    if (!fixture.empty()) {
        for (auto& kv : st.tensors) {
            int layer, kind = t::weight_kind(kv.first, layer);
            if (kind < 0) continue;
            int tdt = kv.second.dtype == "F16" ? 1 : kv.second.dtype == "BF16" ? 2 : 0;
            panopt_model_set_tensor(m, kind, layer, tdt, kv.second.data, (int64_t)kv.second.nbytes);
            if (kind == PANOPT_T_EMBED_TOKENS) embed = kv.second.data, embed_dt = tdt;
        }
        panopt_model_set_tensor(m, PANOPT_T_HEAD_WEIGHT, -1, embed_dt, embed, panopt::row_bytes(embed_dt, (int64_t)V * P));
    } else {
        // one random buffer big enough for the largest tensor, shared by all (values ~N(0, 0.05)),
        // its matrices in dt, its vectors in f32
        int64_t big = std::max<int64_t>((int64_t)V * P, (int64_t)(c.max_position_embeddings + 2) * H);
        big = std::max<int64_t>(big, (int64_t)F * H);
        big = (big + 255) / 256 * 256;
        std::mt19937 rng(1);
        std::normal_distribution<float> nd(0.f, 0.05f);
        w32.resize((size_t)big);
        for (auto& x : w32) x = nd(rng);
        wq.resize((size_t)panopt::row_bytes(dt, big));
        panopt::type_traits(dt)->from_f32(w32.data(), wq.data(), big);
        // Every tensor gets memory of its own (filled from the random buffer): sharing one buffer
        // would keep the weights cache-resident and overstate decode speed.
        auto put = [&](int kind, int layer, int64_t n, int tdt) {
            const void* data = tdt == PANOPT_DTYPE_F32 ? (const void*)w32.data() : (const void*)wq.data();
            const size_t chunk = (size_t)panopt::row_bytes(tdt, big);
            own.emplace_back((size_t)panopt::row_bytes(tdt, n));
            std::vector<uint8_t>& buf = own.back();
            for (size_t off = 0; off < buf.size(); off += chunk)
                std::memcpy(buf.data() + off, data, std::min(buf.size() - off, chunk));
            if (panopt_model_set_tensor(m, kind, layer, tdt, buf.data(), (int64_t)buf.size()))
                std::fprintf(stderr, "set tensor %d: %s\n", kind, panopt_last_error());
            return (const void*)buf.data();
        };
        const void* e = put(PANOPT_T_EMBED_TOKENS, -1, (int64_t)V * P, dt);
        panopt_model_set_tensor(m, PANOPT_T_HEAD_WEIGHT, -1, dt, e, panopt::row_bytes(dt, (int64_t)V * P)); // tied
        put(PANOPT_T_EMBED_POSITIONS, -1, (int64_t)(c.max_position_embeddings + 2) * H, dt);
        put(PANOPT_T_FINAL_LN_WEIGHT, -1, H, PANOPT_DTYPE_F32);
        put(PANOPT_T_FINAL_LN_BIAS, -1, H, PANOPT_DTYPE_F32);
        for (int l = 0; l < L; l++)
            for (int k = 16; k < 32; k++) {
                const bool matrix = k == 16 || k == 18 || k == 20 || k == 22 || k == 26 || k == 28;
                int64_t n = (k == 16 || k == 18 || k == 20 || k == 22) ? (int64_t)H * H
                            : (k == 26 || k == 28)                     ? (int64_t)F * H
                            : k == 27                                  ? F
                                                                       : H;
                put(k, l, n, matrix ? dt : PANOPT_DTYPE_F32);
            }
        embed = own.front().data();
        embed_dt = dt;
    }
    if (panopt_model_finalize(m)) {
        std::fprintf(stderr, "finalize: %s\n", panopt_last_error());
        return 1;
    }
    panopt_session_options so{sizeof(panopt_session_options), B, std::min(c.max_position_embeddings, S + std::max(64, steps + 1)), cache_dt,
                              compute_dt};
    panopt_session* s = nullptr;
    if (panopt_session_create(m, &so, &s)) {
        std::fprintf(stderr, "session: %s\n", panopt_last_error());
        return 1;
    }
    const panopt::Kernels* kt = panopt::kernels_for_isa(isa);
    std::vector<int32_t> ids((size_t)B * S);
    for (size_t i = 0; i < ids.size(); i++) ids[i] = (int32_t)((i * 7919 + 3) % (size_t)V);
    std::vector<float> out((size_t)B * S * std::max(V, F)); // the head's logits, or fc1's outputs below
    const double tokens = (double)B * S;
    const double mat_params = (double)L * (4.0 * H * H + 2.0 * H * F) + (double)V * P + (P != H ? 2.0 * H * P : 0);
    const double attn_flops = 2.0 * 2.0 * L * B * (double)S * (S + 1) / 2 * H; // QK^T and PV, causal
    const double flops = 2.0 * mat_params * tokens + attn_flops;
    std::printf("isa %s, threads %d, batch %d, seq %d, %s, hidden %d, layers %d, ffn %d, vocab %d, peak %.0f GFLOP/s\n",
                kt ? kt->name : "?", threads, B, S, fixture.empty() ? (std::string("random ") + panopt::type_traits(dt)->name).c_str() : fixture.c_str(),
                H, L, F, V, peak);

    panopt_forward_args a{};
    a.struct_size = sizeof a;
    a.batch = B;
    a.seq_len = S;
    a.input_ids = ids.data();
    a.head_out = out.data();
    double ms = decode_only ? 0 : median_ms(reps, [&] { panopt_forward(s, &a); });
    if (!decode_only) std::printf("forward %dx%d, head at all positions: %8.3f ms  %7.1f GFLOP/s  %5.1f%% of peak\n", B, S, ms,
                flops / ms * 1e-6, 100.0 * flops / ms * 1e-6 / peak);
    if (digest) { // FNV-1a of the logits' bits: shows a change leaves results bit-identical
        // the prompt through the cache, then a 5-token chunk on top of it (attention over a past),
        // then a 1-token decode step (the decode kernels)
        std::vector<int32_t> more((size_t)B * 6);
        for (size_t i = 0; i < more.size(); i++) more[i] = (int32_t)((i * 104729 + 11) % (size_t)V);
        std::vector<float> lg((size_t)B * (S + 6) * V);
        panopt_forward_args p = a, c = a, d1 = a;
        p.use_cache = c.use_cache = d1.use_cache = 1;
        p.head_out = lg.data();
        c.seq_len = 5;
        c.input_ids = more.data();
        c.head_out = lg.data() + (size_t)B * S * V;
        d1.seq_len = 1;
        d1.input_ids = more.data() + (size_t)B * 5;
        d1.head_out = lg.data() + (size_t)B * (S + 5) * V;
        panopt_session_reset(s);
        if (panopt_forward(s, &p) || panopt_forward(s, &c) || panopt_forward(s, &d1))
            std::fprintf(stderr, "digest: %s\n", panopt_last_error());
        uint64_t h = 1469598103934665603ull;
        const unsigned char* bytes = reinterpret_cast<const unsigned char*>(lg.data());
        for (size_t i = 0; i < lg.size() * sizeof(float); i++) h = (h ^ bytes[i]) * 1099511628211ull;
        std::printf("logits digest: %016llx\n", (unsigned long long)h);
    }

    // The vocab projection alone (the dominant matmul), through the CPU backend's linear op.
    if (!decode_only) {
        panopt::CpuBackend cpu(kt, threads);
        auto ex = cpu.new_executor(*m, 1, 1, PANOPT_DTYPE_F32);
        auto weight = [&](int64_t rows, int64_t cols) {
            panopt::TensorRef w;
            w.data = embed;
            w.dtype = embed_dt;
            w.rows = rows;
            w.cols = cols;
            w.row_bytes = panopt::row_bytes(embed_dt, cols);
            return w;
        };
        std::vector<float> x((size_t)B * S * std::max(P, H), 0.01f);
        const panopt::TensorRef wv = weight(V, P), wf = weight(F, H);
        ex->set_positions_per_row(S); // B x S rows: the prompt's product path, as the forward picks it
        double lms = median_ms(reps, [&] { ex->linear(x.data(), (int64_t)B * S, P, wv, nullptr, out.data(), V); });
        double lf = 2.0 * tokens * V * P;
        std::printf("linear %lldx%dx%d (vocab head):     %8.3f ms  %7.1f GFLOP/s  %5.1f%% of peak\n",
                    (long long)(B * S), V, P, lms, lf / lms * 1e-6, 100.0 * lf / lms * 1e-6 / peak);
        if ((int64_t)V * P >= (int64_t)F * H) { // fc1's shape over the embedding's bytes (a small --vocab has too few)
            double lms1 = median_ms(reps, [&] { ex->linear(x.data(), (int64_t)B * S, H, wf, nullptr, out.data(), F); });
            double ff = 2.0 * tokens * F * H;
            std::printf("linear %lldx%dx%d (fc1):            %8.3f ms  %7.1f GFLOP/s  %5.1f%% of peak\n",
                        (long long)(B * S), F, H, lms1, ff / lms1 * 1e-6, 100.0 * ff / lms1 * 1e-6 / peak);
        }
        ex->set_positions_per_row(1);
        // the head as the model holds it (in 8-row groups where the backend repacks), from memory, as a
        // decode step streams it
        const panopt::TensorRef& head = m->g(PANOPT_T_HEAD_WEIGHT);
        double gms = median_ms(reps, [&] { ex->linear(x.data(), 1, P, head, nullptr, out.data(), V); }, evict_caches);
        double gb = (double)panopt::row_bytes(embed_dt, P) * V;
        std::printf("linear 1x%dx%d (vocab head, decode):  %8.3f ms  %7.1f GB/s of weights\n", V, P, gms, gb / gms * 1e-6);
    }

    // Decode: one new token per row on top of an S-long cache, logits for it.
    {
        panopt_session_reset(s);
        panopt_forward_args p = a;
        p.use_cache = 1;
        p.head_out = nullptr;
        std::vector<int32_t> tok((size_t)B, 5);
        std::vector<float> lg((size_t)B * V);
        panopt_forward_args d{};
        d.struct_size = sizeof d;
        d.batch = B;
        d.seq_len = 1;
        d.input_ids = tok.data();
        d.use_cache = 1;
        d.head_out = lg.data();
        // prefill S tokens once, then time `reps` successive 1-token steps (a generation loop)
        std::vector<double> v;
        panopt_session_reset(s);
        panopt_forward(s, &p);
        auto* cpu = split ? dynamic_cast<panopt::CpuBackend*>(be) : nullptr; // --split: the pool's timing
        const double h0 = cpu ? panopt_probe_handoff_ns(20) : 0;
        if (cpu) cpu->pool.set_timing(true);
        const panopt::ThreadPool::Timing r0 = cpu ? cpu->pool.timing() : panopt::ThreadPool::Timing{};
        const double all0 = now_ms();
        const int n_steps = steps > 0 ? steps : std::min(reps, 64);
        for (int r = 0; r < n_steps; r++) {
            double t0 = now_ms();
            panopt_status stt = panopt_forward(s, &d);
            double t1 = now_ms();
            if (stt) std::fprintf(stderr, "decode: %s\n", panopt_last_error());
            v.push_back(t1 - t0);
        }
        if (cpu) {
            // means over the steps: the regions' share and the rest, the calling thread's serial work
            // (activation conversion, small ops, the forward's bookkeeping) while the others spin
            const double all = (now_ms() - all0) / n_steps;
            const panopt::ThreadPool::Timing r1 = cpu->pool.timing();
            cpu->pool.set_timing(false);
            const double in = (double)(r1.ns - r0.ns) * 1e-6 / n_steps;
            const double h1 = panopt_probe_handoff_ns(20);
            std::printf("decode step split (means): %.3f ms = %.3f in %.1f parallel regions + %.3f outside them", all,
                        in, (double)(r1.regions - r0.regions) / n_steps, all - in);
            if (h0 >= 0)
                std::printf("; hand-off %.0f / %.0f ns before / after (< 100: the two threads share an L3)", h0, h1);
            std::printf("\n");
        }
        std::sort(v.begin(), v.end());
        double dms = v[v.size() / 2];
        double wbytes = mat_params * (fixture.empty() ? (double)panopt::kBlockBytes[dt] / panopt::kBlockElems[dt] : 2);
        std::printf("decode 1 token (cache %d %s):     %8.3f ms  %7.1f tok/s  ~%.1f GB/s of weights\n", S,
                    panopt::type_traits(cache_dt)->name, dms,
                    1000.0 * B / dms, wbytes / dms * 1e-6);
    }
    panopt_session_free(s);
    panopt_model_free(m);
    panopt_backend_free(be);
    return 0;
}
