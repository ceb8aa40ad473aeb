// backend_cuda.cuh — the CUDA backend's objects behind the C table (api_cuda.cu): the device
// (CudaBackend), a model's weights in device memory (CudaModel) and one session (CudaExecutor,
// executor.cuh). Weights are uploaded once, when the model is finalized; nothing is managed memory.
#ifndef PANOPT_CUDA_BACKEND_CUDA_CUH
#define PANOPT_CUDA_BACKEND_CUDA_CUH

#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "../model.h"
#include "common.cuh"

namespace panopt {
namespace cuda {

class CudaBackend {
public:
    // Throws Error(UNSUPPORTED) naming what is missing: the driver, any device, this device, or
    // compute capability 8.0.
    explicit CudaBackend(int device);
    ~CudaBackend();
    CudaBackend(const CudaBackend&) = delete;
    CudaBackend& operator=(const CudaBackend&) = delete;

    // Makes this backend's device current on the calling thread (each C-table call does it first).
    void activate() const;

    const int device;
    cudaDeviceProp props{};
    // cudaMalloc/cudaFree/pinned allocations and graph captures of all sessions on the device take it,
    // so no allocation ever meets another thread's capture.
    std::mutex mem_mu;
    cudaStream_t stream = nullptr; // uploads and other work outside sessions
};

class CudaModel {
public:
    CudaModel(CudaBackend& be, const TensorRef* const* tensors, int64_t n);
    ~CudaModel();
    CudaModel(const CudaModel&) = delete;
    CudaModel& operator=(const CudaModel&) = delete;

    // The device copy of a weight the graph passes; a TensorRef without data gives a DevTensor
    // without data (an absent bias). Throws Error(INTERNAL) for a tensor that was never uploaded.
    DevTensor get(const TensorRef& t) const;

    CudaBackend& be;

private:
    using Key = std::tuple<const void*, int32_t, int64_t, int64_t>; // host data, dtype, rows, cols
    std::map<Key, DevTensor> tensors_;
    void* mem_ = nullptr; // every weight, one allocation
};

// Bytes of a device row of `cols` elements of a float type: the row, zero-padded to 128 bytes.
int64_t device_row_pitch(int32_t dtype, int64_t cols);
bool supported_dtype(int32_t dtype);

} // namespace cuda
} // namespace panopt

#endif
