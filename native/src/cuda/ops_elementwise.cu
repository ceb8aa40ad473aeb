// ops_elementwise.cu — embedding gathers (token rows, position rows), activation, residual add,
// row gathers and the device-to-host copies of a pass.
#include "act.cuh"
#include "kernels.cuh"

namespace panopt {
namespace cuda {

namespace {

constexpr int kThreads = 256;

// out[r][k] (+)= table[ids[r]][k]: one block per row, any table type (dequantized per element).
__global__ void embed_kernel(DevTensor t, const int32_t* __restrict__ ids, int64_t width, float* __restrict__ out,
                             int accumulate) {
    const int64_t r = blockIdx.x;
    const int64_t row = ids[r];
    float* o = out + r * width;
    for (int64_t k = threadIdx.x; k < width; k += blockDim.x) {
        const float v = tensor_elem(t, row, k);
        o[k] = accumulate ? o[k] + v : v;
    }
}

__global__ void activation_kernel(int32_t act, float* __restrict__ x, int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        x[i] = act_apply(act, x[i]);
}

__global__ void add_kernel(float* __restrict__ y, const float* __restrict__ x, int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        y[i] += x[i];
}

__global__ void gather_kernel(const float* __restrict__ src, const int64_t* __restrict__ rows, int64_t width,
                              float* __restrict__ dst) {
    const int64_t i = blockIdx.x;
    const float* s = src + rows[i] * width;
    for (int64_t k = threadIdx.x; k < width; k += blockDim.x) dst[i * width + k] = s[k];
}

unsigned elementwise_grid(int64_t n) {
    const int64_t g = (n + kThreads - 1) / kThreads;
    return (unsigned)(g < 65536 ? (g > 0 ? g : 1) : 65536); // grid-stride beyond
}

} // namespace

void run_copy_in(const CopyInP& p, const PassCtx& c) {
    PCU_CHECK(cudaMemcpyAsync(p.dst, staged<float>(c, p.in_off), (size_t)p.n * sizeof(float), cudaMemcpyDeviceToDevice,
                              c.stream));
}

void run_embed(const EmbedP& p, const PassCtx& c) {
    if (p.M <= 0) return;
    embed_kernel<<<(unsigned)p.M, kThreads, 0, c.stream>>>(p.table, staged<int32_t>(c, p.ids_off), p.width, p.out,
                                                           p.accumulate);
    PCU_LAUNCHED();
}

void run_activation(const ActP& p, const PassCtx& c) {
    if (p.n <= 0) return;
    activation_kernel<<<elementwise_grid(p.n), kThreads, 0, c.stream>>>(p.act, p.x, p.n);
    PCU_LAUNCHED();
}

void run_add(const AddP& p, const PassCtx& c) {
    if (p.n <= 0) return;
    add_kernel<<<elementwise_grid(p.n), kThreads, 0, c.stream>>>(p.y, p.x, p.n);
    PCU_LAUNCHED();
}

void run_gather(const GatherP& p, const PassCtx& c) {
    if (p.R <= 0) return;
    gather_kernel<<<(unsigned)p.R, kThreads, 0, c.stream>>>(p.src, staged<int64_t>(c, p.rows_off), p.width, p.dst);
    PCU_LAUNCHED();
}

void run_to_host(const ToHostP& p, const PassCtx& c) {
    const void* src = p.src_temp ? static_cast<const void*>(c.temp + p.src_off) : p.src;
    PCU_CHECK(cudaMemcpyAsync(c.out + p.out_off, src, (size_t)p.bytes, cudaMemcpyDeviceToHost, c.stream));
}

} // namespace cuda
} // namespace panopt
