// executor_cpu.cpp — host transfers and the key/value cache of a CPU session.
#include <cstring>

#include "backend_cpu.h"
#include "../error.h"

namespace panopt {

void CpuExecutor::to_host(float* host, const float* src, int64_t n) {
    if (host != src) std::memcpy(host, src, (size_t)n * sizeof(float));
}

void CpuExecutor::cache_copy_from(const Executor& src_exec, int32_t batch, int32_t past) {
    const CpuExecutor& src = static_cast<const CpuExecutor&>(src_exec);
    if (src.cache_dt_ != cache_dt_) // the bytes are copied as they are
        fail(PANOPT_ERR_INVALID_ARGUMENT, "the two sessions' caches are stored in different types");
    for (int64_t l = 0; l < layers_; l++)
        for (int64_t b = 0; b < batch; b++)
            for (int64_t h = 0; h < heads_; h++) {
                std::memcpy(cache_at(kcache_, l, b, h), src.cache_at(src.kcache_, l, b, h), (size_t)(past * cache_rb_));
                std::memcpy(cache_at(vcache_, l, b, h), src.cache_at(src.vcache_, l, b, h), (size_t)(past * cache_rb_));
            }
}

void CpuExecutor::cache_move_rows(const RowMove* moves, int64_t n_moves, int32_t past) {
    const int64_t span = past * cache_rb_; // bytes of one (layer, row, head) in use
    bool temp = false;
    for (int64_t m = 0; m < n_moves; m++) temp |= moves[m].dst == RowMove::ROW_TEMP;
    unsigned char* tmp =
        temp ? reinterpret_cast<unsigned char*>(row_tmp_.reserve((size_t)((layers_ * 2 * heads_ * span + 3) / 4)))
             : nullptr;
    // Layers are independent: each thread replays every move on its own layers.
    pool_.parallel_for(layers_, [&](int64_t l0, int64_t l1, int) {
        for (int64_t l = l0; l < l1; l++)
            for (int64_t m = 0; m < n_moves; m++)
                for (int w = 0; w < 2; w++) {
                    const FloatBuf& c = w == 0 ? kcache_ : vcache_;
                    for (int64_t h = 0; h < heads_; h++) {
                        unsigned char* t = tmp ? tmp + ((l * 2 + w) * heads_ + h) * span : nullptr;
                        unsigned char* d = moves[m].dst == RowMove::ROW_TEMP ? t : cache_at(c, l, moves[m].dst, h);
                        const unsigned char* s = moves[m].src == RowMove::ROW_TEMP ? t : cache_at(c, l, moves[m].src, h);
                        std::memcpy(d, s, (size_t)span);
                    }
                }
    });
}

void CpuExecutor::cache_read(int32_t layer, int32_t which, int32_t batch, int32_t past, float* out) const {
    const FloatBuf& c = which == 0 ? kcache_ : vcache_;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t h = 0; h < heads_; h++)
            for (int64_t j = 0; j < past; j++) // f32 whatever the storage
                kt_->type[cache_dt_].to_f32(cache_at(c, layer, b, h) + j * cache_rb_,
                                            out + ((b * heads_ + h) * past + j) * head_dim_, head_dim_);
}

} // namespace panopt
