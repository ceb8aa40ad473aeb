// session.h — per-caller state: KV cache, scratch buffers and the worker pool.
#ifndef PANOPT_SESSION_H
#define PANOPT_SESSION_H

#include <memory>
#include <vector>

#include "cpu/buffer.h"
#include "cpu/kernels.h"
#include "cpu/threadpool.h"
#include "model.h"

struct panopt_session {
    const panopt_model* model = nullptr;
    panopt_session_options opt{};
    const panopt::Kernels* kt = nullptr;
    std::unique_ptr<panopt::ThreadPool> pool;

    // KV cache, f32, unscaled: [layer][batch][head][max_seq][head_dim] (one layout per tensor).
    panopt::FloatBuf kcache, vcache;
    int32_t past = 0;        // cached positions per row
    int32_t cache_batch = 0; // rows in the cache (0 when empty)

    // Scratch, grown as needed (see forward.cpp for their roles).
    panopt::FloatBuf x, a, q, k, v, ctx, t, ff, e, fin, kv_k, kv_v, probs, headin;
    std::vector<panopt::FloatBuf> lin_scratch; // one per thread
    std::vector<int32_t> pos;                  // [batch * seq_len] position ids of the new tokens

    int64_t head_dim() const { return model->cfg.hidden_size / model->cfg.num_attention_heads; }
    // Start of the cached keys (or values) of (layer, row, head): [max_seq][head_dim].
    float* cache_at(const panopt::FloatBuf& c, int64_t layer, int64_t b, int64_t h) const {
        const panopt_config& cf = model->cfg;
        return c.data() + (((layer * opt.max_batch + b) * cf.num_attention_heads + h) * (int64_t)opt.max_seq_len) *
                              head_dim();
    }
};

namespace panopt {
// Allocates the cache and pool; throws Error / bad_alloc.
void session_init(panopt_session* s, const panopt_model* m, const panopt_session_options& o);
// The forward pass; validates args (throws Error) before touching the cache.
void forward(panopt_session* s, const panopt_forward_args& a);
} // namespace panopt

#endif
