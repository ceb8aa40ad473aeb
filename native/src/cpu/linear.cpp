#include "linear.h"

namespace panopt {

// Split N (in multiples of the kernel's panel width) into one contiguous range per thread, so each
// thread streams its own rows of W exactly once. If N is too small to feed every thread (a
// classifier head, tiny models) split M instead.
void linear(const Kernels* kt, ThreadPool& pool, std::vector<FloatBuf>& scratch, const LinearArgs& a) {
    if (a.M <= 0 || a.N <= 0) return;
    const int nt = pool.size();
    const size_t need = (size_t)kt->linear_scratch_floats(a.K);
    for (int t = 0; t < nt; t++) scratch[t].reserve(need);
    const int64_t align = kt->n_align;
    const int64_t units = (a.N + align - 1) / align;
    const LinearArgs* ap = &a;
    if (units >= nt || a.M < 2 * nt) {
        pool.parallel_for(units, [&](int64_t u0, int64_t u1, int tid) {
            int64_t n0 = u0 * align, n1 = u1 * align < a.N ? u1 * align : a.N;
            kt->linear_range(ap, 0, a.M, n0, n1, scratch[tid].data());
        });
    } else {
        pool.parallel_for(a.M, [&](int64_t m0, int64_t m1, int tid) {
            kt->linear_range(ap, m0, m1, 0, a.N, scratch[tid].data());
        });
    }
}

} // namespace panopt
