// backend.h — the backend seam. A panopt_backend is one compute device with its workers (the
// CPU's kernels and thread pool; an NVIDIA GPU, src/cuda), created once and shared by every
// model on it. It makes one Executor per session: that session's scratch memory, key/value cache
// and the ops the graph runs (ops.h). Backends live in their own folders (src/cpu, ...).
#ifndef PANOPT_BACKEND_H
#define PANOPT_BACKEND_H

#include <atomic>
#include <cstdint>
#include <memory>

#include "../include/panopt.h"
#include "ops.h"

struct panopt_backend {
    virtual ~panopt_backend() = default;
    // Fills kind, n_threads, isa.
    virtual void describe(panopt_backend_info& out) const = 0;
    // Whether this backend computes with weights of this PANOPT_DTYPE_*.
    virtual bool supports_dtype(int32_t dtype) const = 0;
    // State for one session of model m: scratch, a cache of max_batch rows x max_seq_len positions.
    // cache_dtype: validated by the caller (F32, F16 or Q8_0 with a block-multiple head_dim).
    virtual std::unique_ptr<panopt::Executor> new_executor(const panopt_model& m, int32_t max_batch,
                                                           int32_t max_seq_len, int32_t cache_dtype) = 0;

    // Called by panopt_model_set_tensor once tensor t (of `kind`) is validated and stored in model m:
    // a backend whose kernels read a weight faster in another layout replaces t's borrowed data by
    // its own copy in that layout (setting t.layout and t.own); by default t stays borrowed. What the
    // backend keeps while a model's tensors are set (where it puts the copies) goes in m.adopting.
    virtual void adopt_tensor(panopt_model& m, int32_t kind, panopt::TensorRef& t) {
        (void)m;
        (void)kind;
        (void)t;
    }

    // Called by panopt_model_finalize once the model's tensors are complete: a backend that computes
    // from its own copy of the weights (device memory) makes it here and returns what the model keeps
    // until it is freed; the CPU backend reads the borrowed weights in place (NULL).
    virtual std::unique_ptr<panopt::ModelResources> prepare_model(const panopt_model& m) { return nullptr; }

    std::atomic<int64_t> live_models{0}; // models created on this backend and not yet freed
};

namespace panopt {
// Creates the backend the options ask for (validated); throws Error.
std::unique_ptr<panopt_backend> create_backend(const panopt_backend_options& o);
} // namespace panopt

#endif
