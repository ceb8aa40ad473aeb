// ops_linear.cpp — multithreaded Y = X W^T + b over the kernel table's single-thread linear_range.
#include "backend_cpu.h"

#include <cstring>

#include "../dtype.h"
#include "../quant/blocks.h"

namespace panopt {

namespace {

// Each of the M rows of X (K floats) converted once by `conv` into rb bytes of `buf` (bytes past
// the conv's `used` of a row zeroed), on the pool when the work pays for it; every thread's kernel
// then reads these rows (a few % of the product's work at most). With `scales` and `sums` (Q8_0
// rows), also each block's scale and code sum, [block][M] (LinearArgs::xscale, xsum).
unsigned char* convert_rows(ThreadPool& pool, FloatBuf& buf, const float* x, int64_t M, int64_t K,
                            void (*conv)(const float*, void*, int64_t), int64_t rb, int64_t used,
                            float* scales = nullptr, int32_t* sums = nullptr) {
    unsigned char* xq = reinterpret_cast<unsigned char*>(buf.reserve((size_t)((M * rb + 3) / 4)));
    auto rows = [&](int64_t m0, int64_t m1, int) {
        for (int64_t m = m0; m < m1; m++) {
            conv(x + m * K, xq + m * rb, K);
            if (rb > used) std::memset(xq + m * rb + used, 0, (size_t)(rb - used));
            if (!sums) continue;
            const block_q8_0* blocks = reinterpret_cast<const block_q8_0*>(xq + m * rb);
            for (int64_t b = 0; b < K / QK; b++) {
                int32_t s = 0;
                for (int i = 0; i < QK; i++) s += blocks[b].qs[i];
                sums[b * M + m] = s;
                scales[b * M + m] = f16_to_f32(blocks[b].d);
            }
        }
    };
    if (M * K < 65536) rows(0, M, 0);
    else pool.parallel_for(M, [&](int64_t m0, int64_t m1, int t) { rows(m0, m1, t); });
    return xq;
}

} // namespace

// Split N (in multiples of the kernel's panel width) into one contiguous range per thread, so each
// thread streams its own rows of W exactly once. If N is too small to feed every thread (a
// classifier head, tiny models) split M instead.
void CpuExecutor::linear(const float* x, int64_t M, int64_t K, const TensorRef& w, const TensorRef* b, float* y,
                         int64_t N) {
    if (M <= 0 || N <= 0) return;
    LinearArgs a;
    a.x = x;
    a.ldx = K;
    a.w = w.data;
    a.wdtype = w.dtype;
    a.bias = (b && b->data) ? b->data : nullptr;
    a.bdtype = (b && b->data) ? b->dtype : PANOPT_DTYPE_F32;
    a.xq = nullptr;
    a.ldxq = 0;
    const int32_t vt = type_traits(w.dtype)->vec_dot_type;
    const bool prompt = positions_per_row_ >= kDequantMinPositions; // a pass over several positions per row
    const bool dq = vt != PANOPT_DTYPE_F32 && prompt && prompt_dequantized(w.dtype); // (kernels.h)
    const TypeKernels& tk = kt_->type[w.dtype];
    // bf16 products: allowed by the session, in prompt passes, where the table has them
    const bool bf = compute_dt_ == PANOPT_DTYPE_BF16 && prompt && tk.linear_range_bf16 && K > 0;
    const bool r8 = w.layout == TensorRef::ROWS8; // only ever set where tk has the r8 entries
    // an int8 prompt pass over row-ordered weights: through the group kernel where the table has it
    const bool via_r8 = !r8 && !dq && prompt && tk.linear_range_via_r8 && N % 8 == 0;
    if (bf) {
        // X in bf16, rows of an even length (a zero pad: the kernel takes k in pairs)
        const int64_t rb = (K + 1) / 2 * 4;
        a.xq = convert_rows(pool_, xq_, x, M, K, kt_->type[PANOPT_DTYPE_BF16].quantize_row, rb, 2 * K);
        a.ldxq = rb;
    } else if (vt != PANOPT_DTYPE_F32 && !dq) {
        // ggml's block formats: X quantized to the weight's vec_dot_type, with the blocks' scales
        // and code sums where an 8-row group kernel takes Q8_0 activations (LinearArgs::xscale)
        const int64_t qrb = row_bytes(vt, K);
        float* scales = nullptr;
        int32_t* sums = nullptr;
        if ((r8 || via_r8) && vt == PANOPT_DTYPE_Q8_0) {
            scales = xscale_.reserve((size_t)(2 * M * (K / QK)));
            sums = reinterpret_cast<int32_t*>(scales + M * (K / QK));
        }
        a.xq = convert_rows(pool_, xq_, x, M, K, kt_->type[vt].quantize_row, qrb, qrb, scales, sums);
        a.ldxq = qrb;
        a.xscale = scales;
        a.xsum = sums;
        a.ldxs = M;
    }
    a.y = y;
    a.ldy = N;
    a.M = M;
    a.N = N;
    a.K = K;
    const int nt = pool_.size();
    const size_t need = (size_t)kt_->linear_scratch_floats(K);
    for (int t = 0; t < nt; t++) lin_scratch_[t].reserve(need);
    const auto range = bf ? tk.linear_range_bf16
                     : r8 ? (dq ? tk.linear_range_dq_r8 : tk.linear_range_r8)
                          : (dq ? tk.linear_range_dq : via_r8 ? tk.linear_range_via_r8 : tk.linear_range);
    const int64_t align = kt_->n_align;
    const int64_t units = (N + align - 1) / align;
    const LinearArgs* ap = &a;
    if (units >= nt || M < 2 * nt) {
        pool_.parallel_for(units, [&](int64_t u0, int64_t u1, int tid) {
            int64_t n0 = u0 * align, n1 = u1 * align < N ? u1 * align : N;
            range(ap, 0, M, n0, n1, lin_scratch_[tid].data());
        });
    } else {
        pool_.parallel_for(M, [&](int64_t m0, int64_t m1, int tid) { range(ap, m0, m1, 0, N, lin_scratch_[tid].data()); });
    }
}

} // namespace panopt
