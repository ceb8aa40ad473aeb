// Error paths of the C API: proper status + message, never a crash.
#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "panopt.h"
#include "session.h"
#include "test_util.h"

namespace {

panopt_config tiny_config() {
    panopt_config c{};
    c.struct_size = sizeof c;
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

int64_t f32_bytes(const panopt_config& c, int kind) { return 4 * numel(c, kind); }

panopt_backend* g_backend = nullptr; // AUTO ISA, 2 threads

panopt_model* full_model(const panopt_config& c, int skip_kind = -100, panopt_backend* be = g_backend) {
    panopt_model* m = nullptr;
    if (panopt_model_create(be, &c, &m) != PANOPT_OK) return nullptr;
    for (int k : {0, 1, 4, 5, 6})
        if (k != skip_kind) panopt_model_set_tensor(m, k, -1, PANOPT_DTYPE_F32, g_data.data(), f32_bytes(c, k));
    for (int l = 0; l < c.num_hidden_layers; l++)
        for (int k = 16; k < 32; k++)
            if (k != skip_kind) panopt_model_set_tensor(m, k, l, PANOPT_DTYPE_F32, g_data.data(), f32_bytes(c, k));
    return m;
}

panopt_session_options session_options(int max_batch, int max_seq) {
    panopt_session_options o{};
    o.struct_size = sizeof o;
    o.max_batch = max_batch;
    o.max_seq_len = max_seq;
    return o;
}

#define EXPECT_STATUS(expr, st)                                                                                        \
    do {                                                                                                               \
        panopt_status got_ = (expr);                                                                                   \
        T_CHECK(got_ == (st), "%s -> %d (expected %d), message '%s'", #expr, got_, (int)(st), panopt_last_error());      \
        if ((st) != PANOPT_OK) T_CHECK(panopt_last_error()[0] != 0, "empty error message for %s", #expr);             \
    } while (0)

} // namespace

// A finalized model whose tensors are all different (so every row of a cache differs); w must outlive it.
panopt_model* varied_model(const panopt_config& c, std::vector<float>& w) {
    w.resize(100000);
    for (size_t i = 0; i < w.size(); i++) w[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    panopt_model* m = nullptr;
    panopt_model_create(g_backend, &c, &m);
    for (int k : {0, 1, 4, 5, 6}) panopt_model_set_tensor(m, k, -1, PANOPT_DTYPE_F32, w.data() + 7 * k, f32_bytes(c, k));
    for (int l = 0; l < c.num_hidden_layers; l++)
        for (int k = 16; k < 32; k++) panopt_model_set_tensor(m, k, l, PANOPT_DTYPE_F32, w.data() + 13 * k + l, f32_bytes(c, k));
    EXPECT_STATUS(panopt_model_finalize(m), PANOPT_OK);
    return m;
}

// Sessions of one model on one 2-thread backend, driven from 6 threads at once (their parallel
// regions queue on the one pool): every thread's logits equal a single-threaded run's, bit for bit.
void test_concurrent_sessions(const panopt_config& c) {
    std::vector<float> w;
    panopt_model* m = varied_model(c, w);
    auto run = [&](int seed, std::vector<float>& out) {
        panopt_session_options so = session_options(2, 16);
        panopt_session* s = nullptr;
        if (panopt_session_create(m, &so, &s) != PANOPT_OK) return false;
        std::vector<int32_t> ids(8);
        for (int i = 0; i < 8; i++) ids[i] = (seed * 7 + i * 3) % 50;
        out.assign(2 * 50, 0.0f);
        bool ok = true;
        for (int step = 0; step < 4 && ok; step++) { // prompt of 4 per row, then 3 single-token steps
            panopt_forward_args a{};
            a.struct_size = sizeof a;
            a.batch = 2;
            a.seq_len = step == 0 ? 4 : 1;
            a.input_ids = step == 0 ? ids.data() : ids.data() + 2 * (step - 1);
            a.use_cache = 1;
            std::vector<int32_t> hp = {a.seq_len - 1, a.seq_len - 1};
            a.head_positions = hp.data();
            a.head_out = out.data();
            ok = panopt_forward(s, &a) == PANOPT_OK;
        }
        panopt_session_free(s);
        return ok;
    };
    const int N = 6;
    std::vector<std::vector<float>> serial(N), parallel(N);
    for (int i = 0; i < N; i++) T_CHECK(run(i, serial[i]), "serial run %d: %s", i, panopt_last_error());
    std::vector<std::thread> threads;
    std::vector<int> ok(N, 0);
    for (int i = 0; i < N; i++)
        threads.emplace_back([&, i] {
            for (int rep = 0; rep < 20; rep++) ok[i] += run(i, parallel[i]) && parallel[i] == serial[i];
        });
    for (auto& t : threads) t.join();
    for (int i = 0; i < N; i++) T_CHECK(ok[i] == 20, "concurrent session %d matched the serial run %d/20 times", i, ok[i]);
    panopt_model_free(m);
}

// plan_reorder against an independent count: a row whose source differs from its index is written
// exactly once, after every reader of its old contents (checked by replaying the moves on labels), and
// each cycle of the map i -> src[i] costs one extra copy through the temporary.
void check_plan(const std::vector<int32_t>& src) {
    const int32_t n = (int32_t)src.size();
    int32_t rows = n;
    for (int32_t v : src) rows = std::max(rows, v + 1);
    std::vector<panopt::RowMove> moves = panopt::plan_reorder(src.data(), n);
    std::vector<int32_t> label((size_t)rows), writes((size_t)n, 0);
    for (int32_t i = 0; i < rows; i++) label[(size_t)i] = i;
    int32_t temp = -100;
    for (const panopt::RowMove& mv : moves) {
        int32_t v = mv.src == panopt::RowMove::ROW_TEMP ? temp : label[(size_t)mv.src];
        if (mv.dst == panopt::RowMove::ROW_TEMP) {
            temp = v;
        } else {
            label[(size_t)mv.dst] = v;
            if (mv.dst < n) writes[(size_t)mv.dst]++;
        }
    }
    int32_t changed = 0, cycles = 0;
    for (int32_t i = 0; i < n; i++) {
        T_CHECK(label[(size_t)i] == src[(size_t)i], "row %d holds old row %d, wanted %d (n %d)", i, label[(size_t)i],
                src[(size_t)i], n);
        T_CHECK(writes[(size_t)i] == (src[(size_t)i] != i ? 1 : 0), "row %d written %d times", i, writes[(size_t)i]);
        changed += src[(size_t)i] != i;
        // a cycle of length >= 2: walking i -> src[i] comes back to i; count it once, at its smallest row
        int32_t cur = src[(size_t)i], steps = 1, smallest = i;
        while (cur != i && cur < n && steps <= n) {
            smallest = std::min(smallest, cur);
            cur = src[(size_t)cur];
            steps++;
        }
        if (cur == i && steps >= 2 && smallest == i) cycles++;
    }
    T_CHECK((int32_t)moves.size() == changed + cycles, "%zu moves for %d changed rows and %d cycles (n %d)",
            moves.size(), changed, cycles, n);
}

// panopt_session_reorder: errors leave the cache alone; every kind of pattern (identity, cycles,
// repeats, dropped rows, more rows than cached) gives exactly the gathered rows, every layer.
void test_reorder(const panopt_config& c) {
    for (const std::vector<int32_t>& p : std::vector<std::vector<int32_t>>{
             {0}, {0, 1, 2, 3}, {1, 0}, {1, 2, 0}, {1, 0, 3, 2}, {3, 0, 1, 2}, {0, 0, 0, 0}, {3, 3, 1, 1},
             {1, 0, 0, 1}, {2}, {3, 1}, {0, 1, 2, 3, 3, 0}, {2, 2, 2, 2, 2, 2}, {1, 2, 0, 0, 4, 4}, {5, 4, 3, 2, 1, 0}})
        check_plan(p);
    uint32_t rng = 12345;
    auto next = [&](uint32_t m) {
        rng = rng * 1664525u + 1013904223u;
        return (rng >> 8) % m;
    };
    for (int it = 0; it < 500; it++) {
        int32_t n = 1 + (int32_t)next(12), rows = 1 + (int32_t)next(12);
        std::vector<int32_t> p((size_t)n);
        for (auto& v : p) v = (int32_t)next((uint32_t)rows);
        if (it % 3 == 0) { // a permutation: cycles only
            p.resize((size_t)std::min(n, rows));
            for (int32_t i = 0; i < (int32_t)p.size(); i++) p[(size_t)i] = i;
            for (int32_t i = (int32_t)p.size() - 1; i > 0; i--) std::swap(p[(size_t)i], p[next((uint32_t)i + 1)]);
        }
        check_plan(p);
    }

    std::vector<float> w;
    panopt_model* m = varied_model(c, w);
    const int B = 4, MAXB = 6, T = 5, NH = c.num_attention_heads, HD = c.hidden_size / NH, L = c.num_hidden_layers;
    panopt_session_options so = session_options(MAXB, 16);
    panopt_session *s = nullptr, *work = nullptr;
    EXPECT_STATUS(panopt_session_create(m, &so, &s), PANOPT_OK);
    EXPECT_STATUS(panopt_session_create(m, &so, &work), PANOPT_OK);
    const int32_t one = 0;
    EXPECT_STATUS(panopt_session_reorder(s, &one, 1), PANOPT_ERR_STATE); // empty cache
    std::vector<int32_t> ids((size_t)B * T);
    for (size_t i = 0; i < ids.size(); i++) ids[i] = (int32_t)((i * 7 + 3) % 50);
    panopt_forward_args a{};
    a.struct_size = sizeof a;
    a.batch = B;
    a.seq_len = T;
    a.input_ids = ids.data();
    a.use_cache = 1;
    EXPECT_STATUS(panopt_forward(s, &a), PANOPT_OK);
    // every layer's keys and values of the given rows, [layer][k/v][row][head][past][head_dim]
    auto read_all = [&](panopt_session* x, int rows) {
        const size_t per = (size_t)rows * NH * T * HD;
        std::vector<float> out((size_t)L * 2 * per);
        for (int l = 0; l < L; l++)
            for (int kv = 0; kv < 2; kv++)
                EXPECT_STATUS(panopt_session_read_cache(x, l, kv, out.data() + (size_t)(l * 2 + kv) * per, (int64_t)per),
                              PANOPT_OK);
        return out;
    };
    const std::vector<float> base = read_all(s, B);
    const size_t row = (size_t)NH * T * HD;
    for (int i = 1; i < B; i++)
        T_CHECK(std::memcmp(&base[0], &base[(size_t)i * row], row * sizeof(float)) != 0, "rows 0 and %d must differ", i);

    std::vector<int32_t> bad = {0, 4};
    EXPECT_STATUS(panopt_session_reorder(nullptr, bad.data(), 1), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_session_reorder(s, nullptr, 1), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_session_reorder(s, bad.data(), 0), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_session_reorder(s, bad.data(), 2), PANOPT_ERR_INVALID_ARGUMENT); // row 4 of 4
    bad[1] = -1;
    EXPECT_STATUS(panopt_session_reorder(s, bad.data(), 2), PANOPT_ERR_INVALID_ARGUMENT);
    std::vector<int32_t> seven(7, 0);
    EXPECT_STATUS(panopt_session_reorder(s, seven.data(), 7), PANOPT_ERR_CAPACITY); // max_batch 6
    int32_t past = -1, batch = -1;
    EXPECT_STATUS(panopt_session_cache_info(s, &past, &batch), PANOPT_OK);
    T_CHECK(past == T && batch == B && read_all(s, B) == base, "failed reorders left the cache as it was");

    std::vector<std::vector<int32_t>> patterns = {{0, 1, 2, 3}, {1, 0, 2, 3}, {1, 2, 3, 0}, {3, 3, 3, 3}, {2, 0, 2, 1},
                                                  {1},          {3, 0},       {0, 1, 2, 3, 3, 2}, {3, 2, 1, 0, 1, 3}};
    for (int it = 0; it < 40; it++) {
        std::vector<int32_t> p((size_t)(1 + next(MAXB)));
        for (auto& v : p) v = (int32_t)next(B);
        patterns.push_back(p);
    }
    for (const auto& p : patterns) {
        const int n = (int)p.size();
        EXPECT_STATUS(panopt_session_copy(s, work), PANOPT_OK);
        EXPECT_STATUS(panopt_session_reorder(work, p.data(), n), PANOPT_OK);
        EXPECT_STATUS(panopt_session_cache_info(work, &past, &batch), PANOPT_OK);
        T_CHECK(past == T && batch == n, "cache_info after reorder: %d %d", past, batch);
        std::vector<float> got = read_all(work, n);
        bool same = true;
        for (int l = 0; l < L * 2; l++)
            for (int i = 0; i < n; i++)
                same &= std::memcmp(&got[((size_t)l * n + i) * row], &base[((size_t)l * B + p[(size_t)i]) * row],
                                    row * sizeof(float)) == 0;
        T_CHECK(same, "reordered rows differ from the gathered ones (pattern of %d rows)", n);
    }
    panopt_session_free(work);
    panopt_session_free(s);
    panopt_model_free(m);
}

void test_weight_arena(); // test_weight_arena.cpp

int run_api_tests() {
    test_weight_arena();
    T_CHECK(panopt_abi_version() == PANOPT_ABI_VERSION, "abi version");
    T_CHECK(panopt_version()[0] != 0, "version");
    panopt_config c = tiny_config();
    panopt_model* m = nullptr;
    T_CHECK(panopt_struct_size("panopt_config") == (int64_t)sizeof(panopt_config) &&
                panopt_struct_size("panopt_forward_args") == (int64_t)sizeof(panopt_forward_args) &&
                panopt_struct_size("panopt_session_options") == (int64_t)sizeof(panopt_session_options) &&
                panopt_struct_size("panopt_backend_options") == (int64_t)sizeof(panopt_backend_options) &&
                panopt_struct_size("panopt_backend_info") == (int64_t)sizeof(panopt_backend_info) &&
                panopt_struct_size("nope") == -1 && panopt_struct_size(nullptr) == -1,
            "struct sizes");

    // backend_create / info / free
    panopt_backend_options bopt{};
    bopt.struct_size = sizeof bopt;
    bopt.n_threads = 2;
    panopt_backend* be = nullptr;
    EXPECT_STATUS(panopt_backend_create(nullptr, &be), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_backend_create(&bopt, nullptr), PANOPT_ERR_INVALID_ARGUMENT);
    panopt_backend_options bb = bopt;
    bb.kind = 7;
    EXPECT_STATUS(panopt_backend_create(&bb, &be), PANOPT_ERR_UNSUPPORTED);
    bb = bopt;
    bb.device = 1;
    EXPECT_STATUS(panopt_backend_create(&bb, &be), PANOPT_ERR_INVALID_ARGUMENT);
    bb = bopt;
    bb.n_threads = -1;
    EXPECT_STATUS(panopt_backend_create(&bb, &be), PANOPT_ERR_INVALID_ARGUMENT);
    bb = bopt;
    bb.isa = 42;
    EXPECT_STATUS(panopt_backend_create(&bb, &be), PANOPT_ERR_INVALID_ARGUMENT);
    // a level of the other architecture, or above this CPU's, is refused (the x86 levels and NEON
    // are not one order)
    const int32_t best = panopt_cpu_isa();
    for (int32_t isa : {(int32_t)PANOPT_ISA_AVX2, (int32_t)PANOPT_ISA_AVX512_VNNI, (int32_t)PANOPT_ISA_NEON}) {
        const bool x86 = best >= PANOPT_ISA_AVX2 && best <= PANOPT_ISA_AMX;
        const bool runs = isa == PANOPT_ISA_NEON ? best == PANOPT_ISA_NEON : x86 && isa <= best;
        if (runs) continue;
        bb = bopt;
        bb.isa = isa;
        EXPECT_STATUS(panopt_backend_create(&bb, &be), PANOPT_ERR_UNSUPPORTED);
    }
    bb = bopt;
    bb.isa = best; // and the best one is taken
    EXPECT_STATUS(panopt_backend_create(&bb, &be), PANOPT_OK);
    panopt_backend_free(be);
    be = nullptr;
    // struct_size: too small is an error; a larger struct is fine while its unknown tail is zero
    bb = bopt;
    bb.struct_size = 8;
    EXPECT_STATUS(panopt_backend_create(&bb, &be), PANOPT_ERR_INVALID_ARGUMENT);
    struct Bigger {
        panopt_backend_options o;
        int32_t future[2];
    } big{};
    big.o = bopt;
    big.o.struct_size = sizeof big;
    EXPECT_STATUS(panopt_backend_create(&big.o, &be), PANOPT_OK);
    panopt_backend_free(be);
    big.future[1] = 5;
    EXPECT_STATUS(panopt_backend_create(&big.o, &be), PANOPT_ERR_UNSUPPORTED);
    T_CHECK(be == nullptr, "no backend on failure");
    EXPECT_STATUS(panopt_backend_create(&bopt, &be), PANOPT_OK);
    panopt_backend_info info{};
    info.struct_size = sizeof info;
    EXPECT_STATUS(panopt_backend_get_info(be, &info), PANOPT_OK);
    T_CHECK(info.struct_size == (int32_t)sizeof info && info.kind == PANOPT_BACKEND_CPU && info.n_threads == 2 &&
                info.isa == panopt_cpu_isa(),
            "backend info %d %d %d", info.kind, info.n_threads, info.isa);
    panopt_backend_info small_info{};
    small_info.struct_size = 12; // an older caller: n_threads is the last field it knows
    small_info.isa = -7;
    EXPECT_STATUS(panopt_backend_get_info(be, &small_info), PANOPT_OK);
    T_CHECK(small_info.n_threads == 2 && small_info.isa == -7, "info fills only what the caller's struct holds");
    EXPECT_STATUS(panopt_backend_get_info(nullptr, &info), PANOPT_ERR_INVALID_ARGUMENT);
    g_backend = be;

    // model_create
    EXPECT_STATUS(panopt_model_create(be, nullptr, &m), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_create(be, &c, nullptr), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_create(nullptr, &c, &m), PANOPT_ERR_INVALID_ARGUMENT);
    panopt_config bad = c;
    bad.num_attention_heads = 3;
    EXPECT_STATUS(panopt_model_create(be, &bad, &m), PANOPT_ERR_INVALID_ARGUMENT);
    bad = c;
    bad.activation = 99;
    EXPECT_STATUS(panopt_model_create(be, &bad, &m), PANOPT_ERR_INVALID_ARGUMENT);
    bad = c;
    bad.struct_size = 0;
    EXPECT_STATUS(panopt_model_create(be, &bad, &m), PANOPT_ERR_INVALID_ARGUMENT);
    T_CHECK(m == nullptr, "no model on failure");

    // set_tensor: byte lengths are checked against the dtype's storage size
    EXPECT_STATUS(panopt_model_create(be, &c, &m), PANOPT_OK);
    EXPECT_STATUS(panopt_backend_free(be), PANOPT_ERR_STATE); // a model still lives on it
    EXPECT_STATUS(panopt_model_set_tensor(nullptr, 0, -1, 0, g_data.data(), 1600), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, -1, 0, nullptr, 1600), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 99, -1, 0, g_data.data(), 1600), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 8, -1, 0, g_data.data(), 1600), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, 0, 0, g_data.data(), 1600), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 16, -1, 0, g_data.data(), 256), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 16, 2, 0, g_data.data(), 256), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, -1, 0, g_data.data(), 1599), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, -1, 0, g_data.data(), 400), PANOPT_ERR_INVALID_ARGUMENT); // numel, not bytes
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, -1, PANOPT_DTYPE_F16, g_data.data(), 1600), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, -1, PANOPT_DTYPE_COUNT, g_data.data(), 1600), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, -1, -1, g_data.data(), 1600), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, -1, PANOPT_DTYPE_BF16, g_data.data(), 800), PANOPT_OK);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, -1, PANOPT_DTYPE_F32, g_data.data(), 1600), PANOPT_OK);
    // tensor_borrowed: F32 weights are always read in place (the repack is tested in test_forward)
    int32_t borrowed = -1;
    EXPECT_STATUS(panopt_model_tensor_borrowed(nullptr, 0, -1, &borrowed), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_tensor_borrowed(m, 0, -1, nullptr), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_tensor_borrowed(m, 99, -1, &borrowed), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_tensor_borrowed(m, 16, -1, &borrowed), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_model_tensor_borrowed(m, 16, 0, &borrowed), PANOPT_ERR_STATE); // not set yet
    EXPECT_STATUS(panopt_model_tensor_borrowed(m, 0, -1, &borrowed), PANOPT_OK);
    T_CHECK(borrowed == 1, "an F32 embedding is borrowed (%d)", borrowed);
    // session on an unfinalized model
    panopt_session_options so = session_options(2, 16);
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
    EXPECT_STATUS(panopt_model_set_tensor(m, PANOPT_T_PROJECT_IN, -1, 0, g_data.data(), 256), PANOPT_OK);
    EXPECT_STATUS(panopt_model_finalize(m), PANOPT_ERR_STATE);
    panopt_model_free(m);

    // a good model
    m = full_model(c);
    EXPECT_STATUS(panopt_model_finalize(m), PANOPT_OK);
    EXPECT_STATUS(panopt_model_set_tensor(m, 0, -1, 0, g_data.data(), 1600), PANOPT_ERR_STATE);

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
    for (int32_t bad_cache : {-1, (int32_t)PANOPT_DTYPE_Q4_0, (int32_t)PANOPT_DTYPE_BF16, (int32_t)PANOPT_DTYPE_COUNT}) {
        bo = so;
        bo.cache_dtype = bad_cache;
        EXPECT_STATUS(panopt_session_create(m, &bo, &s), PANOPT_ERR_UNSUPPORTED);
    }
    bo = so;
    bo.cache_dtype = PANOPT_DTYPE_F16;
    EXPECT_STATUS(panopt_session_create(m, &bo, &s), PANOPT_OK);
    EXPECT_STATUS(panopt_session_free(s), PANOPT_OK);
    for (int32_t bad_compute : {-1, (int32_t)PANOPT_DTYPE_F16, (int32_t)PANOPT_DTYPE_Q8_0, (int32_t)PANOPT_DTYPE_COUNT}) {
        bo = so;
        bo.compute_dtype = bad_compute;
        EXPECT_STATUS(panopt_session_create(m, &bo, &s), PANOPT_ERR_UNSUPPORTED);
    }
    bo = so;
    bo.compute_dtype = PANOPT_DTYPE_BF16; // allowed everywhere; f32 where the backend has no bf16 products
    EXPECT_STATUS(panopt_session_create(m, &bo, &s), PANOPT_OK);
    EXPECT_STATUS(panopt_session_free(s), PANOPT_OK);
    bo = so;
    bo.struct_size = 16; // a caller built against ABI 5 (before compute_dtype)
    EXPECT_STATUS(panopt_session_create(m, &bo, &s), PANOPT_ERR_INVALID_ARGUMENT);
    bo = so;
    bo.struct_size = 4;
    EXPECT_STATUS(panopt_session_create(m, &bo, &s), PANOPT_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(panopt_session_create(m, &so, &s), PANOPT_OK);

    // forward errors
    std::vector<int32_t> ids = {1, 2, 3, 4, 5, 6};
    std::vector<float> out(6 * 50);
    panopt_forward_args a{};
    a.struct_size = sizeof a;
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
    b.struct_size = 12;
    EXPECT_STATUS(panopt_forward(s, &b), PANOPT_ERR_INVALID_ARGUMENT);
    b = a;
    b.use_cache = 2;
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
    panopt_session_options so2 = session_options(1, 16);
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
    EXPECT_STATUS(panopt_model_create(be, &nh, &m2), PANOPT_OK);
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
    test_concurrent_sessions(c);
    test_reorder(c);
    EXPECT_STATUS(panopt_backend_free(be), PANOPT_OK);
    EXPECT_STATUS(panopt_backend_free(nullptr), PANOPT_OK);
    g_backend = nullptr;
    return 0;
}
