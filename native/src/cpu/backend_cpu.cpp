#include "backend_cpu.h"

#include "../dtype.h"

namespace panopt {

void CpuBackend::describe(panopt_backend_info& out) const {
    out.kind = PANOPT_BACKEND_CPU;
    out.n_threads = pool.size();
    out.isa = kt->isa;
}

bool CpuBackend::supports_dtype(int32_t dtype) const {
    if (dtype < 0 || dtype >= PANOPT_DTYPE_COUNT || !kt->type[dtype].linear_range || !kt->type[dtype].to_f32)
        return false;
    const int32_t vt = type_traits(dtype)->vec_dot_type; // block formats: activations are quantized first
    return vt == PANOPT_DTYPE_F32 || kt->type[vt].quantize_row != nullptr;
}

std::unique_ptr<Executor> CpuBackend::new_executor(const panopt_model& m, int32_t max_batch, int32_t max_seq_len,
                                                   int32_t cache_dtype) {
    return std::unique_ptr<Executor>(new CpuExecutor(*this, m, max_batch, max_seq_len, cache_dtype));
}

CpuExecutor::CpuExecutor(CpuBackend& be, const panopt_model& m, int32_t max_batch, int32_t max_seq_len,
                         int32_t cache_dtype)
    : kt_(be.kt),
      pool_(be.pool),
      layers_(m.cfg.num_hidden_layers),
      heads_(m.cfg.num_attention_heads),
      head_dim_(m.cfg.hidden_size / m.cfg.num_attention_heads),
      max_batch_(max_batch),
      max_seq_len_(max_seq_len),
      cache_dt_(cache_dtype),
      cache_rb_(row_bytes(cache_dtype, m.cfg.hidden_size / m.cfg.num_attention_heads)),
      lin_scratch_((size_t)be.pool.size()) {
    const size_t bytes = (size_t)layers_ * max_batch * heads_ * (size_t)max_seq_len * (size_t)cache_rb_;
    kcache_.reserve((bytes + 3) / 4);
    vcache_.reserve((bytes + 3) / 4);
}

} // namespace panopt
