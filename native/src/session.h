// session.h — per-caller state: the backend's executor (KV cache storage, scratch) and the
// generic bookkeeping of the cache (lengths) and the graph (positions).
#ifndef PANOPT_SESSION_H
#define PANOPT_SESSION_H

#include <memory>
#include <vector>

#include "model.h"
#include "ops.h"

struct panopt_session {
    const panopt_model* model = nullptr;
    int32_t max_batch = 0;
    int32_t max_seq_len = 0;
    std::unique_ptr<panopt::Executor> exec;

    int32_t past = 0;        // cached positions per row
    int32_t cache_batch = 0; // rows in the cache (0 when empty)

    std::vector<int32_t> pos;  // [batch * seq_len] embedding rows of the new tokens (position + 2)
    std::vector<int64_t> rows; // row indices for gathers
};

namespace panopt {
// Validates the options and makes the backend's executor; throws Error / bad_alloc.
void session_init(panopt_session* s, const panopt_model* m, const panopt_session_options& o);
// The forward pass; validates args (throws Error) before touching the cache.
void forward(panopt_session* s, const panopt_forward_args& a);
// The row moves that make row i of a cache hold old row src[i] for i < n, in place: each row whose
// source differs from its index is written once, after every row reading its old contents; a cycle
// goes through RowMove::ROW_TEMP (one extra copy per cycle). src[i] >= 0, checked by the caller.
std::vector<RowMove> plan_reorder(const int32_t* src, int32_t n);
// panopt_session_reorder: validates (throws Error), then moves the rows and sets the cached batch.
void reorder(panopt_session* s, const int32_t* src, int32_t n);
} // namespace panopt

#endif
