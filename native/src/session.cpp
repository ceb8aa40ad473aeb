#include "session.h"

#include <algorithm>
#include <string>
#include <vector>

#include "backend.h"
#include "dtype.h"
#include "error.h"

namespace panopt {

void session_init(panopt_session* s, const panopt_model* m, const panopt_session_options& o) {
    const panopt_config& c = m->cfg;
    if (o.cache_dtype != PANOPT_DTYPE_F32 && o.cache_dtype != PANOPT_DTYPE_F16 && o.cache_dtype != PANOPT_DTYPE_Q8_0)
        fail(PANOPT_ERR_UNSUPPORTED, "cache_dtype must be PANOPT_DTYPE_F32, F16 or Q8_0, got " +
                                         std::to_string(o.cache_dtype));
    const int64_t head_dim = c.hidden_size / c.num_attention_heads;
    if (row_bytes(o.cache_dtype, head_dim) < 0)
        fail(PANOPT_ERR_UNSUPPORTED, "a " + std::string(type_traits(o.cache_dtype)->name) + " cache needs head_dim (" +
                                         std::to_string(head_dim) + ") to be a multiple of " +
                                         std::to_string(type_traits(o.cache_dtype)->block_elems));
    if (!type_traits(o.cache_dtype)->from_f32)
        fail(PANOPT_ERR_UNSUPPORTED, std::string("no ") + type_traits(o.cache_dtype)->name + " conversion in this build");
    if (o.compute_dtype != PANOPT_DTYPE_F32 && o.compute_dtype != PANOPT_DTYPE_BF16)
        fail(PANOPT_ERR_UNSUPPORTED, "compute_dtype must be PANOPT_DTYPE_F32 or BF16, got " + std::to_string(o.compute_dtype));
    if (o.max_batch < 1) fail(PANOPT_ERR_INVALID_ARGUMENT, "max_batch must be >= 1");
    if (o.max_seq_len < 1 || o.max_seq_len > c.max_position_embeddings)
        fail(PANOPT_ERR_INVALID_ARGUMENT, "max_seq_len must be in 1..max_position_embeddings (" +
                                              std::to_string(c.max_position_embeddings) + ")");
    s->model = m;
    s->max_batch = o.max_batch;
    s->max_seq_len = o.max_seq_len;
    s->exec = m->backend->new_executor(*m, o.max_batch, o.max_seq_len, o.cache_dtype);
    s->exec->set_compute_dtype(o.compute_dtype);
}

} // namespace panopt

namespace panopt {

std::vector<RowMove> plan_reorder(const int32_t* src, int32_t n) {
    int32_t rows = n;
    for (int32_t i = 0; i < n; i++) rows = std::max(rows, src[i] + 1);
    auto moves_to = [&](int32_t i) { return i < n && src[i] != i; }; // row i gets written
    // readers[r]: rows still to be written that read old row r
    std::vector<int32_t> readers((size_t)rows, 0);
    for (int32_t i = 0; i < n; i++)
        if (moves_to(i)) readers[(size_t)src[i]]++;
    std::vector<char> done((size_t)n, 0);
    std::vector<RowMove> moves;
    // Rows nobody reads first; writing one may free its source for writing (trees hanging off cycles).
    std::vector<int32_t> ready;
    for (int32_t i = 0; i < n; i++)
        if (moves_to(i) && readers[(size_t)i] == 0) ready.push_back(i);
    while (!ready.empty()) {
        int32_t i = ready.back();
        ready.pop_back();
        moves.push_back({i, src[i]});
        done[(size_t)i] = 1;
        int32_t r = src[i];
        if (--readers[(size_t)r] == 0 && moves_to(r) && !done[(size_t)r]) ready.push_back(r);
    }
    // What is left is a permutation of disjoint cycles: park one row, shift the others, restore it.
    for (int32_t i = 0; i < n; i++) {
        if (!moves_to(i) || done[(size_t)i]) continue;
        moves.push_back({RowMove::ROW_TEMP, i});
        for (int32_t cur = i;;) {
            done[(size_t)cur] = 1;
            int32_t s = src[cur];
            if (s == i) {
                moves.push_back({cur, RowMove::ROW_TEMP});
                break;
            }
            moves.push_back({cur, s});
            cur = s;
        }
    }
    return moves;
}

void reorder(panopt_session* s, const int32_t* src, int32_t n) {
    if (src == nullptr) fail(PANOPT_ERR_INVALID_ARGUMENT, "src_rows is NULL");
    if (n < 1) fail(PANOPT_ERR_INVALID_ARGUMENT, "n must be >= 1");
    if (n > s->max_batch)
        fail(PANOPT_ERR_CAPACITY, "n " + std::to_string(n) + " exceeds the session's max_batch " +
                                      std::to_string(s->max_batch));
    if (s->past == 0) fail(PANOPT_ERR_STATE, "the cache is empty: nothing to reorder");
    for (int32_t i = 0; i < n; i++)
        if (src[i] < 0 || src[i] >= s->cache_batch)
            fail(PANOPT_ERR_INVALID_ARGUMENT, "src_rows[" + std::to_string(i) + "] = " + std::to_string(src[i]) +
                                                  " is not a cached row (the cache holds " +
                                                  std::to_string(s->cache_batch) + ")");
    std::vector<RowMove> moves = plan_reorder(src, n);
    s->exec->cache_move_rows(moves.data(), (int64_t)moves.size(), s->past);
    s->cache_batch = n;
}

} // namespace panopt
