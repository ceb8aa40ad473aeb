// cache_rows_scalar.cpp — the reference for attention over cached keys/values of any stored type:
// each row is converted to f32 by the type's reference conversion (in chunks of whole blocks, on
// the stack), then used exactly as f32 rows are.
#include "kernels.h"

#include "../dtype.h"

namespace panopt {
namespace {

constexpr int64_t CHUNK = 256; // a multiple of every block size

template <int DT> void dot_rows1(const float* q, const void* rows, int64_t n, int64_t K, float* out) {
    const TypeTraits* tt = type_traits(DT);
    const int64_t rb = row_bytes(DT, K);
    float buf[CHUNK];
    for (int64_t j = 0; j < n; j++) {
        const char* r = static_cast<const char*>(rows) + j * rb;
        float s = 0;
        for (int64_t k0 = 0; k0 < K; k0 += CHUNK) {
            const int64_t len = K - k0 < CHUNK ? K - k0 : CHUNK;
            tt->to_f32(r + row_bytes(DT, k0), buf, len);
            for (int64_t k = 0; k < len; k++) s += q[k0 + k] * buf[k];
        }
        out[j] = s;
    }
}

template <int DT> void axpy_rows1(const float* p, const void* rows, int64_t n, int64_t K, float* out) {
    const TypeTraits* tt = type_traits(DT);
    const int64_t rb = row_bytes(DT, K);
    float buf[CHUNK];
    for (int64_t j = 0; j < n; j++) {
        if (p[j] == 0.0f) continue;
        const char* r = static_cast<const char*>(rows) + j * rb;
        for (int64_t k0 = 0; k0 < K; k0 += CHUNK) {
            const int64_t len = K - k0 < CHUNK ? K - k0 : CHUNK;
            tt->to_f32(r + row_bytes(DT, k0), buf, len);
            for (int64_t k = 0; k < len; k++) out[k0 + k] += p[j] * buf[k];
        }
    }
}

// nq queries: one after the other
template <int DT> void dot_rows(const float* q, int64_t ldq, int64_t nq, const void* rows, int64_t n, int64_t K, float* out,
                                int64_t ldo) {
    for (int64_t i = 0; i < nq; i++) dot_rows1<DT>(q + i * ldq, rows, n, K, out + i * ldo);
}
template <int DT> void axpy_rows(const float* p, int64_t ldp, int64_t nq, const void* rows, int64_t n, int64_t K, float* out,
                                 int64_t ldo) {
    for (int64_t i = 0; i < nq; i++) axpy_rows1<DT>(p + i * ldp, rows, n, K, out + i * ldo);
}

} // namespace

void cache_kernels_scalar(TypeKernels* type) {
#define PANOPT_CACHE_ROWS_(name, code, block_elems, block_bytes) \
    type[code].dot_rows = dot_rows<code>;                         \
    type[code].axpy_rows = axpy_rows<code>;
    PANOPT_DTYPE_LIST(PANOPT_CACHE_ROWS_)
#undef PANOPT_CACHE_ROWS_
}

} // namespace panopt
