// ops_norm.cu — LayerNorm over rows, as the CPU reference computes it (cpu/kernels_scalar.cpp): mean
// and biased variance accumulated in double, each output rounded to f32 once, then the affine map.
#include "kernels.cuh"

namespace panopt {
namespace cuda {

namespace {

constexpr int kThreads = 256;

// One block per row; x == y allowed (each element is read and then written by the same thread).
__global__ void layernorm_kernel(const float* x, float* y, int64_t n, const void* w, int32_t wdt, const void* b,
                                 int32_t bdt, float eps) {
    __shared__ double red[32];
    const float* xr = x + blockIdx.x * n;
    float* yr = y + blockIdx.x * n;
    double s = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += xr[i];
    const double mean = block_sum(s, red) / (double)n;
    double v = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        const double d = xr[i] - mean;
        v += d * d;
    }
    const double inv = 1.0 / sqrt(block_sum(v, red) / (double)n + (double)eps);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        float t = (float)((xr[i] - mean) * inv);
        if (w) t = t * load_elem(w, wdt, i) + (b ? load_elem(b, bdt, i) : 0.0f);
        yr[i] = t;
    }
}

} // namespace

void run_layernorm(const LayerNormP& p, const PassCtx& c) {
    if (p.R <= 0) return;
    layernorm_kernel<<<(unsigned)p.R, kThreads, 0, c.stream>>>(p.x, p.y, p.n, p.w, p.wdt, p.b, p.bdt, p.eps);
    PCU_LAUNCHED();
}

} // namespace cuda
} // namespace panopt
