// Loads libpanopt.so with dlopen(RTLD_NOW) and runs a tiny model through its C API: built and run
// against the old glibc of the sysroot (CTest runs it under that glibc's own dynamic loader), it shows
// the library loads and works there, threads and C++ exceptions included.
//   panopt_glibc_load_check path/to/libpanopt.so
#include <dlfcn.h>
#include <gnu/libc-version.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "panopt.h"

namespace {
void* lib = nullptr;

template <class F> F fn(const char* name) {
    void* p = dlsym(lib, name);
    if (!p) {
        std::fprintf(stderr, "missing symbol %s: %s\n", name, dlerror());
        std::exit(1);
    }
    return reinterpret_cast<F>(p);
}

int fail(const char* what, const char* detail) {
    std::fprintf(stderr, "glibc load check: %s: %s\n", what, detail ? detail : "");
    return 1;
}
} // namespace

int main(int argc, char** argv) {
    if (argc != 2) return fail("usage", "panopt_glibc_load_check LIBRARY");
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) return fail("dlopen", dlerror());
    auto version = fn<decltype(&panopt_version)>("panopt_version");
    auto last_error = fn<decltype(&panopt_last_error)>("panopt_last_error");
    auto backend_create = fn<decltype(&panopt_backend_create)>("panopt_backend_create");
    auto backend_free = fn<decltype(&panopt_backend_free)>("panopt_backend_free");
    auto model_create = fn<decltype(&panopt_model_create)>("panopt_model_create");
    auto set_tensor = fn<decltype(&panopt_model_set_tensor)>("panopt_model_set_tensor");
    auto finalize = fn<decltype(&panopt_model_finalize)>("panopt_model_finalize");
    auto model_free = fn<decltype(&panopt_model_free)>("panopt_model_free");
    auto session_create = fn<decltype(&panopt_session_create)>("panopt_session_create");
    auto session_free = fn<decltype(&panopt_session_free)>("panopt_session_free");
    auto forward = fn<decltype(&panopt_forward)>("panopt_forward");

    panopt_backend_options bo{};
    bo.struct_size = sizeof bo;
    bo.n_threads = 2; // one worker thread besides this one
    panopt_backend* be = nullptr;
    if (backend_create(&bo, &be) != PANOPT_OK) return fail("backend_create", last_error());

    panopt_config c{};
    c.struct_size = sizeof c;
    c.vocab_size = 50;
    c.hidden_size = 8;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 3; // does not divide hidden_size: an error, thrown and caught inside
    c.ffn_dim = 16;
    c.max_position_embeddings = 16;
    c.word_embed_proj_dim = 8;
    c.do_layer_norm_before = 1;
    c.enable_bias = 1;
    c.layer_norm_elementwise_affine = 1;
    c.has_final_layer_norm = 1;
    c.activation = PANOPT_ACT_RELU;
    c.head_size = 50;
    c.layer_norm_eps = 1e-5f;
    panopt_model* m = nullptr;
    if (model_create(be, &c, &m) == PANOPT_OK || last_error()[0] == 0)
        return fail("model_create with a bad config", "expected an error with a message");
    c.num_attention_heads = 2;
    if (model_create(be, &c, &m) != PANOPT_OK) return fail("model_create", last_error());

    std::vector<float> w(16 * 50, 0.01f);
    auto put = [&](int kind, int layer, int64_t n) {
        return set_tensor(m, kind, layer, PANOPT_DTYPE_F32, w.data(), 4 * n) == PANOPT_OK;
    };
    bool ok = put(PANOPT_T_EMBED_TOKENS, -1, 50 * 8) && put(PANOPT_T_EMBED_POSITIONS, -1, 18 * 8) &&
              put(PANOPT_T_FINAL_LN_WEIGHT, -1, 8) && put(PANOPT_T_FINAL_LN_BIAS, -1, 8) &&
              put(PANOPT_T_HEAD_WEIGHT, -1, 50 * 8);
    for (int l = 0; l < 2 && ok; l++)
        for (int k = PANOPT_T_Q_WEIGHT; k <= PANOPT_T_FFN_LN_BIAS && ok; k++) {
            int64_t n = (k == PANOPT_T_FC1_WEIGHT || k == PANOPT_T_FC2_WEIGHT) ? 16 * 8
                        : k == PANOPT_T_FC1_BIAS                               ? 16
                        : (k == PANOPT_T_Q_WEIGHT || k == PANOPT_T_K_WEIGHT || k == PANOPT_T_V_WEIGHT ||
                           k == PANOPT_T_O_WEIGHT)
                            ? 8 * 8
                            : 8;
            ok = put(k, l, n);
        }
    if (!ok || finalize(m) != PANOPT_OK) return fail("loading weights", last_error());

    panopt_session_options so{};
    so.struct_size = sizeof so;
    so.max_batch = 2;
    so.max_seq_len = 8;
    panopt_session* s = nullptr;
    if (session_create(m, &so, &s) != PANOPT_OK) return fail("session_create", last_error());
    std::vector<int32_t> ids = {2, 5, 7, 2, 9, 11};
    std::vector<float> out(2 * 3 * 50, NAN);
    panopt_forward_args a{};
    a.struct_size = sizeof a;
    a.batch = 2;
    a.seq_len = 3;
    a.input_ids = ids.data();
    a.head_out = out.data();
    if (forward(s, &a) != PANOPT_OK) return fail("forward", last_error());
    for (float x : out)
        if (!std::isfinite(x)) return fail("forward", "non-finite logits");

    session_free(s);
    model_free(m);
    backend_free(be);
    std::printf("libpanopt %s loaded and ran a forward pass under glibc %s\n", version(), gnu_get_libc_version());
    return 0;
}
