// cuda_abi.h — the table of functions libpanopt_cuda.so gives libpanopt.so (cuda/loader.cpp), its
// one exported symbol being panopt_cuda_get_api. Each library links its own static libstdc++, so
// nothing C++ crosses between them: every call returns a panopt_status (the message for the calling
// thread from last_error), no exception, allocator or STL type passes. The plain structs of the
// seam (TensorRef, AttentionArgs, panopt_config) do pass by pointer; both libraries are built from
// the same tree in the same build, and the sizes below are checked when the table is fetched.
// The functions mirror panopt_backend and panopt::Executor (backend.h, ops.h): see there for what
// each does.
#ifndef PANOPT_CUDA_CUDA_ABI_H
#define PANOPT_CUDA_CUDA_ABI_H

#include <cstdint>

#include "../../include/panopt.h"
#include "../model.h"
#include "../ops.h"

// Bump on any change of this table or of the structs it passes.
#define PANOPT_CUDA_ABI 1

typedef struct panopt_cuda_backend panopt_cuda_backend; // one device (context, streams)
typedef struct panopt_cuda_model panopt_cuda_model;     // a model's weights in device memory
typedef struct panopt_cuda_exec panopt_cuda_exec;       // one session: KV cache, scratch, graphs

struct panopt_cuda_api {
    int32_t abi;                   // PANOPT_CUDA_ABI
    int32_t panopt_abi;            // PANOPT_ABI_VERSION of the panopt.h it was built with
    int32_t sizeof_tensor_ref;     // sizeof(panopt::TensorRef)
    int32_t sizeof_attention_args; // sizeof(panopt::AttentionArgs)
    int32_t sizeof_config;         // sizeof(panopt_config)

    const char* (*last_error)(void);

    // The device `device`: PANOPT_ERR_UNSUPPORTED naming what is missing (driver, device, compute capability).
    panopt_status (*backend_create)(int32_t device, panopt_cuda_backend** out);
    void (*backend_free)(panopt_cuda_backend* b);
    int32_t (*supports_dtype)(int32_t dtype);

    // Copies the n weights (the model's TensorRefs; a buffer given twice, e.g. a tied head, once).
    panopt_status (*model_upload)(panopt_cuda_backend* b, const panopt::TensorRef* const* tensors, int64_t n,
                                  panopt_cuda_model** out);
    void (*model_free)(panopt_cuda_model* m);

    panopt_status (*exec_create)(panopt_cuda_backend* b, const panopt_cuda_model* m, const panopt_config* cfg,
                                 int32_t max_batch, int32_t max_seq_len, int32_t cache_dtype, panopt_cuda_exec** out);
    void (*exec_free)(panopt_cuda_exec* e);

    panopt_status (*begin_pass)(panopt_cuda_exec* e);
    panopt_status (*end_pass)(panopt_cuda_exec* e);
    panopt_status (*scratch)(panopt_cuda_exec* e, int32_t slot, int64_t n, float** out);
    panopt_status (*embed)(panopt_cuda_exec* e, const panopt::TensorRef* table, const int32_t* ids, const float* embeds,
                           int64_t M, int64_t width, float* out);
    panopt_status (*add_rows)(panopt_cuda_exec* e, const panopt::TensorRef* table, const int32_t* rows, int64_t M,
                              int64_t width, float* x);
    panopt_status (*linear)(panopt_cuda_exec* e, const float* x, int64_t M, int64_t K, const panopt::TensorRef* w,
                            const panopt::TensorRef* b, float* y, int64_t N);
    panopt_status (*layernorm)(panopt_cuda_exec* e, const float* x, float* y, int64_t R, int64_t n,
                               const panopt::TensorRef* w, const panopt::TensorRef* b, float eps);
    panopt_status (*activation)(panopt_cuda_exec* e, int32_t act, float* x, int64_t n);
    panopt_status (*add)(panopt_cuda_exec* e, float* y, const float* x, int64_t n);
    panopt_status (*attention)(panopt_cuda_exec* e, const panopt::AttentionArgs* a);
    panopt_status (*gather_rows)(panopt_cuda_exec* e, const float* src, const int64_t* rows, int64_t R, int64_t width,
                                 float* dst);
    panopt_status (*to_host)(panopt_cuda_exec* e, float* host, const float* src, int64_t n);
    panopt_status (*cache_copy)(panopt_cuda_exec* dst, const panopt_cuda_exec* src, int32_t batch, int32_t past);
    panopt_status (*cache_read)(const panopt_cuda_exec* e, int32_t layer, int32_t which, int32_t batch, int32_t past,
                                float* out);
};

extern "C" {
typedef const panopt_cuda_api* (*panopt_cuda_get_api_fn)(void);
}

#endif
