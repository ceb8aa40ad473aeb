// ops_norm.cpp — LayerNorm over rows.
#include "backend_cpu.h"

namespace panopt {

void CpuExecutor::layernorm(const float* x, float* y, int64_t R, int64_t n, const TensorRef& w, const TensorRef& b,
                            float eps) {
    pool_.parallel_for(R, [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; r++) kt_->layernorm(x + r * n, y + r * n, n, w.data, w.dtype, b.data, b.dtype, eps);
    });
}

} // namespace panopt
