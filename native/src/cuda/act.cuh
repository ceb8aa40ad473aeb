// act.cuh — the activation functions on the device: activation.h's formulas, which the CPU reference
// evaluates too (computed in double and rounded once), so both backends give the same f32 up to the
// last bit of the transcendental.
#ifndef PANOPT_CUDA_ACT_CUH
#define PANOPT_CUDA_ACT_CUH

#include "../activation.h"
#include "common.cuh"

namespace panopt {
namespace cuda {

constexpr int32_t ACT_NONE = -1; // linear epilogue without an activation

// The transcendental activations: out of line (one copy per file), so the epilogue of every product
// kernel stays small.
static __device__ __noinline__ float act_apply_slow(int32_t act, float x) { return (float)activation_ref(act, x); }

__device__ __forceinline__ float act_apply(int32_t act, float x) {
    if (act == PANOPT_ACT_RELU) return x > 0.0f ? x : 0.0f;
    if (act == ACT_NONE || act == PANOPT_ACT_LINEAR) return x;
    return act_apply_slow(act, x);
}

} // namespace cuda
} // namespace panopt

#endif
