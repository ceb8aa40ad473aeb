// test_cuda.cpp — the CUDA backend.
//
//  cuda_host (any machine): the option checks, the library missing or unloadable, and no usable GPU
//            (no driver, no device) are each a PANOPT_ERR_UNSUPPORTED naming what is missing.
//  cuda      (needs an NVIDIA GPU; exits 77, which ctest reports as Skipped, with the reason, when the
//            backend cannot be created): every op of the CUDA executor against the CPU reference
//            (scalar kernels) on random, never-zero data of odd sizes, in the manner of ggml's
//            test-backend-ops; then whole forward passes through the C API against the CPU backend:
//            prefill, decode steps (replayed from a captured CUDA graph), graphs off, session copies,
//            cache reads, attentions and hidden states, every weight type; then error surfacing.
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "cuda/loader.h"
#include "dtype.h"
#include "error.h"
#include "model.h"
#include "ops.h"
#include "panopt.h"
#include "test_util.h"

#ifndef PANOPT_TEST_CUDA_BUILT
#define PANOPT_TEST_CUDA_BUILT 0
#endif

namespace {

// PANOPT_CUDA_TESTS=small: a few sizes of each op, for compute-sanitizer (native/tools/gpu-check.sh).
bool g_small = false;

using panopt::AttentionArgs;
using panopt::Executor;
using panopt::TensorRef;

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

panopt_backend_options cuda_options(int device) {
    panopt_backend_options o{};
    o.struct_size = sizeof o;
    o.kind = PANOPT_BACKEND_CUDA;
    o.device = device;
    return o;
}

// ------------------------------------------------------------------------------------------- host

void test_options() {
    panopt_backend* b = nullptr;
    panopt_backend_options o = cuda_options(0);
    o.n_threads = 2;
    T_CHECK(panopt_backend_create(&o, &b) == PANOPT_ERR_INVALID_ARGUMENT && contains(panopt_last_error(), "n_threads"),
            "n_threads for CUDA: %s", panopt_last_error());
    o = cuda_options(0);
    o.isa = PANOPT_ISA_AVX2;
    T_CHECK(panopt_backend_create(&o, &b) == PANOPT_ERR_INVALID_ARGUMENT && contains(panopt_last_error(), "isa"),
            "isa for CUDA: %s", panopt_last_error());
    o = cuda_options(-1);
    T_CHECK(panopt_backend_create(&o, &b) == PANOPT_ERR_INVALID_ARGUMENT && contains(panopt_last_error(), "device"),
            "device -1: %s", panopt_last_error());
    o = cuda_options(0);
    o.kind = 7;
    T_CHECK(panopt_backend_create(&o, &b) == PANOPT_ERR_UNSUPPORTED, "kind 7: %s", panopt_last_error());
    T_CHECK(b == nullptr, "no backend on failure");
}

// What creating a CUDA backend gives on this machine, checked against what the build and the
// environment say it must be.
void test_availability() {
    const char* lib = std::getenv("PANOPT_CUDA_LIBRARY");
    panopt_backend* b = nullptr;
    panopt_backend_options o = cuda_options(0);
    const panopt_status st = panopt_backend_create(&o, &b);
    const std::string msg = panopt_last_error();
    if (lib && *lib) { // ctest's cuda_missing_library / cuda_bad_library
        FILE* f = std::fopen(lib, "rb");
        const bool exists = f != nullptr;
        if (f) std::fclose(f);
        T_CHECK(st == PANOPT_ERR_UNSUPPORTED && contains(msg, lib), "PANOPT_CUDA_LIBRARY=%s: %d %s", lib, st, msg.c_str());
        if (exists) T_CHECK(contains(msg, "cannot load the CUDA backend"), "unloadable library: %s", msg.c_str());
        else T_CHECK(contains(msg, "this build has no CUDA backend") && contains(msg, "does not exist"),
                     "missing library: %s", msg.c_str());
        std::printf("cuda_host: %s\n", msg.c_str());
        return;
    }
    if (!PANOPT_TEST_CUDA_BUILT) {
        T_CHECK(st == PANOPT_ERR_UNSUPPORTED && contains(msg, "this build has no CUDA backend") &&
                    contains(msg, "libpanopt_cuda.so"),
                "no CUDA library in this build: %d %s", st, msg.c_str());
        std::printf("cuda_host: %s\n", msg.c_str());
        return;
    }
    if (st == PANOPT_OK) {
        panopt_backend_info info{};
        info.struct_size = sizeof info;
        T_CHECK(panopt_backend_get_info(b, &info) == PANOPT_OK && info.kind == PANOPT_BACKEND_CUDA && info.n_threads == 1,
                "CUDA backend info");
        std::printf("cuda_host: a CUDA device is usable here\n");
        // a device index beyond the machine's devices
        panopt_backend* b2 = nullptr;
        panopt_backend_options o2 = cuda_options(4096);
        T_CHECK(panopt_backend_create(&o2, &b2) == PANOPT_ERR_UNSUPPORTED && contains(panopt_last_error(), "no CUDA device 4096"),
                "device 4096: %s", panopt_last_error());
        T_CHECK(panopt_backend_free(b) == PANOPT_OK, "free");
        return;
    }
    // No usable GPU: the message says which part is missing.
    const bool named = contains(msg, "no CUDA driver") || contains(msg, "no CUDA device") ||
                       contains(msg, "compute capability") || contains(msg, "driver is too old");
    T_CHECK(st == PANOPT_ERR_UNSUPPORTED && named, "no usable GPU: %d %s", st, msg.c_str());
    std::printf("cuda_host: %s\n", msg.c_str());
}

// ------------------------------------------------------------------------------------------- data

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    uint32_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return (uint32_t)(s >> 32);
    }
    // uniform in [-1, 1], never 0
    float u() { return ((float)(next() >> 8) + 0.5f) / 8388608.0f - 1.0f; }
};

std::vector<float> rnd(size_t n, Rng& r, float scale = 1.0f) {
    std::vector<float> v(n);
    for (float& x : v) x = r.u() * scale;
    return v;
}

// A tensor's bytes in a weight type and the f32 values they hold.
struct HostTensor {
    std::vector<unsigned char> bytes;
    std::vector<float> values;
    int32_t dtype = 0;
};

HostTensor make_tensor(int32_t dt, int64_t rows, int64_t cols, Rng& r, float scale) {
    HostTensor t;
    t.dtype = dt;
    const std::vector<float> v = rnd((size_t)(rows * cols), r, scale);
    const int64_t rb = panopt::row_bytes(dt, cols);
    t.bytes.resize((size_t)(rows * rb));
    if (panopt_quantize(dt, v.data(), rows, cols, t.bytes.data(), rows * rb) != PANOPT_OK)
        std::printf("quantize: %s\n", panopt_last_error());
    t.values.resize(v.size());
    panopt_dequantize(dt, t.bytes.data(), rows * rb, rows * cols, t.values.data());
    return t;
}

// Every tensor a config needs: matrices in mdt, vectors (biases, LayerNorm) in vdt.
struct HostModel {
    panopt_config c{};
    std::vector<std::pair<std::pair<int, int>, HostTensor>> t; // ((kind, layer), tensor)
    const HostTensor& get(int kind, int layer) const {
        for (auto& e : t)
            if (e.first.first == kind && e.first.second == layer) return e.second;
        static HostTensor none;
        return none;
    }
};

HostModel make_weights(const panopt_config& c, int32_t mdt, int32_t vdt, uint64_t seed) {
    HostModel h;
    h.c = c;
    Rng r(seed);
    auto add = [&](int kind, int layer) {
        if (!panopt::kind_required(c, kind) || kind == PANOPT_T_HEAD_WEIGHT) return; // the head: tied, below
        int64_t rows, cols;
        panopt::kind_shape(c, kind, rows, cols);
        const bool vec = rows == 1 && kind != PANOPT_T_EMBED_TOKENS && kind != PANOPT_T_PROJECT_IN &&
                         kind != PANOPT_T_PROJECT_OUT;
        const bool ln_weight = kind == PANOPT_T_ATTN_LN_WEIGHT || kind == PANOPT_T_FFN_LN_WEIGHT ||
                               kind == PANOPT_T_FINAL_LN_WEIGHT;
        // matrices scaled like a trained model's (~1/sqrt(cols)); LayerNorm weights near 1
        HostTensor ht = make_tensor(vec ? vdt : mdt, rows, cols, r, vec ? 0.1f : 1.5f / std::sqrt((float)cols));
        if (ln_weight)
            for (size_t i = 0; i < ht.values.size(); i++) {
                ht.values[i] += 1.0f;
                panopt_quantize(vdt, &ht.values[i], 1, 1, &ht.bytes[i * panopt::type_traits(vdt)->block_bytes],
                                panopt::type_traits(vdt)->block_bytes);
                panopt_dequantize(vdt, &ht.bytes[i * panopt::type_traits(vdt)->block_bytes],
                                  panopt::type_traits(vdt)->block_bytes, 1, &ht.values[i]);
            }
        h.t.push_back({{kind, layer}, std::move(ht)});
    };
    for (int k = 0; k < panopt::N_GLOBAL_KINDS; k++) add(k, -1);
    for (int l = 0; l < c.num_hidden_layers; l++)
        for (int k = panopt::LAYER_KIND_BASE; k < panopt::LAYER_KIND_BASE + panopt::N_LAYER_KINDS; k++) add(k, l);
    return h;
}

panopt_model* make_model(panopt_backend* be, const HostModel& h) {
    panopt_model* m = nullptr;
    if (panopt_model_create(be, &h.c, &m) != PANOPT_OK) {
        std::printf("model_create: %s\n", panopt_last_error());
        return nullptr;
    }
    for (auto& e : h.t) {
        const HostTensor& ht = e.second;
        if (panopt_model_set_tensor(m, e.first.first, e.first.second, ht.dtype, ht.bytes.data(), (int64_t)ht.bytes.size()) !=
            PANOPT_OK)
            std::printf("set_tensor %d: %s\n", e.first.first, panopt_last_error());
        if (e.first.first == PANOPT_T_EMBED_TOKENS && h.c.head_size > 0) // the tied LM head
            panopt_model_set_tensor(m, PANOPT_T_HEAD_WEIGHT, -1, ht.dtype, ht.bytes.data(), (int64_t)ht.bytes.size());
    }
    if (panopt_model_finalize(m) != PANOPT_OK) {
        std::printf("finalize: %s\n", panopt_last_error());
        panopt_model_free(m);
        return nullptr;
    }
    return m;
}

panopt_config small_config(int hidden, int heads, int ffn, int layers, int vocab, int maxpos) {
    panopt_config c{};
    c.struct_size = sizeof c;
    c.vocab_size = vocab;
    c.hidden_size = hidden;
    c.num_hidden_layers = layers;
    c.num_attention_heads = heads;
    c.ffn_dim = ffn;
    c.max_position_embeddings = maxpos;
    c.word_embed_proj_dim = hidden;
    c.do_layer_norm_before = 1;
    c.enable_bias = 1;
    c.layer_norm_elementwise_affine = 1;
    c.has_final_layer_norm = 1;
    c.activation = PANOPT_ACT_RELU;
    c.head_size = vocab;
    c.layer_norm_eps = 1e-5f;
    return c;
}

// The backend, model and one executor of each side: the scalar CPU kernels (the reference) and CUDA.
struct Side {
    panopt_backend* be = nullptr;
    panopt_model* m = nullptr;
    std::unique_ptr<Executor> ex;
    ~Side() {
        ex.reset();
        panopt_model_free(m);
        panopt_backend_free(be);
    }
};

struct Pair {
    Side cpu, gpu;
    bool ok = false;
    Pair(const HostModel& h, int max_batch, int max_seq, int32_t cache_dt) {
        panopt_backend_options co{};
        co.struct_size = sizeof co;
        co.kind = PANOPT_BACKEND_CPU;
        co.n_threads = 1;
        co.isa = PANOPT_ISA_SCALAR;
        panopt_backend_options go = cuda_options(0);
        if (panopt_backend_create(&co, &cpu.be) != PANOPT_OK || panopt_backend_create(&go, &gpu.be) != PANOPT_OK) {
            std::printf("backend: %s\n", panopt_last_error());
            return;
        }
        cpu.m = make_model(cpu.be, h);
        gpu.m = make_model(gpu.be, h);
        if (!cpu.m || !gpu.m) return;
        try {
            cpu.ex = cpu.be->new_executor(*cpu.m, max_batch, max_seq, cache_dt);
            gpu.ex = gpu.be->new_executor(*gpu.m, max_batch, max_seq, cache_dt);
        } catch (const std::exception& e) {
            std::printf("new_executor: %s\n", e.what());
            return;
        }
        ok = true;
    }
};

// A buffer of `slot` holding host values (uploaded by embed's inputs_embeds path).
float* put(Executor& e, const TensorRef& any, int slot, const std::vector<float>& v, int64_t rows, int64_t width) {
    float* d = e.scratch(slot, rows * width);
    e.embed(any, nullptr, v.data(), rows, width, d);
    return d;
}

// |got - ref| <= tol * scale[i] + atol for every element.
bool within(const std::vector<float>& got, const std::vector<float>& ref, const std::vector<double>& scale, double tol,
            double atol, const std::string& what) {
    int64_t bad = 0, first = -1;
    double worst = 0;
    for (size_t i = 0; i < ref.size(); i++) {
        const double d = std::fabs((double)got[i] - (double)ref[i]);
        const double lim = tol * (scale.empty() ? std::fabs((double)ref[i]) : scale[i]) + atol;
        if (!(d <= lim)) {
            if (first < 0) first = (int64_t)i;
            bad++;
        }
        if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
    }
    t::g_checks++;
    if (bad) {
        t::g_failures++;
        std::printf("FAIL %s: %lld of %zu out of tolerance, max err %.3g, first at %lld (got %.9g, ref %.9g)\n",
                    what.c_str(), (long long)bad, ref.size(), worst, (long long)first, got[(size_t)first], ref[(size_t)first]);
    }
    return bad == 0;
}

const char* dt_name(int32_t dt) { return panopt::type_traits(dt)->name; }

// ------------------------------------------------------------------------------------------- ops

void test_linear() {
    const int32_t types[] = {PANOPT_DTYPE_F32, PANOPT_DTYPE_F16, PANOPT_DTYPE_BF16, PANOPT_DTYPE_Q8_0, PANOPT_DTYPE_Q4_0};
    struct Shape {
        int K, N;
    };
    const Shape float_shapes[] = {{67, 45}, {136, 259}, {515, 130}};
    const Shape block_shapes[] = {{96, 45}, {256, 259}, {512, 130}};
    const std::vector<int64_t> Ms = g_small ? std::vector<int64_t>{1, 9, 33} : std::vector<int64_t>{1, 2, 3, 8, 9, 33, 70};
    for (int32_t dt : types) {
        const bool block = dt == PANOPT_DTYPE_Q8_0 || dt == PANOPT_DTYPE_Q4_0;
        for (int si = 0; si < (g_small ? 1 : 3); si++) {
            const Shape sh = block ? block_shapes[si] : float_shapes[si];
            // the product under test is the head: W = the tied embedding [N = vocab, K = hidden], with a bias
            panopt_config c = small_config(sh.K, 1, 32, 1, sh.N, 8);
            c.head_has_bias = 1;
            const int32_t vdt = si == 1 ? PANOPT_DTYPE_F16 : PANOPT_DTYPE_F32; // biases of both kinds
            const HostModel h = make_weights(c, dt, vdt, 100 + si);
            Pair p(h, 1, 8, PANOPT_DTYPE_F32);
            if (!p.ok) {
                T_CHECK(false, "linear %s setup", dt_name(dt));
                continue;
            }
            const HostTensor& W = h.get(PANOPT_T_EMBED_TOKENS, -1);
            const HostTensor& B = h.get(PANOPT_T_HEAD_BIAS, -1);
            Rng r(7 + si);
            for (int64_t M : Ms) {
                const std::vector<float> x = rnd((size_t)(M * sh.K), r, 2.0f);
                // |x| |w| + |b|: the scale of f32 rounding in each output
                std::vector<double> scale((size_t)(M * sh.N));
                for (int64_t m = 0; m < M; m++)
                    for (int64_t n = 0; n < sh.N; n++) {
                        double s = std::fabs(B.values[(size_t)n]);
                        for (int64_t k = 0; k < sh.K; k++)
                            s += std::fabs(x[(size_t)(m * sh.K + k)]) * std::fabs(W.values[(size_t)(n * sh.K + k)]);
                        scale[(size_t)(m * sh.N + n)] = s;
                    }
                for (int32_t act : {-1, (int)PANOPT_ACT_RELU, (int)PANOPT_ACT_GELU}) {
                    std::vector<float> y[2];
                    Side* sides[2] = {&p.cpu, &p.gpu};
                    for (int s = 0; s < 2; s++) {
                        Executor& e = *sides[s]->ex;
                        const panopt_model& m = *sides[s]->m;
                        y[s].assign((size_t)(M * sh.N), NAN);
                        e.begin_pass();
                        float* xd = put(e, m.g(PANOPT_T_EMBED_TOKENS), panopt::SLOT_NORM, x, M, sh.K);
                        float* yd = e.scratch(panopt::SLOT_FF, M * sh.N);
                        e.linear(xd, M, sh.K, m.g(PANOPT_T_HEAD_WEIGHT), &m.g(PANOPT_T_HEAD_BIAS), yd, sh.N);
                        if (act >= 0) e.activation(act, yd, M * sh.N); // CUDA: fused into the product
                        e.to_host(y[s].data(), yd, M * sh.N);
                        e.end_pass();
                    }
                    // f32 sums in another order (and, for F16/BF16 prefill, activations split into 16-bit parts)
                    within(y[1], y[0], scale, 2e-5, 1e-7,
                           std::string("linear ") + dt_name(dt) + " M=" + std::to_string(M) + " K=" + std::to_string(sh.K) +
                               " N=" + std::to_string(sh.N) + " act=" + std::to_string(act));
                }
            }
        }
    }
}

void test_embed_norm_elementwise() {
    for (int32_t dt : {PANOPT_DTYPE_F32, PANOPT_DTYPE_F16, PANOPT_DTYPE_BF16, PANOPT_DTYPE_Q8_0, PANOPT_DTYPE_Q4_0}) {
        const bool block = dt == PANOPT_DTYPE_Q8_0 || dt == PANOPT_DTYPE_Q4_0;
        if (g_small && dt != PANOPT_DTYPE_F16 && dt != PANOPT_DTYPE_Q4_0) continue;
        const int H = block ? 96 : 77;
        panopt_config c = small_config(H, 1, 64, 1, 29, 40);
        for (int32_t vdt : {PANOPT_DTYPE_F32, PANOPT_DTYPE_BF16}) {
            const HostModel h = make_weights(c, dt, vdt, 3 + dt);
            Pair p(h, 1, 8, PANOPT_DTYPE_F32);
            if (!p.ok) {
                T_CHECK(false, "embed %s setup", dt_name(dt));
                continue;
            }
            Rng r(11);
            const int64_t M = 13;
            std::vector<int32_t> ids((size_t)M), pos((size_t)M);
            for (int64_t i = 0; i < M; i++) ids[(size_t)i] = (int32_t)(r.next() % 29), pos[(size_t)i] = (int32_t)(r.next() % 42);
            ids[0] = 28; // the last row
            pos[1] = 41;
            const std::vector<int64_t> rows = {12, 0, 5, 5, 7};
            const std::vector<float> resid = rnd((size_t)(M * H), r, 3.0f);
            std::vector<float> emb[2], ln[2], lnplain[2], gath[2], acts[2][14], sum[2];
            Side* sides[2] = {&p.cpu, &p.gpu};
            for (int s = 0; s < 2; s++) {
                Executor& e = *sides[s]->ex;
                const panopt_model& m = *sides[s]->m;
                emb[s].assign((size_t)(M * H), NAN);
                ln[s] = lnplain[s] = sum[s] = emb[s];
                gath[s].assign(rows.size() * (size_t)H, NAN);
                e.begin_pass();
                float* x = e.scratch(panopt::SLOT_X, M * H);
                e.embed(m.g(PANOPT_T_EMBED_TOKENS), ids.data(), nullptr, M, H, x);
                e.add_rows(m.g(PANOPT_T_EMBED_POSITIONS), pos.data(), M, H, x);
                e.to_host(emb[s].data(), x, M * H);
                float* t = put(e, m.g(PANOPT_T_EMBED_TOKENS), panopt::SLOT_T, resid, M, H);
                e.add(t, x, M * H); // t = resid + embeddings
                e.to_host(sum[s].data(), t, M * H);
                float* n = e.scratch(panopt::SLOT_NORM, M * H);
                e.layernorm(t, n, M, H, m.l(0, PANOPT_T_ATTN_LN_WEIGHT), m.l(0, PANOPT_T_ATTN_LN_BIAS), 1e-5f);
                e.to_host(ln[s].data(), n, M * H);
                e.layernorm(t, t, M, H, TensorRef{}, TensorRef{}, 1e-3f); // in place, no affine
                e.to_host(lnplain[s].data(), t, M * H);
                float* g = e.scratch(panopt::SLOT_HEAD_IN, (int64_t)rows.size() * H);
                e.gather_rows(n, rows.data(), (int64_t)rows.size(), H, g);
                e.to_host(gath[s].data(), g, (int64_t)rows.size() * H);
                e.end_pass();
                for (int act = 0; act < 14; act++) { // each activation on its own buffer (nothing to fuse into)
                    acts[s][act].assign((size_t)(M * H), NAN);
                    e.begin_pass();
                    float* a = put(e, m.g(PANOPT_T_EMBED_TOKENS), panopt::SLOT_FF, resid, M, H);
                    e.activation(act, a, M * H);
                    e.to_host(acts[s][act].data(), a, M * H);
                    e.end_pass();
                }
            }
            const std::string tag = std::string(dt_name(dt)) + "/" + dt_name(vdt);
            within(emb[1], emb[0], {}, 0, 0, "embed + positions (exact) " + tag);
            within(sum[1], sum[0], {}, 0, 0, "add (exact) " + tag);
            within(gath[1], gath[0], {}, 0, 0, "gather_rows (exact) " + tag);
            // mean and variance in double on both sides; the affine map may round differently (FMA)
            within(ln[1], ln[0], {}, 3e-7, 1e-6, "layernorm " + tag);
            within(lnplain[1], lnplain[0], {}, 3e-7, 1e-6, "layernorm in place, no affine " + tag);
            for (int act = 0; act < 14; act++) // double on both sides, rounded once: at most an ulp apart
                within(acts[1][act], acts[0][act], {}, 1.2e-7, 1e-38, tag + " activation " + std::to_string(act));
        }
    }
}

// One attention call on both sides; q, k, v [B*S, NH*HD] host; returns whether it matched.
struct AttnCase {
    int64_t B, S, NH, HD;
    bool use_cache;
    const int32_t* mask; // [B, past + S] or NULL
    const float* head_mask;
    bool probs;
    int64_t layer;
};

void attention_both(Pair& p, const AttnCase& a, int64_t past, Rng& r, const std::string& what) {
    const int64_t H = a.NH * a.HD, M = a.B * a.S, T = past + a.S;
    const std::vector<float> q = rnd((size_t)(M * H), r), k = rnd((size_t)(M * H), r), v = rnd((size_t)(M * H), r);
    std::vector<float> ctx[2], probs[2];
    Side* sides[2] = {&p.cpu, &p.gpu};
    for (int s = 0; s < 2; s++) {
        Executor& e = *sides[s]->ex;
        const TensorRef& any = sides[s]->m->g(PANOPT_T_EMBED_TOKENS);
        ctx[s].assign((size_t)(M * H), NAN);
        probs[s].assign(a.probs ? (size_t)(a.B * a.NH * a.S * T) : 0, NAN);
        e.begin_pass();
        AttentionArgs aa;
        aa.layer = a.layer;
        aa.batch = a.B;
        aa.seq_len = a.S;
        aa.past = past;
        aa.hidden = H;
        aa.heads = a.NH;
        aa.head_dim = a.HD;
        aa.use_cache = a.use_cache;
        aa.q = put(e, any, panopt::SLOT_Q, q, M, H);
        aa.k = put(e, any, panopt::SLOT_K, k, M, H);
        aa.v = put(e, any, panopt::SLOT_V, v, M, H);
        aa.scaling = (float)(1.0 / std::sqrt((double)a.HD));
        aa.mask = a.mask;
        aa.head_mask = a.head_mask;
        aa.probs_out = a.probs ? probs[s].data() : nullptr;
        aa.ctx = e.scratch(panopt::SLOT_CTX, M * H);
        e.attention(aa);
        e.to_host(ctx[s].data(), aa.ctx, M * H);
        e.end_pass();
    }
    within(ctx[1], ctx[0], {}, 1e-5, 2e-6, "attention ctx " + what);
    if (a.probs) within(probs[1], probs[0], {}, 0, 1e-6, "attention probs " + what);
}

// Masks [B, T]: row 0 all ones; row 1 left-padded by `pad`; with holes, row 2 a random pattern and
// row 3 (if any) all zeros (every query of it sees no key).
std::vector<int32_t> make_mask(int64_t B, int64_t T, int64_t pad, bool holes, Rng& r) {
    std::vector<int32_t> m((size_t)(B * T), 1);
    for (int64_t b = 1; b < B; b++)
        for (int64_t j = 0; j < T; j++) {
            int32_t v = j >= pad;
            if (holes && b == 2) v = (r.next() % 3) != 0;
            if (holes && b == 3) v = 0;
            m[(size_t)(b * T + j)] = v;
        }
    return m;
}

void test_attention() {
    struct Dims {
        int NH, HD;
    };
    const Dims dims[] = {{3, 4}, {2, 32}, {2, 64}, {1, 80}, {2, 128}, {1, 256}};
    for (const Dims d : dims) {
        if (g_small && d.HD != 32 && d.HD != 128) continue;
        const int H = d.NH * d.HD;
        const panopt_config c = small_config(H, d.NH, 32, 2, 11, 512);
        const HostModel h = make_weights(c, PANOPT_DTYPE_F32, PANOPT_DTYPE_F32, 5);
        for (int32_t cdt : {PANOPT_DTYPE_F32, PANOPT_DTYPE_F16, PANOPT_DTYPE_Q8_0}) {
            if (cdt == PANOPT_DTYPE_Q8_0 && d.HD % 32) continue;
            const int64_t B = 4, max_seq = 300;
            Pair p(h, (int)B, (int)max_seq, cdt);
            if (!p.ok) {
                T_CHECK(false, "attention setup");
                continue;
            }
            Rng r(d.HD * 7 + cdt);
            const std::string tag = "NH=" + std::to_string(d.NH) + " HD=" + std::to_string(d.HD) + " cache " + dt_name(cdt);
            std::vector<float> hm((size_t)d.NH);
            for (float& x : hm) x = 0.5f + 0.5f * std::fabs(r.u());
            if (cdt == PANOPT_DTYPE_F32) {
                // without the cache: one to many query tiles, each mask kind, head mask, probabilities
                for (int64_t S : {1, 5, 70}) {
                    for (int mk = 0; mk < 3; mk++) {
                        std::vector<int32_t> mask = make_mask(B, S, std::min<int64_t>(3, S - 1), mk == 2, r);
                        AttnCase a{B, S, d.NH, d.HD, false, mk == 0 ? nullptr : mask.data(), mk == 1 ? hm.data() : nullptr,
                                   mk == 2, 1};
                        attention_both(p, a, 0, r, tag + " S=" + std::to_string(S) + " mask " + std::to_string(mk));
                    }
                }
            }
            // with the cache: a prefill, decode steps, a chunk, and decode steps past a split of 128 keys
            const int64_t pad = 3;
            int64_t past = 0;
            std::vector<int64_t> steps = {7, 1, 1, 1, 3, 1};
            if (!g_small && (d.HD == 64 || d.HD == 4)) steps.insert(steps.end(), {120, 1, 1, 150, 1});
            for (size_t i = 0; i < steps.size(); i++) {
                const int64_t S = steps[i], T = past + S;
                std::vector<int32_t> mask = make_mask(B, T, pad, true, r);
                AttnCase a{B, S, d.NH, d.HD, true, mask.data(), i % 2 ? hm.data() : nullptr, i == 3, (int64_t)(i % 2)};
                attention_both(p, a, past, r, tag + " cached step " + std::to_string(i) + " past=" + std::to_string(past));
                past = T;
            }
            // the caches hold the same bytes: their f32 reading is identical
            for (int32_t layer = 0; layer < 2; layer++)
                for (int32_t which = 0; which < 2; which++) {
                    std::vector<float> rd[2];
                    for (int s = 0; s < 2; s++) {
                        rd[s].assign((size_t)(B * d.NH * past * d.HD), NAN);
                        (s ? p.gpu : p.cpu).ex->cache_read(layer, which, (int32_t)B, (int32_t)past, rd[s].data());
                    }
                    within(rd[1], rd[0], {}, 0, 0, "cache_read (exact) " + tag);
                }
        }
    }
}

// ------------------------------------------------------------------------------------------- forward

struct Session {
    panopt_session* s = nullptr;
    Session(panopt_model* m, int max_batch, int max_seq, int32_t cache_dt) {
        panopt_session_options o{sizeof(panopt_session_options), max_batch, max_seq, cache_dt, PANOPT_DTYPE_F32};
        if (panopt_session_create(m, &o, &s) != PANOPT_OK) std::printf("session_create: %s\n", panopt_last_error());
    }
    ~Session() { panopt_session_free(s); }
};

// logits [B, S, vocab] of one forward call; hs/att filled when non-empty vectors are given
std::vector<float> run_forward(panopt_session* s, const panopt_config& c, const std::vector<int32_t>& ids,
                               const std::vector<int32_t>& mask, int B, int S, bool use_cache,
                               std::vector<std::vector<float>>* hs = nullptr, std::vector<std::vector<float>>* att = nullptr,
                               int past = 0) {
    std::vector<float> logits((size_t)B * S * c.vocab_size, NAN);
    panopt_forward_args a{};
    a.struct_size = sizeof a;
    a.batch = B;
    a.seq_len = S;
    a.use_cache = use_cache;
    a.input_ids = ids.data();
    a.attention_mask = mask.empty() ? nullptr : mask.data();
    a.head_out = logits.data();
    std::vector<float*> hp, ap;
    if (hs) {
        hs->assign((size_t)c.num_hidden_layers + 1, std::vector<float>((size_t)B * S * c.hidden_size, NAN));
        for (auto& v : *hs) hp.push_back(v.data());
        a.hidden_states = hp.data();
    }
    if (att) {
        att->assign((size_t)c.num_hidden_layers,
                    std::vector<float>((size_t)B * c.num_attention_heads * S * (past + S), NAN));
        for (auto& v : *att) ap.push_back(v.data());
        a.attentions = ap.data();
    }
    if (panopt_forward(s, &a) != PANOPT_OK) std::printf("forward: %s\n", panopt_last_error());
    return logits;
}

void test_forward_passes() {
    panopt_backend_options co{};
    co.struct_size = sizeof co;
    co.kind = PANOPT_BACKEND_CPU;
    co.n_threads = 2;
    panopt_backend_options go = cuda_options(0);
    panopt_backend *cpu = nullptr, *gpu = nullptr;
    if (panopt_backend_create(&co, &cpu) != PANOPT_OK || panopt_backend_create(&go, &gpu) != PANOPT_OK) {
        T_CHECK(false, "backends: %s", panopt_last_error());
        return;
    }
    struct Variant {
        int32_t mdt;
        int32_t cache;
        bool postln_proj;
    };
    const Variant variants[] = {{PANOPT_DTYPE_F32, PANOPT_DTYPE_F32, false}, {PANOPT_DTYPE_F16, PANOPT_DTYPE_F16, false},
                                {PANOPT_DTYPE_BF16, PANOPT_DTYPE_F32, true},  {PANOPT_DTYPE_Q8_0, PANOPT_DTYPE_Q8_0, false},
                                {PANOPT_DTYPE_Q4_0, PANOPT_DTYPE_F16, true}};
    for (const Variant& v : variants) {
        if (g_small && v.mdt != PANOPT_DTYPE_F16 && v.mdt != PANOPT_DTYPE_Q4_0) continue;
        panopt_config c = small_config(128, 4, 256, 2, 300, 64);
        if (v.postln_proj) { // OPT-350m's shape: post-LN, project_in/out
            c.do_layer_norm_before = 0;
            c.has_final_layer_norm = 0;
            c.word_embed_proj_dim = 64;
        }
        const HostModel h = make_weights(c, v.mdt, PANOPT_DTYPE_F32, 42 + v.mdt);
        panopt_model* mc = make_model(cpu, h);
        panopt_model* mg = make_model(gpu, h);
        const std::string tag = std::string(dt_name(v.mdt)) + (v.postln_proj ? " post-LN+proj" : "") + " cache " +
                                dt_name(v.cache);
        if (!mc || !mg) {
            T_CHECK(false, "forward setup %s", tag.c_str());
            panopt_model_free(mc);
            panopt_model_free(mg);
            continue;
        }
        const int B = 3, P = 6, steps = g_small ? 4 : 7;
        Rng r(9);
        const std::string stats = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/panopt-cuda-stats-" +
                                  std::to_string((long)getpid()) + ".txt";
        std::remove(stats.c_str());
        {
            Session sc(mc, B, 32, v.cache);
            setenv("PANOPT_CUDA_STATS", stats.c_str(), 1); // sg reports its graph counts when freed
            Session sg(mg, B, 32, v.cache);
            unsetenv("PANOPT_CUDA_STATS");
            setenv("PANOPT_CUDA_GRAPHS", "0", 1);
            Session sn(mg, B, 32, v.cache); // no graphs
            unsetenv("PANOPT_CUDA_GRAPHS");
            std::vector<int32_t> ids((size_t)(B * P)), mask((size_t)(B * P), 1);
            for (auto& x : ids) x = (int32_t)(r.next() % 300);
            for (int j = 0; j < 2; j++) mask[(size_t)(P + j)] = 0;  // row 1 left-padded by 2
            for (int j = 0; j < P; j++) mask[(size_t)(2 * P + j)] = 0; // row 2: padding only (all-masked)
            mask[(size_t)(2 * P + P - 1)] = 1;
            const auto lc = run_forward(sc.s, c, ids, mask, B, P, true);
            const auto lg = run_forward(sg.s, c, ids, mask, B, P, true);
            const auto ln = run_forward(sn.s, c, ids, mask, B, P, true);
            within(lg, lc, {}, 2e-4, 2e-4, "prefill logits " + tag);
            within(ln, lg, {}, 0, 0, "prefill logits, graphs off (identical) " + tag);
            std::unique_ptr<Session> copy;
            for (int step = 0; step < steps; step++) {
                const int T = P + step + 1;
                std::vector<int32_t> id1((size_t)B), m1((size_t)(B * T), 1);
                for (auto& x : id1) x = (int32_t)(r.next() % 300);
                for (int b = 0; b < B; b++)
                    for (int j = 0; j < T - 1; j++) m1[(size_t)(b * T + j)] = j < P ? mask[(size_t)(b * P + j)] : 1;
                const auto dc = run_forward(sc.s, c, id1, m1, B, 1, true);
                const auto dg = run_forward(sg.s, c, id1, m1, B, 1, true); // from the 3rd step on: a replayed graph
                const auto dn = run_forward(sn.s, c, id1, m1, B, 1, true);
                within(dg, dc, {}, 2e-4, 2e-4, "decode step " + std::to_string(step) + " " + tag);
                within(dn, dg, {}, 0, 0, "decode step " + std::to_string(step) + ", graphs off (identical) " + tag);
                if (copy) {
                    const auto dk = run_forward(copy->s, c, id1, m1, B, 1, true);
                    within(dk, dg, {}, 0, 0, "decode step after session copy (identical) " + tag);
                }
                if (step == 2) {
                    copy.reset(new Session(mg, B, 40, v.cache)); // another capacity: another row pitch
                    T_CHECK(panopt_session_copy(sg.s, copy->s) == PANOPT_OK, "session_copy: %s", panopt_last_error());
                }
            }
            // the caches of both backends, read as f32
            int32_t past = 0, batch = 0;
            panopt_session_cache_info(sg.s, &past, &batch);
            T_CHECK(past == P + steps && batch == B, "cache info %d %d", past, batch);
            const int64_t n = (int64_t)B * c.num_attention_heads * past * (c.hidden_size / c.num_attention_heads);
            for (int which = 0; which < 2; which++) {
                std::vector<float> rc((size_t)n), rg((size_t)n);
                panopt_session_read_cache(sc.s, 1, which, rc.data(), n);
                panopt_session_read_cache(sg.s, 1, which, rg.data(), n);
                // Q8_0: a value next to a rounding step may round to the neighbouring level on one side
                within(rg, rc, {}, v.cache == PANOPT_DTYPE_Q8_0 ? 2e-2 : 1e-4, 1e-4, "read_cache " + tag);
            }
        }
        {
            // the decode steps of sg ran from a captured graph: step 2 captured, later steps replayed
            FILE* f = std::fopen(stats.c_str(), "r");
            unsigned long long passes = 0, captured = 0, replayed = 0;
            const int got = f ? std::fscanf(f, "passes=%llu captured=%llu replayed=%llu", &passes, &captured, &replayed) : 0;
            if (f) std::fclose(f);
            std::remove(stats.c_str());
            T_CHECK(got == 3 && passes == (unsigned long long)(1 + steps) && captured == 1 &&
                        replayed == (unsigned long long)(steps - 2),
                    "graph use %s: %d fields, passes %llu captured %llu replayed %llu", tag.c_str(), got, passes, captured,
                    replayed);
        }
        {
            // hidden states and attentions of a call without the cache
            Session sc(mc, B, 32, PANOPT_DTYPE_F32), sg(mg, B, 32, PANOPT_DTYPE_F32);
            std::vector<int32_t> ids((size_t)(B * P)), mask((size_t)(B * P), 1);
            for (auto& x : ids) x = (int32_t)(r.next() % 300);
            mask[(size_t)P] = 0;
            std::vector<std::vector<float>> hc, hg, ac, ag;
            const auto lc = run_forward(sc.s, c, ids, mask, B, P, false, &hc, &ac);
            const auto lg = run_forward(sg.s, c, ids, mask, B, P, false, &hg, &ag);
            within(lg, lc, {}, 2e-4, 2e-4, "logits with outputs " + tag);
            for (size_t i = 0; i + 1 < hc.size(); i++)
                within(hg[i], hc[i], {}, 2e-4, 2e-4, "hidden_states[" + std::to_string(i) + "] " + tag);
            for (size_t i = 0; i < ac.size(); i++)
                within(ag[i], ac[i], {}, 0, 1e-5, "attentions[" + std::to_string(i) + "] " + tag);
        }
        panopt_model_free(mc);
        panopt_model_free(mg);
    }
    panopt_backend_free(cpu);
    panopt_backend_free(gpu);
}

// Errors on the device come back as statuses with messages.
void test_errors() {
    panopt_backend* gpu = nullptr;
    panopt_backend_options go = cuda_options(0);
    if (panopt_backend_create(&go, &gpu) != PANOPT_OK) return;
    const panopt_config c = small_config(64, 2, 64, 2, 50, 2048);
    panopt_model* m = nullptr;
    T_CHECK(panopt_model_create(gpu, &c, &m) == PANOPT_OK, "model");
    std::vector<unsigned char> q4k((size_t)panopt::row_bytes(PANOPT_DTYPE_Q4_K, 256) * 64);
    const panopt_config c2 = small_config(256, 2, 64, 1, 64, 8);
    panopt_model* m2 = nullptr;
    panopt_model_create(gpu, &c2, &m2);
    T_CHECK(panopt_model_set_tensor(m2, PANOPT_T_FC1_WEIGHT, 0, PANOPT_DTYPE_Q4_K, q4k.data(), (int64_t)q4k.size()) ==
                    PANOPT_ERR_UNSUPPORTED &&
                contains(panopt_last_error(), "Q4_K"),
            "Q4_K weights on CUDA: %s", panopt_last_error());
    panopt_model_free(m2);
    panopt_model_free(m);
    const HostModel h = make_weights(c, PANOPT_DTYPE_F16, PANOPT_DTYPE_F32, 1);
    panopt_model* mg = make_model(gpu, h);
    if (mg) {
        // a cache far beyond any GPU's memory: OUT_OF_MEMORY and a message, no abort
        panopt_session_options o{sizeof(panopt_session_options), 1 << 22, 2048, PANOPT_DTYPE_F32, PANOPT_DTYPE_F32};
        panopt_session* s = nullptr;
        T_CHECK(panopt_session_create(mg, &o, &s) == PANOPT_ERR_OUT_OF_MEMORY && contains(panopt_last_error(), "GPU memory"),
                "huge cache: %s", panopt_last_error());
        // and the device still works afterwards
        Session ok(mg, 1, 16, PANOPT_DTYPE_F32);
        const auto l = run_forward(ok.s, c, {1, 2, 3}, {}, 1, 3, true);
        T_CHECK(std::isfinite(l[0]), "forward after an allocation failure");
        panopt_model_free(mg);
    }
    panopt_backend_free(gpu);
}

} // namespace

int run_cuda_host_tests() {
    test_options();
    test_availability();
    return 0;
}

// 77 (ctest's SKIP_RETURN_CODE) when no CUDA backend can be created here.
int run_cuda_tests() {
    panopt_backend* b = nullptr;
    panopt_backend_options o = cuda_options(0);
    if (panopt_backend_create(&o, &b) != PANOPT_OK) {
        std::printf("SKIPPED: the CUDA tests need a usable NVIDIA GPU: %s\n", panopt_last_error());
        return 77;
    }
    panopt_backend_free(b);
    const char* which = std::getenv("PANOPT_CUDA_TESTS");
    g_small = which && std::string(which) == "small";
    test_embed_norm_elementwise();
    test_linear();
    test_attention();
    test_forward_passes();
    test_errors();
    return 0;
}
