// ops.h — what the OPT graph (forward.cpp) asks of a backend, per session. Every buffer the graph
// passes between ops is backend memory obtained from scratch() (device memory on an accelerator);
// the graph never reads or writes it itself. Pointers documented as "host" are the caller's
// memory. Each backend implements Executor in its own folder, one file per op family.
#ifndef PANOPT_OPS_H
#define PANOPT_OPS_H

#include <cstdint>

#include "model.h"

namespace panopt {

// Scratch buffers the graph uses; the backend keeps one growable buffer per slot per session.
enum ScratchSlot {
    SLOT_X,       // residual stream [M, hidden]
    SLOT_NORM,    // LayerNorm output / gathered rows [M, hidden]
    SLOT_Q,       // projections [M, hidden]
    SLOT_K,
    SLOT_V,
    SLOT_CTX,     // attention output, heads concatenated [M, hidden]
    SLOT_T,       // out_proj / fc2 output [M, hidden]
    SLOT_FF,      // fc1 output [M, ffn]
    SLOT_E,       // embeddings before project_in, output of project_out [M, max(proj, hidden)]
    SLOT_HEAD_IN, // rows gathered for the head [batch, proj]
    SLOT_OUT,     // head output when it cannot be written to the host buffer directly
    N_SCRATCH_SLOTS
};

// Self-attention of one layer over the new positions, the cached past and the key/value cache.
struct AttentionArgs {
    int64_t layer;
    int64_t batch, seq_len, past; // past = cached positions per row (0 without the cache)
    int64_t hidden, heads, head_dim;
    bool use_cache;               // store the new keys/values in the session cache and attend over it
    float* q;                     // [batch * seq_len, hidden] projections, unscaled; the op may scale q in place
    const float* k;
    const float* v;
    float scaling;                // q is multiplied by this (after its bias) before the dot products
    const int32_t* mask;          // host [batch, past + seq_len] of 0/1, or NULL (all ones)
    const float* head_mask;       // host [heads] for this layer, or NULL
    float* probs_out;             // host [batch, heads, seq_len, past + seq_len], or NULL
    float* ctx;                   // out: [batch * seq_len, hidden]
};

// One step of a cache reorder: row dst of the cache takes row src's past positions (every layer,
// keys and values). ROW_TEMP as dst or src names a one-row temporary the executor keeps.
struct RowMove {
    static constexpr int32_t ROW_TEMP = -1;
    int32_t dst, src;
};

class Executor {
public:
    virtual ~Executor() = default;

    // Bracket one forward pass: forward.cpp calls begin_pass before its first op and end_pass after
    // its last. A backend may defer the ops' work until end_pass (an accelerator records them and
    // replays a captured graph of a recurring pass); host outputs (to_host, probs_out) are complete
    // when end_pass returns. A pass cut short by an exception is discarded by the next begin_pass.
    virtual void begin_pass() {}
    virtual void end_pass() {}
    // The positions per row of the pass about to run (1 for a decode step), set before its ops. A
    // backend that picks its numerics by it (the CPU's products with block-format weights) picks
    // the same for every row of a pass and never by batch size, so that a row's results do not
    // depend on what it is batched with.
    virtual void set_positions_per_row(int64_t S) { (void)S; }
    // The session's compute type (panopt_session_options.compute_dtype, validated): PANOPT_DTYPE_F32,
    // or PANOPT_DTYPE_BF16 to allow bf16 products in prompt passes where the backend has them
    // (the CPU: kernels.h linear_range_bf16). A backend without them computes in f32.
    virtual void set_compute_dtype(int32_t dt) { (void)dt; }

    // A buffer of at least n floats for slot; contents undefined.
    virtual float* scratch(int slot, int64_t n) = 0;
    // Where an op may write an output that ends in host buffer `host` (n floats): `host` itself
    // where the backend computes in host memory, else a scratch buffer; then to_host(host, ...).
    virtual float* output_buffer(float* host, int slot, int64_t n) = 0;

    // ---- ops (ops_embed / ops_linear / ops_norm / ops_elementwise / ops_attention) ----
    // out[r] = table[ids[r]] as f32 (ids host, M rows of width); or, with embeds (host), a copy of it.
    virtual void embed(const TensorRef& table, const int32_t* ids, const float* embeds, int64_t M, int64_t width,
                       float* out) = 0;
    // x[r] += table[rows[r]] (rows host, M rows of width).
    virtual void add_rows(const TensorRef& table, const int32_t* rows, int64_t M, int64_t width, float* x) = 0;
    // y[M, N] = x[M, K] w[N, K]^T (+ b).
    virtual void linear(const float* x, int64_t M, int64_t K, const TensorRef& w, const TensorRef* b, float* y,
                        int64_t N) = 0;
    // Several products of one x (the attention's q, k and v projections): for i < n,
    // y_i[M, N_i] = x w_i^T (+ b_i), with the values n linear() calls give. A backend may convert x
    // once for all of them and run them as one parallel region (a decode step's many short regions
    // each cost a wake-up and a join).
    struct LinearOut {
        const TensorRef* w;
        const TensorRef* b; // NULL: no bias
        float* y;
        int64_t N;
    };
    virtual void linear_multi(const float* x, int64_t M, int64_t K, const LinearOut* outs, int n) {
        for (int i = 0; i < n; i++) linear(x, M, K, *outs[i].w, outs[i].b, outs[i].y, outs[i].N);
    }
    // y[r] = LN(x[r]) for R rows of width n (x == y allowed); w/b NULL data = no affine.
    virtual void layernorm(const float* x, float* y, int64_t R, int64_t n, const TensorRef& w, const TensorRef& b,
                           float eps) = 0;
    virtual void activation(int32_t act, float* x, int64_t n) = 0;
    // y += x over n floats.
    virtual void add(float* y, const float* x, int64_t n) = 0;
    virtual void attention(const AttentionArgs& a) = 0;
    // dst[i] = src[rows[i]] for R rows of width (rows host).
    virtual void gather_rows(const float* src, const int64_t* rows, int64_t R, int64_t width, float* dst) = 0;
    // host[0:n] = src[0:n] (no-op when src == host).
    virtual void to_host(float* host, const float* src, int64_t n) = 0;

    // ---- the key/value cache (its storage is backend memory; the session keeps its lengths) ----
    // Copies the first `past` positions of `batch` rows of every layer from src (same backend and model).
    virtual void cache_copy_from(const Executor& src, int32_t batch, int32_t past) = 0;
    // Runs the moves in order over the first `past` positions (plan_reorder in session.h makes them);
    // reserves its temporary before copying anything, so a failed allocation leaves the cache as it was.
    virtual void cache_move_rows(const RowMove* moves, int64_t n_moves, int32_t past) = 0;
    // out (host) [batch, heads, past, head_dim] = layer's cached keys (which 0) or values (1).
    virtual void cache_read(int32_t layer, int32_t which, int32_t batch, int32_t past, float* out) const = 0;
};

} // namespace panopt

#endif
