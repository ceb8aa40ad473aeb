// ops_linear.cpp — multithreaded Y = X W^T + b over the kernel table's single-thread linear_range.
#include "backend_cpu.h"

#include <cstring>

#include "../dtype.h"
#include "../quant/blocks.h"

namespace panopt {

namespace {

// Each of the M rows of X (K floats) converted once by `conv` into rb bytes of `buf` (bytes past
// the conv's `used` of a row zeroed), on the pool when the work pays for it; every thread's kernel
// then reads these rows (a few % of the product's work at most). With `sums` (Q8_0 rows, quantized
// by it instead of conv), also each block's scale and code sum, [block][M] (LinearArgs::xscale, xsum).
unsigned char* convert_rows(ThreadPool& pool, FloatBuf& buf, const float* x, int64_t M, int64_t K,
                            void (*conv)(const float*, void*, int64_t), int64_t rb, int64_t used,
                            void (*sums)(const float*, void*, int64_t, float*, int32_t*, int64_t) = nullptr,
                            float* scales = nullptr, int32_t* qsums = nullptr) {
    unsigned char* xq = reinterpret_cast<unsigned char*>(buf.reserve((size_t)((M * rb + 3) / 4)));
    auto rows = [&](int64_t m0, int64_t m1, int) {
        for (int64_t m = m0; m < m1; m++) {
            if (sums) sums(x + m * K, xq + m * rb, K, scales + m, qsums + m, M);
            else conv(x + m * K, xq + m * rb, K);
            if (rb > used) std::memset(xq + m * rb + used, 0, (size_t)(rb - used));
        }
    };
    if (M * K < 65536) rows(0, M, 0);
    else pool.parallel_for(M, [&](int64_t m0, int64_t m1, int t) { rows(m0, m1, t); });
    return xq;
}

// How X enters a product: f32 as it is (F32), in bf16 (BF16), or quantized to a block format's
// vec_dot_type; sums: with the blocks' scales and code sums for the 8-row group kernels.
struct XForm {
    int32_t dt;
    bool sums;
    bool operator==(const XForm& o) const { return dt == o.dt && sums == o.sums; }
};

using RangeFn = void (*)(const LinearArgs*, int64_t, int64_t, int64_t, int64_t, float*);

// The kernel for one product and the form of X it reads; everything of `a` but X's conversion.
RangeFn plan(const Kernels* kt, int64_t positions_per_row, int32_t compute_dt, const float* x, int64_t M, int64_t K,
             const Executor::LinearOut& o, LinearArgs& a, XForm& form) {
    const TensorRef& w = *o.w;
    a = LinearArgs{};
    a.x = x;
    a.ldx = K;
    a.w = w.data;
    a.wdtype = w.dtype;
    a.bias = (o.b && o.b->data) ? o.b->data : nullptr;
    a.bdtype = (o.b && o.b->data) ? o.b->dtype : PANOPT_DTYPE_F32;
    a.y = o.y;
    a.ldy = o.N;
    a.M = M;
    a.N = o.N;
    a.K = K;
    const int32_t vt = type_traits(w.dtype)->vec_dot_type;
    const bool prompt = positions_per_row >= kDequantMinPositions; // a pass over several positions per row
    const bool dq = vt != PANOPT_DTYPE_F32 && prompt && prompt_dequantized(w.dtype); // (kernels.h)
    const TypeKernels& tk = kt->type[w.dtype];
    // bf16 products: allowed by the session, in prompt passes, where the table has them
    const bool bf = compute_dt == PANOPT_DTYPE_BF16 && prompt && tk.linear_range_bf16 && K > 0;
    const bool r8 = w.layout == TensorRef::ROWS8; // only ever set where tk has the r8 entries
    // an int8 prompt pass over row-ordered weights: through the group kernel where the table has it
    const bool via_r8 = !r8 && !dq && prompt && tk.linear_range_via_r8 && o.N % 8 == 0;
    // an int8 prompt pass over weights in groups: on tiles where the table has them (AMX)
    const bool tiles = r8 && !dq && prompt && tk.linear_range_tiles_r8;
    form.dt = bf ? PANOPT_DTYPE_BF16 : (vt != PANOPT_DTYPE_F32 && !dq) ? vt : PANOPT_DTYPE_F32;
    form.sums = !bf && form.dt == PANOPT_DTYPE_Q8_0 && (r8 || via_r8);
    return bf ? tk.linear_range_bf16
         : tiles ? tk.linear_range_tiles_r8
         : r8    ? (dq ? tk.linear_range_dq_r8 : tk.linear_range_r8)
              : (dq ? tk.linear_range_dq : via_r8 ? tk.linear_range_via_r8 : tk.linear_range);
}

} // namespace

// X converted to `form` (into the executor's buffers) and its pointers set in a.
void CpuExecutor::convert_x(const float* x, int64_t M, int64_t K, int32_t form_dt, bool sums, LinearArgs& a) {
    if (form_dt == PANOPT_DTYPE_BF16) {
        // X in bf16, rows of an even length (a zero pad: the kernel takes k in pairs)
        const int64_t rb = (K + 1) / 2 * 4;
        a.xq = convert_rows(pool_, xq_, x, M, K, kt_->type[PANOPT_DTYPE_BF16].quantize_row, rb, 2 * K);
        a.ldxq = rb;
    } else if (form_dt != PANOPT_DTYPE_F32) {
        // ggml's block formats: X quantized to the weight's vec_dot_type, with the blocks' scales
        // and code sums where an 8-row group kernel takes Q8_0 activations (LinearArgs::xscale)
        const int64_t qrb = row_bytes(form_dt, K);
        float* scales = nullptr;
        int32_t* qsums = nullptr;
        if (sums) {
            scales = xscale_.reserve((size_t)(2 * M * (K / QK)));
            qsums = reinterpret_cast<int32_t*>(scales + M * (K / QK));
        }
        a.xq = convert_rows(pool_, xq_, x, M, K, kt_->type[form_dt].quantize_row, qrb, qrb,
                            sums ? kt_->type[form_dt].quantize_row_sums : nullptr, scales, qsums);
        a.ldxq = qrb;
        a.xscale = scales;
        a.xsum = qsums;
        a.ldxs = M;
    }
}

void CpuExecutor::linear(const float* x, int64_t M, int64_t K, const TensorRef& w, const TensorRef* b, float* y,
                         int64_t N) {
    const LinearOut o{&w, b, y, N};
    linear_multi(x, M, K, &o, 1);
}

// Split N (in multiples of the kernel's panel width) into one contiguous range per thread, so each
// thread streams its own rows of W exactly once; several products of one X (its conversion made
// once) as one range of their outputs' units, end to end. If N is too small to feed every thread
// (a classifier head, tiny models) split M instead, one product at a time.
void CpuExecutor::linear_multi(const float* x, int64_t M, int64_t K, const LinearOut* outs, int n) {
    constexpr int kMax = 4;
    if (n > kMax) {
        for (int i = 0; i < n; i += kMax) linear_multi(x, M, K, outs + i, n - i < kMax ? n - i : kMax);
        return;
    }
    if (M <= 0 || n <= 0) return;
    LinearArgs a[kMax];
    RangeFn range[kMax];
    XForm form[kMax];
    const int nt = pool_.size();
    const int64_t align = kt_->n_align;
    int64_t start[kMax + 1] = {0}; // product i's units are [start[i], start[i + 1])
    bool shared = true, split_n = true;
    for (int i = 0; i < n; i++) {
        range[i] = plan(kt_, positions_per_row_, compute_dt_, x, M, K, outs[i], a[i], form[i]);
        const int64_t u = outs[i].N > 0 ? (outs[i].N + align - 1) / align : 0;
        start[i + 1] = start[i] + u;
        shared = shared && form[i] == form[0];
        // each product split as it would be alone (a kernel's rounding may follow its M range)
        split_n = split_n && (u >= nt || M < 2 * nt);
    }
    const int64_t units = start[n];
    if (n > 1 && (!shared || !split_n)) {
        for (int i = 0; i < n; i++) linear_multi(x, M, K, outs + i, 1);
        return;
    }
    if (units == 0) return;
    convert_x(x, M, K, form[0].dt, form[0].sums, a[0]);
    for (int i = 1; i < n; i++) {
        a[i].xq = a[0].xq;
        a[i].ldxq = a[0].ldxq;
        a[i].xscale = a[0].xscale;
        a[i].xsum = a[0].xsum;
        a[i].ldxs = a[0].ldxs;
    }
    const size_t need = (size_t)kt_->linear_scratch_floats(K);
    for (int t = 0; t < nt; t++) lin_scratch_[t].reserve(need);
    if (split_n) {
        pool_.parallel_for(units, [&](int64_t u0, int64_t u1, int tid) {
            for (int i = 0; i < n; i++) {
                const int64_t v0 = (u0 > start[i] ? u0 : start[i]) - start[i];
                const int64_t v1 = (u1 < start[i + 1] ? u1 : start[i + 1]) - start[i];
                if (v0 >= v1) continue;
                const int64_t n0 = v0 * align, n1 = v1 * align < outs[i].N ? v1 * align : outs[i].N;
                range[i](&a[i], 0, M, n0, n1, lin_scratch_[tid].data());
            }
        });
    } else {
        const LinearArgs* ap = &a[0];
        const int64_t N = outs[0].N;
        pool_.parallel_for(M, [&](int64_t m0, int64_t m1, int tid) { range[0](ap, m0, m1, 0, N, lin_scratch_[tid].data()); });
    }
}

} // namespace panopt
