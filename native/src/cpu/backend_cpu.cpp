#include "backend_cpu.h"

#include "../dtype.h"
#include "../model.h"
#include "../quant/rows8.h"
#include "weight_arena.h"

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

void CpuBackend::adopt_tensor(panopt_model& m, int32_t kind, TensorRef& t) {
    if (m.cfg.keep_weight_layout) return;
    switch (kind) {
    case PANOPT_T_Q_WEIGHT: case PANOPT_T_K_WEIGHT: case PANOPT_T_V_WEIGHT: case PANOPT_T_O_WEIGHT:
    case PANOPT_T_FC1_WEIGHT: case PANOPT_T_FC2_WEIGHT: case PANOPT_T_PROJECT_IN: case PANOPT_T_PROJECT_OUT:
        break;
    case PANOPT_T_EMBED_TOKENS: // looked up row by row from the groups (CpuExecutor::embed)
    case PANOPT_T_HEAD_WEIGHT: {
        // tied (the caller's same buffer): one copy for both
        const TensorRef& other = m.g(kind == PANOPT_T_HEAD_WEIGHT ? PANOPT_T_EMBED_TOKENS : PANOPT_T_HEAD_WEIGHT);
        if (other.own && other.source == t.data && other.dtype == t.dtype && other.rows == t.rows &&
            other.cols == t.cols) {
            t.data = other.data;
            t.layout = other.layout;
            t.own = other.own;
            return;
        }
        break;
    }
    default: return;
    }
    const TypeKernels& k = kt->type[t.dtype];
    if (!quant::has_rows8(t.dtype) || !k.linear_range_r8 || !k.linear_range_dq_r8 || t.rows % R8 != 0) return;
    if (!m.adopting) m.adopting.reset(new WeightArena); // only this backend sets its models' state
    std::shared_ptr<void> own = static_cast<WeightArena&>(*m.adopting).alloc((size_t)(t.rows * t.row_bytes));
    void* p = own.get();
    const void* src = t.data;
    const int64_t K = t.cols;
    const int32_t dt = t.dtype;
    pool.parallel_for(t.rows / R8, [&](int64_t g0, int64_t g1, int) { quant::repack_rows8(dt, src, p, K, g0, g1); });
    t.data = p;
    t.layout = TensorRef::ROWS8;
    t.own = std::move(own);
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
