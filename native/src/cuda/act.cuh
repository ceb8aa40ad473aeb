// act.cuh — the activation functions on the device, the formulas of the CPU reference
// (cpu/kernels_scalar.cpp activation_scalar, as torch / HF activations.py): computed in double and
// rounded once, so both backends give the same f32 up to the last bit of the transcendental.
#ifndef PANOPT_CUDA_ACT_CUH
#define PANOPT_CUDA_ACT_CUH

#include "common.cuh"

namespace panopt {
namespace cuda {

constexpr int32_t ACT_NONE = -1; // linear epilogue without an activation

__device__ __forceinline__ double gelu_erf_d(double x) { return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440)); }

// The transcendental activations: out of line (one copy per file), so the epilogue of every product
// kernel stays small.
static __device__ __noinline__ float act_apply_slow(int32_t act, float xf) {
    const double x = xf;
    double r;
    switch (act) {
    case PANOPT_ACT_GELU: r = gelu_erf_d(x); break;
    case PANOPT_ACT_GELU_TANH: r = 0.5 * x * (1.0 + tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x))); break;
    case PANOPT_ACT_QUICK_GELU: r = x / (1.0 + exp(-1.702 * x)); break;
    case PANOPT_ACT_SILU: r = x / (1.0 + exp(-x)); break;
    case PANOPT_ACT_RELU2: r = x > 0 ? x * x : 0; break;
    case PANOPT_ACT_RELU6: r = x < 0 ? 0 : (x > 6 ? 6 : x); break;
    case PANOPT_ACT_SIGMOID: r = 1.0 / (1.0 + exp(-x)); break;
    case PANOPT_ACT_TANH: r = tanh(x); break;
    case PANOPT_ACT_LEAKY_RELU: r = x >= 0 ? x : 0.01 * x; break;
    case PANOPT_ACT_MISH: {
        const double sp = x > 20 ? x : log1p(exp(x)); // torch softplus, threshold 20
        r = x * tanh(sp);
        break;
    }
    case PANOPT_ACT_GELU_10: {
        r = gelu_erf_d(x);
        r = r < -10 ? -10 : (r > 10 ? 10 : r);
        break;
    }
    case PANOPT_ACT_LAPLACE: r = 0.5 * (1.0 + erf((x - 0.707107) / (0.282095 * 1.41421356237309504880))); break;
    default: r = x; break;
    }
    return (float)r;
}

__device__ __forceinline__ float act_apply(int32_t act, float x) {
    if (act == PANOPT_ACT_RELU) return x > 0.0f ? x : 0.0f;
    if (act == ACT_NONE || act == PANOPT_ACT_LINEAR) return x;
    return act_apply_slow(act, x);
}

} // namespace cuda
} // namespace panopt

#endif
