// ops_elementwise.cpp — embedding gathers, activation, residual add, row gathers.
#include <cstring>

#include "backend_cpu.h"
#include "../quant/rows8.h"

namespace panopt {

namespace {
constexpr int64_t kBlock = 4096; // floats per parallel work unit of the elementwise ops
}

void CpuExecutor::embed(const TensorRef& table, const int32_t* ids, const float* embeds, int64_t M, int64_t width,
                        float* out) {
    const auto to_f32 = kt_->type[table.dtype].to_f32;
    pool_.parallel_for(M, [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; r++) {
            if (embeds) std::memcpy(out + r * width, embeds + r * width, (size_t)width * sizeof(float));
            else if (table.layout == TensorRef::ROWS8)
                quant::dequantize_row_rows8(table.dtype, table.data, width, ids[r], out + r * width);
            else to_f32(table.row(ids[r]), out + r * width, width);
        }
    });
}

void CpuExecutor::add_rows(const TensorRef& table, const int32_t* rows, int64_t M, int64_t width, float* x) {
    const auto to_f32 = kt_->type[table.dtype].to_f32;
    float* tmp = rows_tmp_.reserve((size_t)(M * width));
    pool_.parallel_for(M, [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; r++) {
            to_f32(table.row(rows[r]), tmp + r * width, width);
            kt_->add(x + r * width, tmp + r * width, width);
        }
    });
}

void CpuExecutor::activation(int32_t act, float* x, int64_t n) {
    pool_.parallel_for((n + kBlock - 1) / kBlock, [&](int64_t b0, int64_t b1, int) {
        int64_t i0 = b0 * kBlock, i1 = b1 * kBlock < n ? b1 * kBlock : n;
        kt_->activation(act, x + i0, i1 - i0);
    });
}

void CpuExecutor::add(float* y, const float* x, int64_t n) {
    pool_.parallel_for((n + kBlock - 1) / kBlock, [&](int64_t b0, int64_t b1, int) {
        int64_t i0 = b0 * kBlock, i1 = b1 * kBlock < n ? b1 * kBlock : n;
        kt_->add(y + i0, x + i0, i1 - i0);
    });
}

void CpuExecutor::gather_rows(const float* src, const int64_t* rows, int64_t R, int64_t width, float* dst) {
    for (int64_t i = 0; i < R; i++) std::memcpy(dst + i * width, src + rows[i] * width, (size_t)width * sizeof(float));
}

} // namespace panopt
