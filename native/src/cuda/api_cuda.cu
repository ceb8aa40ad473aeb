// api_cuda.cu — libpanopt_cuda.so's one export, panopt_cuda_get_api: the table of cuda_abi.h over
// the backend's objects. Every entry makes the backend's device current on the calling thread and
// catches everything, so no exception leaves this library (the message stays for last_error).
#include <new>
#include <stdexcept>
#include <string>

#include "../../include/panopt.h"
#include "backend_cuda.cuh"
#include "cuda_abi.h"
#include "executor.cuh"
#include "kernels.cuh"

struct panopt_cuda_backend {
    panopt::cuda::CudaBackend be;
    explicit panopt_cuda_backend(int device) : be(device) {}
};
struct panopt_cuda_model {
    panopt::cuda::CudaModel m;
    panopt_cuda_model(panopt::cuda::CudaBackend& be, const panopt::TensorRef* const* t, int64_t n) : m(be, t, n) {}
};
struct panopt_cuda_exec {
    panopt::cuda::CudaExecutor e;
    template <class... A> explicit panopt_cuda_exec(A&&... a) : e(static_cast<A&&>(a)...) {}
};

namespace {

using panopt::cuda::CudaExecutor;

thread_local std::string g_error;

panopt_status set_error(panopt_status s, const char* msg) noexcept {
    try {
        g_error = msg;
    } catch (...) {
    }
    return s;
}

template <class F> panopt_status guarded(F&& f) noexcept {
    try {
        f();
        return PANOPT_OK;
    } catch (const panopt::Error& e) {
        return set_error(e.status, e.what());
    } catch (const std::bad_alloc&) {
        return set_error(PANOPT_ERR_OUT_OF_MEMORY, "out of host memory (CUDA backend)");
    } catch (const std::exception& e) {
        return set_error(PANOPT_ERR_INTERNAL, e.what());
    } catch (...) {
        return set_error(PANOPT_ERR_INTERNAL, "unknown error in the CUDA backend");
    }
}

// Runs f on the session's executor with its device current.
template <class F> panopt_status on(panopt_cuda_exec* x, F&& f) noexcept {
    return guarded([&] {
        x->e.be.activate();
        f(x->e);
    });
}

const char* last_error() { return g_error.c_str(); }

panopt_status backend_create(int32_t device, panopt_cuda_backend** out) {
    return guarded([&] {
        *out = nullptr;
        auto* b = new panopt_cuda_backend(device);
        try {
            panopt::cuda::linear_configure(b->be.props);
            panopt::cuda::attention_configure(b->be.props);
        } catch (...) {
            delete b;
            throw;
        }
        *out = b;
    });
}
void backend_free(panopt_cuda_backend* b) { delete b; }
int32_t supports_dtype(int32_t dt) { return panopt::cuda::supported_dtype(dt) ? 1 : 0; }

panopt_status model_upload(panopt_cuda_backend* b, const panopt::TensorRef* const* t, int64_t n, panopt_cuda_model** out) {
    return guarded([&] {
        *out = nullptr;
        *out = new panopt_cuda_model(b->be, t, n);
    });
}
void model_free(panopt_cuda_model* m) { delete m; }

panopt_status exec_create(panopt_cuda_backend* b, const panopt_cuda_model* m, const panopt_config* cfg, int32_t max_batch,
                          int32_t max_seq_len, int32_t cache_dtype, panopt_cuda_exec** out) {
    return guarded([&] {
        *out = nullptr;
        *out = new panopt_cuda_exec(b->be, m->m, *cfg, max_batch, max_seq_len, cache_dtype);
    });
}
void exec_free(panopt_cuda_exec* x) { delete x; }

panopt_status begin_pass(panopt_cuda_exec* x) {
    return on(x, [](CudaExecutor& e) { e.begin_pass(); });
}
panopt_status end_pass(panopt_cuda_exec* x) {
    return on(x, [](CudaExecutor& e) { e.end_pass(); });
}
panopt_status scratch(panopt_cuda_exec* x, int32_t slot, int64_t n, float** out) {
    return on(x, [&](CudaExecutor& e) { *out = e.scratch(slot, n); });
}
panopt_status embed(panopt_cuda_exec* x, const panopt::TensorRef* t, const int32_t* ids, const float* embeds, int64_t M,
                    int64_t width, float* out) {
    return on(x, [&](CudaExecutor& e) { e.embed(*t, ids, embeds, M, width, out); });
}
panopt_status add_rows(panopt_cuda_exec* x, const panopt::TensorRef* t, const int32_t* rows, int64_t M, int64_t width,
                       float* y) {
    return on(x, [&](CudaExecutor& e) { e.add_rows(*t, rows, M, width, y); });
}
panopt_status linear(panopt_cuda_exec* x, const float* in, int64_t M, int64_t K, const panopt::TensorRef* w,
                     const panopt::TensorRef* b, float* y, int64_t N) {
    return on(x, [&](CudaExecutor& e) { e.linear(in, M, K, *w, b, y, N); });
}
panopt_status layernorm(panopt_cuda_exec* x, const float* in, float* y, int64_t R, int64_t n, const panopt::TensorRef* w,
                        const panopt::TensorRef* b, float eps) {
    return on(x, [&](CudaExecutor& e) { e.layernorm(in, y, R, n, *w, *b, eps); });
}
panopt_status activation(panopt_cuda_exec* x, int32_t act, float* v, int64_t n) {
    return on(x, [&](CudaExecutor& e) { e.activation(act, v, n); });
}
panopt_status add(panopt_cuda_exec* x, float* y, const float* v, int64_t n) {
    return on(x, [&](CudaExecutor& e) { e.add(y, v, n); });
}
panopt_status attention(panopt_cuda_exec* x, const panopt::AttentionArgs* a) {
    return on(x, [&](CudaExecutor& e) { e.attention(*a); });
}
panopt_status gather_rows(panopt_cuda_exec* x, const float* src, const int64_t* rows, int64_t R, int64_t width,
                          float* dst) {
    return on(x, [&](CudaExecutor& e) { e.gather_rows(src, rows, R, width, dst); });
}
panopt_status to_host(panopt_cuda_exec* x, float* host, const float* src, int64_t n) {
    return on(x, [&](CudaExecutor& e) { e.to_host(host, src, n); });
}
panopt_status cache_copy(panopt_cuda_exec* dst, const panopt_cuda_exec* src, int32_t batch, int32_t past) {
    return on(dst, [&](CudaExecutor& e) { e.cache_copy_from(src->e, batch, past); });
}
panopt_status cache_read(const panopt_cuda_exec* x, int32_t layer, int32_t which, int32_t batch, int32_t past,
                         float* out) {
    return guarded([&] {
        x->e.be.activate();
        x->e.cache_read(layer, which, batch, past, out);
    });
}

const panopt_cuda_api kApi = {
    PANOPT_CUDA_ABI,
    PANOPT_ABI_VERSION,
    (int32_t)sizeof(panopt::TensorRef),
    (int32_t)sizeof(panopt::AttentionArgs),
    (int32_t)sizeof(panopt_config),
    last_error,
    backend_create,
    backend_free,
    supports_dtype,
    model_upload,
    model_free,
    exec_create,
    exec_free,
    begin_pass,
    end_pass,
    scratch,
    embed,
    add_rows,
    linear,
    layernorm,
    activation,
    add,
    attention,
    gather_rows,
    to_host,
    cache_copy,
    cache_read,
};

} // namespace

extern "C" __attribute__((visibility("default"))) const panopt_cuda_api* panopt_cuda_get_api(void) { return &kApi; }
