// common.cuh — what every CUDA file of the backend shares: the error check of each runtime call and
// launch (a failure is a panopt::Error, surfaced through the C API's status and message; never an
// abort), the device layout of a weight (DevTensor), element loads and warp/block reductions.
#ifndef PANOPT_CUDA_COMMON_CUH
#define PANOPT_CUDA_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "../../include/panopt.h"
#include "../error.h"

namespace panopt {
namespace cuda {

// Throws panopt::Error for a failed runtime call: OUT_OF_MEMORY for allocations, UNSUPPORTED for a
// missing driver/device, INTERNAL otherwise (the message says when the context is lost for good).
[[noreturn]] void throw_cuda(cudaError_t e, const char* what, const char* file, int line);

#define PCU_CHECK(call)                                                                                               \
    do {                                                                                                               \
        const cudaError_t pcu_e_ = (call);                                                                             \
        if (pcu_e_ != cudaSuccess) ::panopt::cuda::throw_cuda(pcu_e_, #call, __FILE__, __LINE__);                      \
    } while (0)
// After every kernel launch: a bad launch configuration (or an earlier asynchronous fault) is reported here.
#define PCU_LAUNCHED() PCU_CHECK(cudaGetLastError())

constexpr int QK = 32; // elements per block of Q8_0 / Q4_0 (blocks.h)

// A weight in device memory, as model_upload lays it out:
//   F32/F16/BF16: rows of `ld` bytes (the row's elements, then zeros up to a multiple of 128 bytes,
//                 so tiles of 32 f16 / 16 f32 elements never read past a row or a NaN);
//   Q8_0: rows of `ld` bytes holding each block's 32 int8 in order (ld = cols);
//   Q4_0: rows of `ld` bytes holding each block's 16 nibble bytes as ggml stores them (byte j: element
//         j in the low nibble, j + 16 in the high one; ld = cols / 2);
//   block formats: the f16 block scales apart, `scales` [rows][cols / 32].
// Splitting scales from values keeps every row 16-byte aligned for vector loads.
// No padding (checked below): op parameters holding one are compared byte for byte between passes.
struct DevTensor {
    const unsigned char* data = nullptr;
    const __half* scales = nullptr;
    int64_t rows = 0, cols = 0, ld = 0;
    int32_t dtype = 0;
    int32_t unused = 0;
};
static_assert(std::has_unique_object_representations<DevTensor>::value, "DevTensor must have no padding");

// Element i of a one-element-block float vector (bias, LayerNorm weight) or of a row.
__device__ __forceinline__ float load_elem(const void* p, int32_t dt, int64_t i) {
    if (dt == PANOPT_DTYPE_F16) return __half2float(static_cast<const __half*>(p)[i]);
    if (dt == PANOPT_DTYPE_BF16) return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
    return static_cast<const float*>(p)[i];
}

// Element k of row r of a device weight, any supported type.
__device__ __forceinline__ float tensor_elem(const DevTensor& t, int64_t r, int64_t k) {
    const unsigned char* row = t.data + r * t.ld;
    switch (t.dtype) {
    case PANOPT_DTYPE_Q8_0:
        return __half2float(t.scales[r * (t.cols / QK) + k / QK]) * (float)reinterpret_cast<const int8_t*>(row)[k];
    case PANOPT_DTYPE_Q4_0: {
        const int64_t b = k / QK;
        const int j = (int)(k % QK);
        const uint8_t byte = row[b * (QK / 2) + (j & 15)];
        const int q = (j < 16 ? (byte & 0xF) : (byte >> 4)) - 8;
        return __half2float(t.scales[r * (t.cols / QK) + b]) * (float)q;
    }
    default: return load_elem(row, t.dtype, k);
    }
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ double warp_sum(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
// `red` is shared scratch of 32 values; the call is a barrier.
template <class T> __device__ __forceinline__ T block_sum(T v, T* red) {
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads(); // red may still be read by a previous call
    if (lane == 0) red[w] = v;
    __syncthreads();
    T s = lane < nw ? red[lane] : T(0);
    return warp_sum(s);
}
__device__ __forceinline__ float block_max(float v, float* red) {
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) red[w] = v;
    __syncthreads();
    float s = lane < nw ? red[lane] : -INFINITY;
    return warp_max(s);
}

inline unsigned grid_for(int64_t n, int per_block) { return (unsigned)((n + per_block - 1) / per_block); }

} // namespace cuda
} // namespace panopt

#endif
