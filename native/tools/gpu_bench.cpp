// gpu_bench.cpp — decode and prefill throughput of an OPT shape with random weights, through the C
// API (what Java calls), on the CUDA backend (or the CPU, --device cpu), for native/tools/gpu-check.sh
// to set beside PyTorch eager (bench_torch.py, same shapes and weight type).
//
//   panopt_gpu_bench --shape opt-1.3b|opt-6.7b|opt-125m [--dtype f16|bf16|q8_0|q4_0] [--device cuda:N|cpu]
//                    [--batches 1,16] [--context 128] [--steps 64] [--prefill 2048] [--repeats 3]
// One JSON object per measurement on stdout:
//   {"engine":"panopt","shape":...,"dtype":...,"what":"decode","batch":B,"context":C,"tok_per_s":X,...}
// Decode: after a prefill of --context tokens per row, --steps single-token steps of every row (the
// first two, eager and captured, are not timed: the rest replay the captured graph), greedy-free (the
// next ids are random, so no sampling cost is measured), last-position logits only, as generation runs.
// Prefill: one forward of --prefill tokens (batch 1) with the cache, last-position logits.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "panopt.h"

namespace {

struct Shape {
    const char* name;
    int hidden, layers, heads, ffn;
};
const Shape kShapes[] = {{"opt-125m", 768, 12, 12, 3072}, {"opt-1.3b", 2048, 24, 32, 8192}, {"opt-6.7b", 4096, 32, 32, 16384}};

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "gpu_bench: %s: %s\n", what.c_str(), panopt_last_error());
    std::exit(1);
}

// Bytes of a row of `cols` elements of dtype (panopt.h's type list, the one definition of the sizes).
int64_t row_bytes_of(int32_t dtype, int64_t cols) {
#define PANOPT_ROW_BYTES_(name, code, block_elems, block_bytes) \
    if (dtype == code) return cols / block_elems * block_bytes;
    PANOPT_DTYPE_LIST(PANOPT_ROW_BYTES_)
#undef PANOPT_ROW_BYTES_
    return -1;
}

// Random ~N(0, scale^2)-ish f32 values (a sum of two uniforms), quantized by the library to the weight type.
void fill(std::vector<unsigned char>& out, int32_t dtype, int64_t rows, int64_t cols, float scale, uint64_t seed) {
    const unsigned nt = std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
    const int64_t rb = row_bytes_of(dtype, cols);
    out.resize((size_t)(rows * rb));
    std::vector<std::thread> th;
    for (unsigned t = 0; t < nt; t++)
        th.emplace_back([&, t] {
            std::vector<float> row((size_t)cols);
            uint64_t s = seed * 0x9E3779B97F4A7C15ull + t + 1;
            for (int64_t r = t; r < rows; r += nt) {
                for (auto& x : row) {
                    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                    const float u = (float)((s >> 40) & 0xFFFFFF) / 16777216.0f + (float)((s >> 16) & 0xFFFFFF) / 16777216.0f;
                    x = (u - 1.0f) * 2.45f * scale; // variance of a sum of two uniforms: 1/6
                }
                if (panopt_quantize(dtype, row.data(), 1, cols, out.data() + r * rb, rb) != PANOPT_OK) die("quantize");
            }
        });
    for (auto& x : th) x.join();
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

} // namespace

int main(int argc, char** argv) {
    std::string shape_name = "opt-1.3b", dtype_name = "f16", device = "cuda:0", batches = "1,16";
    int context = 128, steps = 64, prefill = 2048, repeats = 3;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "gpu_bench: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--shape") shape_name = val();
        else if (a == "--dtype") dtype_name = val();
        else if (a == "--device") device = val();
        else if (a == "--batches") batches = val();
        else if (a == "--context") context = std::atoi(val().c_str());
        else if (a == "--steps") steps = std::atoi(val().c_str());
        else if (a == "--prefill") prefill = std::atoi(val().c_str());
        else if (a == "--repeats") repeats = std::atoi(val().c_str());
        else {
            std::fprintf(stderr, "usage: panopt_gpu_bench [--shape opt-125m|opt-1.3b|opt-6.7b] [--dtype f16|bf16|q8_0|q4_0] "
                                 "[--device cuda:N|cpu] [--batches 1,16] [--context N] [--steps N] [--prefill N] [--repeats N]\n");
            return 2;
        }
    }
    const Shape* sh = nullptr;
    for (const Shape& s : kShapes)
        if (shape_name == s.name) sh = &s;
    const int32_t dtype = dtype_name == "f16"    ? PANOPT_DTYPE_F16
                          : dtype_name == "bf16" ? PANOPT_DTYPE_BF16
                          : dtype_name == "q8_0" ? PANOPT_DTYPE_Q8_0
                          : dtype_name == "q4_0" ? PANOPT_DTYPE_Q4_0
                                                 : -1;
    if (!sh || dtype < 0 || steps < 4 || context < 1 || prefill < 0) {
        std::fprintf(stderr, "gpu_bench: bad --shape, --dtype, --steps (>= 4) or --context\n");
        return 2;
    }
    std::vector<int> bs;
    for (size_t p = 0; p < batches.size();) {
        size_t q = batches.find(',', p);
        bs.push_back(std::atoi(batches.substr(p, q - p).c_str()));
        p = q == std::string::npos ? batches.size() : q + 1;
    }

    panopt_backend_options bo{};
    bo.struct_size = sizeof bo;
    if (device.rfind("cuda", 0) == 0) {
        bo.kind = PANOPT_BACKEND_CUDA;
        bo.device = device.size() > 5 ? std::atoi(device.c_str() + 5) : 0;
    }
    panopt_backend* be = nullptr;
    if (panopt_backend_create(&bo, &be) != PANOPT_OK) die("backend " + device);

    panopt_config c{};
    c.struct_size = sizeof c;
    c.vocab_size = 50272;
    c.hidden_size = sh->hidden;
    c.num_hidden_layers = sh->layers;
    c.num_attention_heads = sh->heads;
    c.ffn_dim = sh->ffn;
    c.max_position_embeddings = 2048;
    c.word_embed_proj_dim = sh->hidden;
    c.do_layer_norm_before = 1;
    c.enable_bias = 1;
    c.layer_norm_elementwise_affine = 1;
    c.has_final_layer_norm = 1;
    c.activation = PANOPT_ACT_RELU;
    c.head_size = c.vocab_size;
    c.layer_norm_eps = 1e-5f;
    panopt_model* m = nullptr;
    if (panopt_model_create(be, &c, &m) != PANOPT_OK) die("model_create");

    // every weight its own buffer (nothing shared across layers but the tied LM head); vectors F32
    const double t0 = now();
    std::vector<std::vector<unsigned char>> store;
    store.reserve(8 + 16 * (size_t)c.num_hidden_layers);
    auto set = [&](int kind, int layer, int32_t dt, int64_t rows, int64_t cols, float scale, float offset) {
        store.emplace_back();
        fill(store.back(), dt, rows, cols, scale, store.size());
        if (offset != 0.0f) { // LayerNorm weights near 1 (f32 vectors)
            float* f = reinterpret_cast<float*>(store.back().data());
            for (int64_t i = 0; i < cols; i++) f[i] += offset;
        }
        if (panopt_model_set_tensor(m, kind, layer, dt, store.back().data(), (int64_t)store.back().size()) != PANOPT_OK)
            die("set_tensor");
    };
    const int64_t H = c.hidden_size, F = c.ffn_dim, V = c.vocab_size;
    set(PANOPT_T_EMBED_TOKENS, -1, dtype, V, H, 0.02f, 0);
    if (panopt_model_set_tensor(m, PANOPT_T_HEAD_WEIGHT, -1, dtype, store.back().data(), (int64_t)store.back().size()) !=
        PANOPT_OK)
        die("head");
    set(PANOPT_T_EMBED_POSITIONS, -1, dtype, c.max_position_embeddings + 2, H, 0.02f, 0);
    set(PANOPT_T_FINAL_LN_WEIGHT, -1, PANOPT_DTYPE_F32, 1, H, 0.05f, 1.0f);
    set(PANOPT_T_FINAL_LN_BIAS, -1, PANOPT_DTYPE_F32, 1, H, 0.05f, 0);
    for (int l = 0; l < c.num_hidden_layers; l++) {
        for (int k : {PANOPT_T_Q_WEIGHT, PANOPT_T_K_WEIGHT, PANOPT_T_V_WEIGHT, PANOPT_T_O_WEIGHT}) {
            set(k, l, dtype, H, H, 0.02f, 0);
            set(k + 1, l, PANOPT_DTYPE_F32, 1, H, 0.02f, 0);
        }
        set(PANOPT_T_FC1_WEIGHT, l, dtype, F, H, 0.02f, 0);
        set(PANOPT_T_FC1_BIAS, l, PANOPT_DTYPE_F32, 1, F, 0.02f, 0);
        set(PANOPT_T_FC2_WEIGHT, l, dtype, H, F, 0.02f, 0);
        set(PANOPT_T_FC2_BIAS, l, PANOPT_DTYPE_F32, 1, H, 0.02f, 0);
        for (int k : {PANOPT_T_ATTN_LN_WEIGHT, PANOPT_T_FFN_LN_WEIGHT}) {
            set(k, l, PANOPT_DTYPE_F32, 1, H, 0.05f, 1.0f);
            set(k + 1, l, PANOPT_DTYPE_F32, 1, H, 0.05f, 0);
        }
    }
    const double t1 = now();
    if (panopt_model_finalize(m) != PANOPT_OK) die("finalize"); // the upload
    const double t2 = now();
    std::fprintf(stderr, "gpu_bench: %s %s: weights made in %.1f s, finalized (uploaded) in %.1f s\n", sh->name,
                 dtype_name.c_str(), t1 - t0, t2 - t1);

    uint64_t rng = 12345;
    auto next_id = [&]() {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        return (int32_t)(rng % (uint64_t)V);
    };
    auto report = [&](const char* what, int batch, int ctx, double tok_per_s, double ms) {
        std::printf("{\"engine\":\"panopt\",\"device\":\"%s\",\"shape\":\"%s\",\"dtype\":\"%s\",\"what\":\"%s\",\"batch\":%d,"
                    "\"context\":%d,\"tok_per_s\":%.2f,\"ms\":%.3f}\n",
                    device.c_str(), sh->name, dtype_name.c_str(), what, batch, ctx, tok_per_s, ms);
        std::fflush(stdout);
    };
    // one forward: batch rows of seq new ids after `past` cached positions, last-position logits
    auto forward = [&](panopt_session* s, int batch, int seq, std::vector<float>& logits) {
        std::vector<int32_t> ids((size_t)batch * seq), pos((size_t)batch, seq - 1);
        for (auto& x : ids) x = next_id();
        panopt_forward_args a{};
        a.struct_size = sizeof a;
        a.batch = batch;
        a.seq_len = seq;
        a.use_cache = 1;
        a.input_ids = ids.data();
        a.head_positions = pos.data();
        a.head_out = logits.data();
        if (panopt_forward(s, &a) != PANOPT_OK) die("forward");
    };

    for (int B : bs) {
        panopt_session_options so{sizeof(panopt_session_options), B, std::min(2048, context + steps), PANOPT_DTYPE_F16, PANOPT_DTYPE_F32};
        panopt_session* s = nullptr;
        if (panopt_session_create(m, &so, &s) != PANOPT_OK) die("session");
        std::vector<float> logits((size_t)B * V);
        std::vector<double> per;
        for (int r = 0; r < repeats; r++) {
            panopt_session_reset(s);
            forward(s, B, context, logits);
            forward(s, B, 1, logits); // eager, then captured: not timed
            forward(s, B, 1, logits);
            const int timed = steps - 2;
            const double a = now();
            for (int i = 0; i < timed; i++) forward(s, B, 1, logits);
            per.push_back((now() - a) / timed);
        }
        std::sort(per.begin(), per.end());
        const double step = per[per.size() / 2];
        report("decode", B, context, B / step, step * 1e3);
        panopt_session_free(s);
    }
    if (prefill > 0) {
        panopt_session_options so{sizeof(panopt_session_options), 1, std::min(2048, prefill), PANOPT_DTYPE_F16, PANOPT_DTYPE_F32};
        panopt_session* s = nullptr;
        if (panopt_session_create(m, &so, &s) != PANOPT_OK) die("session");
        std::vector<float> logits((size_t)V);
        std::vector<double> per;
        for (int r = 0; r < repeats + 1; r++) { // the first is a warm-up (arena growth)
            panopt_session_reset(s);
            const double a = now();
            forward(s, 1, prefill, logits);
            if (r > 0) per.push_back(now() - a);
        }
        std::sort(per.begin(), per.end());
        const double t = per[per.size() / 2];
        report("prefill", 1, prefill, prefill / t, t * 1e3);
        panopt_session_free(s);
    }
    panopt_model_free(m);
    panopt_backend_free(be);
    return 0;
}
