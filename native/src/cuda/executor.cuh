// executor.cuh — one session on the GPU: its key/value cache, its scratch arena and the record of a
// forward pass.
//
// A pass is recorded, then run at end_pass: each op stores a plain parameter struct and the function
// that launches it; host inputs (ids, positions, masks) are staged into one host buffer and copied to
// the device by one copy at the start of the pass; host outputs come back through one pinned buffer.
// Everything a launch uses is either in its parameter struct or in the staged bytes, so two passes
// whose recorded parameters are byte-for-byte equal run the same launches on different inputs. The
// second such pass in a row (a decode step: the cached length lives in the staged bytes) is captured
// as a CUDA graph, and later equal passes replay it (PANOPT_CUDA_GRAPHS=0 turns graphs off).
#ifndef PANOPT_CUDA_EXECUTOR_CUH
#define PANOPT_CUDA_EXECUTOR_CUH

#include <cstring>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "../ops.h"
#include "backend_cuda.cuh"

namespace panopt {
namespace cuda {

// What a recorded launch sees when the pass runs.
struct PassCtx {
    cudaStream_t stream;
    const unsigned char* in; // device copy of the staged host inputs
    unsigned char* out;      // pinned host buffer the device-to-host copies land in
    unsigned char* temp;     // the ops' temporaries: one region, reused by each op in turn (stream order)
    const cudaDeviceProp* props;
};

// A parameter struct with every byte zero, padding included, to be filled field by field.
template <class P> void zero_fill(P& p) { std::memset(static_cast<void*>(&p), 0, sizeof p); }

template <class T> const T* staged(const PassCtx& c, uint64_t off) { return reinterpret_cast<const T*>(c.in + off); }

// Cached length of the pass, staged (so it is not part of any launch's parameters).
struct AttnDyn {
    int32_t past, T;
};

class CudaExecutor {
public:
    CudaExecutor(CudaBackend& be, const CudaModel& m, const panopt_config& cfg, int32_t max_batch, int32_t max_seq_len,
                 int32_t cache_dtype);
    ~CudaExecutor();
    CudaExecutor(const CudaExecutor&) = delete;
    CudaExecutor& operator=(const CudaExecutor&) = delete;

    void begin_pass();
    void end_pass();
    float* scratch(int slot, int64_t n);

    void embed(const TensorRef& table, const int32_t* ids, const float* embeds, int64_t M, int64_t width, float* out);
    void add_rows(const TensorRef& table, const int32_t* rows, int64_t M, int64_t width, float* x);
    void linear(const float* x, int64_t M, int64_t K, const TensorRef& w, const TensorRef* b, float* y, int64_t N);
    void layernorm(const float* x, float* y, int64_t R, int64_t n, const TensorRef& w, const TensorRef& b, float eps);
    void activation(int32_t act, float* x, int64_t n);
    void add(float* y, const float* x, int64_t n);
    void attention(const AttentionArgs& a);
    void gather_rows(const float* src, const int64_t* rows, int64_t R, int64_t width, float* dst);
    void to_host(float* host, const float* src, int64_t n);
    // host = n floats of the temp region at temp_off, as the op just recorded left them.
    void temp_to_host(float* host, uint64_t temp_off, int64_t n);

    void cache_copy_from(const CudaExecutor& src, int32_t batch, int32_t past);
    void cache_read(int32_t layer, int32_t which, int32_t batch, int32_t past, float* out) const;

    CudaBackend& be;

private:
    using RunFn = void (*)(const void* params, const PassCtx& ctx);
    struct OpRec {
        RunFn run;
        size_t word; // start of its parameters in params_ (8-byte words)
        size_t words;
    };
    template <class P, void (*F)(const P&, const PassCtx&)> static void trampoline(const void* p, const PassCtx& c) {
        F(*static_cast<const P*>(p), c);
    }
    // Appends an op running F on a copy of p. p's bytes (padding included: build it on a
    // zero-filled object, see zero_fill) are what passes are compared by.
    template <class P, void (*F)(const P&, const PassCtx&)> void emit(const P& p) {
        static_assert(std::is_trivially_copyable<P>::value && alignof(P) <= 8, "op parameters are compared as bytes");
        require_pass();
        const size_t words = (sizeof(P) + 7) / 8, at = params_.size();
        params_.resize(at + words, 0);
        std::memcpy(&params_[at], &p, sizeof(P));
        ops_.push_back(OpRec{&trampoline<P, F>, at, words});
    }
    // The parameters of the last op if it runs F (for fusing the next op into it), else NULL.
    template <class P, void (*F)(const P&, const PassCtx&)> P* last_op() {
        if (ops_.empty() || ops_.back().run != &trampoline<P, F>) return nullptr;
        return reinterpret_cast<P*>(&params_[ops_.back().word]);
    }

    void require_pass() const;
    // Host bytes staged for the device; returns their offset in the pass's input block.
    uint64_t stage(const void* src, size_t bytes);
    unsigned char* stage_alloc(size_t bytes, uint64_t& off);
    // out[r] (accumulate: +)= table row rows[r], r < M (rows staged).
    void embed_rows(const TensorRef& table, const int32_t* rows, int64_t M, int64_t width, float* out, int32_t accumulate);
    // Room for `bytes` in the pass's pinned output buffer, copied to `host` when the pass ends; its offset.
    uint64_t host_output(float* host, size_t bytes);
    // Device memory for this pass only (256-byte aligned, contents undefined).
    void* dev_alloc(size_t bytes);
    // Temporaries of one op (its offsets from PassCtx::temp start at 0): the pass's temp region holds
    // the largest; ops run in stream order, so each may overwrite the previous one's.
    void temp_reserve(size_t bytes) { temp_max_ = bytes > temp_max_ ? bytes : temp_max_; }
    void grow_arena(size_t need);
    void drop_graphs();
    void run_ops(const PassCtx& ctx, const unsigned char* pinned_in, size_t in_bytes);
    void ensure_pinned(void*& p, size_t& cap, size_t need);
    unsigned char* cache_base(int which, int64_t layer) const;

    const CudaModel& model_;
    const int64_t layers_, heads_, head_dim_, hidden_, max_batch_, max_seq_len_;
    const int32_t cache_dt_;
    const int64_t cache_rb_; // bytes of one cached position of one head
    cudaStream_t stream_ = nullptr;
    void* cache_ = nullptr;  // keys then values: [2][layer][batch][head][max_seq_len] rows of cache_rb_ bytes
    size_t cache_bytes_ = 0;

    // the pass being recorded
    bool in_pass_ = false;
    std::vector<OpRec> ops_;
    std::vector<uint64_t> params_;
    std::vector<unsigned char> in_host_;
    size_t out_bytes_ = 0;
    size_t temp_max_ = 0;
    struct HostCopy {
        void* dst;
        size_t off, bytes;
    };
    std::vector<HostCopy> host_copies_;
    float* slot_ptr_[N_SCRATCH_SLOTS];
    int64_t slot_n_[N_SCRATCH_SLOTS];
    const int32_t* mask_src_ = nullptr; // the attention mask staged this pass (shared by the layers)
    int64_t mask_T_ = -1;
    uint64_t mask_off_ = 0, first_off_ = 0, dyn_off_ = 0;

    // scratch arena: one allocation, grown to the largest pass
    unsigned char* arena_ = nullptr;
    size_t arena_cap_ = 0, arena_used_ = 0, pass_total_ = 0;
    std::vector<void*> retired_; // arenas outgrown during the pass; freed after it
    void* pinned_in_ = nullptr;
    size_t pinned_in_cap_ = 0;
    void* pinned_out_ = nullptr;
    size_t pinned_out_cap_ = 0;

    // captured passes
    struct Graph {
        std::vector<uint64_t> sig;
        uint64_t hash;
        cudaGraphExec_t exec;
        uint64_t last_use;
    };
    bool graphs_enabled_ = true;
    std::vector<Graph> graphs_;
    std::vector<uint64_t> prev_sig_;
    uint64_t pass_count_ = 0, captured_ = 0, replayed_ = 0;
    std::string stats_file_; // PANOPT_CUDA_STATS: where the counts above are appended when the session ends
};

} // namespace cuda
} // namespace panopt

#endif
