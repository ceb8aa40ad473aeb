// activation.h — the activation functions (PANOPT_ACT_*), as torch / HF activations.py define them,
// computed in double: the one definition the CPU reference (cpu/kernels_scalar.cpp) and the CUDA
// kernels (cuda/act.cuh) both evaluate, so the two backends round the same value once to f32.
#ifndef PANOPT_ACTIVATION_H
#define PANOPT_ACTIVATION_H

#include <math.h>
#include <stdint.h>

#include "../include/panopt.h"

#ifdef __CUDACC__
#define PANOPT_HOST_DEVICE __host__ __device__
#else
#define PANOPT_HOST_DEVICE
#endif

namespace panopt {

PANOPT_HOST_DEVICE inline double gelu_erf_ref(double x) { return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440)); }

PANOPT_HOST_DEVICE inline double activation_ref(int32_t act, double x) {
    switch (act) {
    case PANOPT_ACT_RELU: return x > 0 ? x : 0;
    case PANOPT_ACT_GELU: return gelu_erf_ref(x);
    case PANOPT_ACT_GELU_TANH: return 0.5 * x * (1.0 + tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
    case PANOPT_ACT_QUICK_GELU: return x / (1.0 + exp(-1.702 * x));
    case PANOPT_ACT_SILU: return x / (1.0 + exp(-x));
    case PANOPT_ACT_RELU2: return x > 0 ? x * x : 0;
    case PANOPT_ACT_RELU6: return x < 0 ? 0 : (x > 6 ? 6 : x);
    case PANOPT_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case PANOPT_ACT_TANH: return tanh(x);
    case PANOPT_ACT_LEAKY_RELU: return x >= 0 ? x : 0.01 * x;
    case PANOPT_ACT_MISH: {
        const double sp = x > 20 ? x : log1p(exp(x)); // torch softplus, threshold 20
        return x * tanh(sp);
    }
    case PANOPT_ACT_GELU_10: {
        const double r = gelu_erf_ref(x);
        return r < -10 ? -10 : (r > 10 ? 10 : r);
    }
    case PANOPT_ACT_LAPLACE: return 0.5 * (1.0 + erf((x - 0.707107) / (0.282095 * 1.41421356237309504880)));
    default: return x; // PANOPT_ACT_LINEAR
    }
}

} // namespace panopt

#endif
