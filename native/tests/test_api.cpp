// Error paths of the C API: proper status + message, never a crash.
#include <vector>

#include "panopt.h"
#include "test_util.h"

namespace {

panopt_config tiny_config() {
    panopt_config c{};
    c.vocab_size = 50;
    c.hidden_size = 8;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 2;
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
    return c;
}

std::vector<float> g_data(100000, 0.01f);

int64_t numel(const panopt_config& c, int kind) {
    int64_t h = c.hidden_size, p = c.word_embed_proj_dim, f = c.ffn_dim;
    switch (kind) {
    case PANOPT_T_EMBED_TOKENS: return c.vocab_size * p;
    case PANOPT_T_EMBED_POSITIONS: return (c.max_position_embeddings + 2) * h;
    case PANOPT_T_FINAL_LN_WEIGHT:
    case PANOPT_T_FINAL_LN_BIAS: return h;
    case PANOPT_T_HEAD_WEIGHT: return c.head_size * p;
    case PANOPT_T_FC1_WEIGHT:
    case PANOPT_T_FC2_WEIGHT: return f * h;
    case PANOPT_T_FC1_BIAS: return f;
    default: return kind == PANOPT_T_Q_WEIGHT || kind == PANOPT_T_K_WEIGHT || kind == PANOPT_T_V_WEIGHT ||
                            kind == PANOPT_T_O_WEIGHT
                        ? h * h
                        : h;
    }
}

panopt_model* full_model(const panopt_config& c, int skip_kind = -100) {
    panopt_model* m = nullptr;
    if (panopt_model_create(&c, &m) != PANOPT_OK) return nullptr;
    for (int k : {0, 1, 4, 5, 6})
        if (k != skip_kind) panopt_model_set_tensor(m, k, -1, PANOPT_DTYPE_F32, g_data.data(), numel(c, k));
    for (int l = 0; l < c.num_hidden_layers; l++)
        for (int k = 16; k < 32; k++)
            if (k != skip_kind) panopt_model_set_tensor(m, k, l, PANOPT_DTYPE_F32, g_data.data(), numel(c, k));
    return m;
}

#define EXPECT_STATUS(expr, st)                                                                                        \
    do {                                                                                                               \
        panopt_status got_ = (expr);                                                                                   \
        T_CHECK(got_ == (st), "%s -> %d (expected %d), message '%s'", #expr, got_, (int)(st), panopt_last_error());      \
        if ((st) != PANOPT_OK) T_CHECK(panopt_last_error()[0] != 0, "empty error message for %s", #expr);             \
    } while (0)

} // namespace

int run_api_tests() {
    T_CHECK(panopt_abi_version() == PANOPT_ABI_VERSION, "abi version");
    T_CHECK(panopt_version()[0] != 0, "version");
    panopt_config c = tiny_config();
    panopt_model* m = nullptr;

    // model_create
    EXPECT_STATUS(panopt_model_create(nullptr, &m), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_create(&c, nullptr), PANOPT_ERR_INVALID_ARGUMENT);
    panopt_config bad = c;
    bad.num_attention_heads = 3;
    EXPECT_STATUS(panopt_model_create(&bad, &m), PANOPT_ERR_INVALID_ARGUMENT);
    bad = c;
    bad.activation = 99;
    EXPECT_STATUS(panopt_model_create(&bad, &m), PANOPT_ERR_INVALID_ARGUMENT);
    bad = c;
    bad.reserved = 1;
    EXPECT_STATUS(panopt_model_create(&bad, &m), PANOPT_ERR_INVALID_ARGUMENT);
    T_CHECK(m == nullptr, "no model on failure");

    // set_tensor
    EXPECT_STATUS(panopt_model_create(&c, &m), PANOPT_OK);
    EXPECT_STATUS(panopt_model_set_tensor(nullptr, 0, -1, 0, g_data.data(), 400), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, -1, 0, nullptr, 400), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 99, -1, 0, g_data.data(), 400), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 8, -1, 0, g_data.data(), 400), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, 0, 0, g_data.data(), 400), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 16, -1, 0, g_data.data(), 64), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 16, 2, 0, g_data.data(), 64), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, -1, 0, g_data.data(), 399), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, -1, 7, g_data.data(), 400), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, -1, PANOPT_DTYPE_BF16, g_data.data(), 400), PANOPT_OK);
    // session on an unfinalized model
    panopt_session_options so{2, 16, 1, PANOPT_ISA_AUTO};
    panopt_session* s = nullptr;
    EXPECT_STATUS(panopt_session_create(m, &so, &s), PANOPT_ERR_STATE);
    // finalize with missing tensors
    EXPECT_STATUS(panopt_model_finalize(m), PANOPT_ERR_STATE);
    T_CHECK(std::string(panopt_last_error()).find("missing") != std::string::npos, "message names missing tensors: %s",
            panopt_last_error());
    panopt_model_free(m);
    m = full_model(c, PANOPT_T_FC2_BIAS);
    EXPECT_STATUS(panopt_model_finalize(m), PANOPT_ERR_STATE);
    T_CHECK(std::string(panopt_last_error()).find("fc2.bias") != std::string::npos, "message names fc2.bias: %s",
            panopt_last_error());
    panopt_model_free(m);
    // extra tensor (project_in while proj == hidden)
    m = full_model(c);
    EXPECT_STATUS(panopt_model_set_tensor(m, PANOPT_T_PROJECT_IN, -1, 0, g_data.data(), 64), PANOPT_OK);
    EXPECT_STATUS(panopt_model_finalize(m), PANOPT_ERR_STATE);
    panopt_model_free(m);

    // a good model
    m = full_model(c);
    EXPECT_STATUS(panopt_model_finalize(m), PANOPT_OK);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, -1, 0, g_data.data(), 400), PANOPT_ERR_STATE);

    // session_create
    EXPECT_STATUS(panopt_session_create(nullptr, &so, &s), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_session_create(m, nullptr, &s), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_session_create(m, &so, nullptr), PANOPT_ERR_INVALID_ARGUMENT);
    panopt_session_options bo = so;
    bo.max_seq_len = 17;
    EXPECT_STATUS(panopt_session_create(m, &bo, &s), PANOPT_ERR_INVALID_ARGUMENT);
    bo = so;
    bo.max_batch = 0;
    EXPECT_STATUS(panopt_session_create(m, &bo, &s), PANOPT_ERR_INVALID_ARGUMENT);
    bo = so;
    bo.isa = 42;
    EXPECT_STATUS(panopt_session_create(m, &bo, &s), PANOPT_ERR_INVALID_ARGUMENT);
    if (panopt_cpu_isa() < PANOPT_ISA_AVX512) {
        bo = so;
        bo.isa = PANOPT_ISA_AVX512;
        EXPECT_STATUS(panopt_session_create(m, &bo, &s), PANOPT_ERR_UNSUPPORTED);
    }
    EXPECT_STATUS(panopt_session_create(m, &so, &s), PANOPT_OK);

    // forward errors
    std::vector<int32_t> ids = {1, 2, 3, 4, 5, 6};
    std::vector<float> out(6 * 50);
    panopt_forward_args a{};
    a.batch = 2;
    a.seq_len = 3;
    a.input_ids = ids.data();
    a.use_cache = 1;
    a.head_out = out.data();
    EXPECT_STATUS(panopt_forward(nullptr, &a), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_forward(s, nullptr), PANOPT_ERR_INVALID_ARGUMENT);
    panopt_forward_args b = a;
    b.input_ids = nullptr;
    EXPECT_STATUS(panopt_forward(s, &b), PANOPT_ERR_INVALID_ARGUMENT);
    b = a;
    b.reserved = 3;
    EXPECT_STATUS(panopt_forward(s, &b), PANOPT_ERR_INVALID_ARGUMENT);
    b = a;
    b.seq_len = 0;
    EXPECT_STATUS(panopt_forward(s, &b), PANOPT_ERR_INVALID_ARGUMENT);
    std::vector<int32_t> bad_ids = {1, 2, 50, 4, 5, 6};
    b = a;
    b.input_ids = bad_ids.data();
    EXPECT_STATUS(panopt_forward(s, &b), PANOPT_ERR_INVALID_ARGUMENT);
    bad_ids[2] = -1;
    EXPECT_STATUS(panopt_forward(s, &b), PANOPT_ERR_INVALID_ARGUMENT);
    std::vector<int32_t> mask = {1, 1, 2, 1, 1, 1};
    b = a;
    b.attention_mask = mask.data();
    EXPECT_STATUS(panopt_forward(s, &b), PANOPT_ERR_INVALID_ARGUMENT);
    std::vector<int32_t> hp = {0, 3};
    b = a;
    b.head_positions = hp.data();
    EXPECT_STATUS(panopt_forward(s, &b), PANOPT_ERR_INVALID_ARGUMENT);
    b = a;
    b.batch = 3;
    std::vector<int32_t> ids9(9, 1);
    b.input_ids = ids9.data();
    EXPECT_STATUS(panopt_forward(s, &b), PANOPT_ERR_CAPACITY); // max_batch 2
    int32_t past = -1, batch = -1;
    EXPECT_STATUS(panopt_session_cache_info(s, &past, &batch), PANOPT_OK);
    T_CHECK(past == 0 && batch == 0, "cache untouched by failed calls");
    // good call, then batch mismatch and capacity
    EXPECT_STATUS(panopt_forward(s, &a), PANOPT_OK);
    EXPECT_STATUS(panopt_session_cache_info(s, &past, &batch), PANOPT_OK);
    T_CHECK(past == 3 && batch == 2, "cache_info %d %d", past, batch);
    b = a;
    b.batch = 1;
    EXPECT_STATUS(panopt_forward(s, &b), PANOPT_ERR_STATE);
    std::vector<int32_t> ids28(28, 1);
    b = a;
    b.seq_len = 14; // 3 + 14 > 16
    b.input_ids = ids28.data();
    b.head_out = nullptr;
    EXPECT_STATUS(panopt_forward(s, &b), PANOPT_ERR_CAPACITY);
    b.seq_len = 13; // exactly full
    EXPECT_STATUS(panopt_forward(s, &b), PANOPT_OK);
    // use_cache = 0 ignores (and keeps) the cache
    b = a;
    b.batch = 1;
    b.use_cache = 0;
    EXPECT_STATUS(panopt_forward(s, &b), PANOPT_OK);
    EXPECT_STATUS(panopt_session_cache_info(s, &past, &batch), PANOPT_OK);
    T_CHECK(past == 16 && batch == 2, "cache_info after use_cache=0: %d %d", past, batch);
    // read_cache
    std::vector<float> kv(2 * 2 * 16 * 4);
    EXPECT_STATUS(panopt_session_read_cache(s, 0, 0, kv.data(), (int64_t)kv.size()), PANOPT_OK);
    EXPECT_STATUS(panopt_session_read_cache(s, 0, 0, kv.data(), (int64_t)kv.size() - 1), PANOPT_ERR_CAPACITY);
    EXPECT_STATUS(panopt_session_read_cache(s, 2, 0, kv.data(), (int64_t)kv.size()), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_session_read_cache(s, 0, 2, kv.data(), (int64_t)kv.size()), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_session_read_cache(s, 0, 0, nullptr, 10), PANOPT_ERR_INVALID_ARGUMENT);
    // copy into a too-small session
    panopt_session* small = nullptr;
    panopt_session_options so2{1, 16, 1, PANOPT_ISA_AUTO};
    EXPECT_STATUS(panopt_session_create(m, &so2, &small), PANOPT_OK);
    EXPECT_STATUS(panopt_session_copy(s, small), PANOPT_ERR_CAPACITY);
    EXPECT_STATUS(panopt_session_copy(nullptr, small), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_session_reset(s), PANOPT_OK);
    EXPECT_STATUS(panopt_session_cache_info(s, &past, &batch), PANOPT_OK);
    T_CHECK(past == 0 && batch == 0, "reset");
    EXPECT_STATUS(panopt_session_reset(nullptr), PANOPT_ERR_INVALID_ARGUMENT);
    // head_out on a model without head
    panopt_config nh = c;
    nh.head_size = 0;
    panopt_model* m2 = nullptr;
    EXPECT_STATUS(panopt_model_create(&nh, &m2), PANOPT_OK);
    EXPECT_STATUS(panopt_model_set_tensor(m2, PANOPT_T_HEAD_WEIGHT, -1, 0, g_data.data(), 0), PANOPT_OK);
    EXPECT_STATUS(panopt_model_finalize(m2), PANOPT_ERR_STATE); // head weight not used by this config
    panopt_model_free(m2);
    m2 = full_model(nh, PANOPT_T_HEAD_WEIGHT);
    EXPECT_STATUS(panopt_model_finalize(m2), PANOPT_OK);
    panopt_session* s2 = nullptr;
    EXPECT_STATUS(panopt_session_create(m2, &so, &s2), PANOPT_OK);
    EXPECT_STATUS(panopt_forward(s2, &a), PANOPT_ERR_INVALID_ARGUMENT); // head_out without a head
    b = a;
    b.head_out = nullptr;
    EXPECT_STATUS(panopt_forward(s2, &b), PANOPT_OK);
    panopt_session_free(s2);
    panopt_model_free(m2);
    // all activations run
    for (int act = 0; act <= PANOPT_ACT_LAPLACE; act++) {
        panopt_config ca = c;
        ca.activation = act;
        panopt_model* ma = full_model(ca);
        EXPECT_STATUS(panopt_model_finalize(ma), PANOPT_OK);
        panopt_session* sa = nullptr;
        EXPECT_STATUS(panopt_session_create(ma, &so, &sa), PANOPT_OK);
        EXPECT_STATUS(panopt_forward(sa, &a), PANOPT_OK);
        panopt_session_free(sa);
        panopt_model_free(ma);
    }
    panopt_session_free(small);
    panopt_session_free(s);
    EXPECT_STATUS(panopt_session_free(nullptr), PANOPT_OK);
    EXPECT_STATUS(panopt_model_free(nullptr), PANOPT_OK);
    panopt_model_free(m);
    return 0;
}
