// backend_cpu.h — the CPU backend: one kernel table (chosen ISA) and one worker pool shared by
// every session of every model on it; CpuExecutor is one session's state and its ops, whose
// definitions live one op family per file (ops_*.cpp).
#ifndef PANOPT_CPU_BACKEND_CPU_H
#define PANOPT_CPU_BACKEND_CPU_H

#include <vector>

#include "../backend.h"
#include "buffer.h"
#include "kernels.h"
#include "threadpool.h"

namespace panopt {

class CpuBackend final : public panopt_backend {
public:
    CpuBackend(const Kernels* kt, int n_threads) : kt(kt), pool(n_threads) {}
    void describe(panopt_backend_info& out) const override;
    bool supports_dtype(int32_t dtype) const override;
    std::unique_ptr<Executor> new_executor(const panopt_model& m, int32_t max_batch, int32_t max_seq_len,
                                           int32_t cache_dtype) override;
    // block-format weights of the products and the token embedding with a multiple of 8 rows go into
    // 8-row groups when this table has their kernels (kernels.h); a head tied to the embedding (the
    // same buffer) shares its copy.
    // The copies of one model are carved from its WeightArena (weight_arena.h: huge pages), held in
    // m.adopting until the model is finalized.
    void adopt_tensor(panopt_model& m, int32_t kind, TensorRef& t) override;

    const Kernels* const kt;
    ThreadPool pool;
};

class CpuExecutor final : public Executor {
public:
    CpuExecutor(CpuBackend& be, const panopt_model& m, int32_t max_batch, int32_t max_seq_len, int32_t cache_dtype);

    float* scratch(int slot, int64_t n) override { return bufs_[slot].reserve((size_t)n); }
    float* output_buffer(float* host, int, int64_t) override { return host; }

    void embed(const TensorRef& table, const int32_t* ids, const float* embeds, int64_t M, int64_t width,
               float* out) override;
    void add_rows(const TensorRef& table, const int32_t* rows, int64_t M, int64_t width, float* x) override;
    void linear(const float* x, int64_t M, int64_t K, const TensorRef& w, const TensorRef* b, float* y,
                int64_t N) override;
    void linear_multi(const float* x, int64_t M, int64_t K, const LinearOut* outs, int n) override;
    void layernorm(const float* x, float* y, int64_t R, int64_t n, const TensorRef& w, const TensorRef& b,
                   float eps) override;
    void activation(int32_t act, float* x, int64_t n) override;
    void add(float* y, const float* x, int64_t n) override;
    void attention(const AttentionArgs& a) override;
    void gather_rows(const float* src, const int64_t* rows, int64_t R, int64_t width, float* dst) override;
    void to_host(float* host, const float* src, int64_t n) override;

    void cache_copy_from(const Executor& src, int32_t batch, int32_t past) override;
    void cache_move_rows(const RowMove* moves, int64_t n_moves, int32_t past) override;
    void cache_read(int32_t layer, int32_t which, int32_t batch, int32_t past, float* out) const override;
    void set_positions_per_row(int64_t S) override { positions_per_row_ = S; }
    void set_compute_dtype(int32_t dt) override { compute_dt_ = dt; }

private:
    // X converted for a product (ops_linear.cpp): to form_dt (F32: used as it is), with the Q8_0
    // blocks' scales and sums if `sums`; the conversion's pointers set in a.
    void convert_x(const float* x, int64_t M, int64_t K, int32_t form_dt, bool sums, LinearArgs& a);
    // Start of the cached keys (or values) of (layer, row, head): max_seq_len positions of head_dim
    // unscaled elements in cache_dt_, cache_rb_ bytes each.
    unsigned char* cache_at(const FloatBuf& c, int64_t layer, int64_t b, int64_t h) const {
        return reinterpret_cast<unsigned char*>(c.data()) + ((layer * max_batch_ + b) * heads_ + h) * max_seq_len_ * cache_rb_;
    }

    const Kernels* kt_;
    ThreadPool& pool_;
    const int64_t layers_, heads_, head_dim_, max_batch_, max_seq_len_;
    const int32_t cache_dt_;                // PANOPT_DTYPE_* of the cache
    const int64_t cache_rb_;                // bytes of one cached position of one head
    FloatBuf kcache_, vcache_;              // [layer][batch][head][max_seq_len] rows of cache_rb_ bytes
    FloatBuf bufs_[N_SCRATCH_SLOTS];
    FloatBuf kv_k_, kv_v_, probs_;          // attention without the cache; softmax rows per thread
    FloatBuf rows_tmp_;                     // converted table rows of add_rows
    FloatBuf row_tmp_;                      // one cache row [layer][k/v][head][past positions] while reordering
    std::vector<FloatBuf> lin_scratch_;     // one per pool thread
    FloatBuf xq_;                           // X quantized for products with block-format weights
    FloatBuf xscale_;                       // its Q8_0 blocks' scales, then code sums (LinearArgs::xscale)
    int32_t compute_dt_ = PANOPT_DTYPE_F32;    // F32, or BF16: bf16 products in prompt passes where the table has them
    int64_t positions_per_row_ = 1;         // of the current pass: picks the block-format product path
};

} // namespace panopt

#endif
