// kernels_scalar.cpp — portable reference kernels. Straightforward loops; these define what the
// vector kernels are tested against, so clarity beats speed here.
#include "kernels.h"

#include "../activation.h"
#include "../dtype.h"

#include <math.h>
#include <string.h>

#include "../../include/panopt.h"

namespace panopt {

namespace {

// One element of a one-element-block float type (biases, LayerNorm weights).
inline float load_elem(const void* p, int32_t dt, int64_t i) {
    float f;
    type_traits(dt)->to_f32(static_cast<const char*>(p) + i * type_traits(dt)->block_bytes, &f, 1);
    return f;
}

int64_t linear_scratch_floats(int64_t K) { return K + 16; }

// One W row is converted to f32 once (into scratch) by the type's reference conversion, then
// dotted with every X row. Works for every type of the type-traits table. BF16: the bf16
// reference (linear_range_bf16_ref) — the W row rounded to bf16 too, X the bf16 rows in xq; each
// product of two bf16 is exact in f32, the sums are f32 as in the f32 reference.
template <bool BF16>
void linear_ref(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
    const int64_t K = a->K;
    const TypeTraits* tt = type_traits(a->wdtype);
    const int64_t rb = row_bytes(a->wdtype, K);
    for (int64_t n = n0; n < n1; n++) {
        tt->to_f32((const char*)a->w + n * rb, scratch, K);
        if (BF16)
            for (int64_t k = 0; k < K; k++) scratch[k] = bf16_to_f32(f32_to_bf16(scratch[k]));
        float b = a->bias ? load_elem(a->bias, a->bdtype, n) : 0.0f;
        for (int64_t m = m0; m < m1; m++) {
            const float* x = a->x + m * a->ldx;
            const uint16_t* xb = BF16 ? reinterpret_cast<const uint16_t*>(static_cast<const char*>(a->xq) + m * a->ldxq) : nullptr;
            float acc = 0.0f;
            for (int64_t k = 0; k < K; k++) acc += (BF16 ? bf16_to_f32(xb[k]) : x[k]) * scratch[k];
            a->y[m * a->ldy + n] = acc + b;
        }
    }
}

void linear_range(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
    linear_ref<false>(a, m0, m1, n0, n1, scratch);
}

} // namespace

void linear_range_bf16_ref(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
    linear_ref<true>(a, m0, m1, n0, n1, scratch);
}

namespace {

void layernorm(const float* x, float* y, int64_t n, const void* w, int32_t wdt, const void* b, int32_t bdt,
               float eps) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    double mean = s / (double)n;
    double v = 0;
    for (int64_t i = 0; i < n; i++) v += (x[i] - mean) * (x[i] - mean);
    double inv = 1.0 / sqrt(v / (double)n + (double)eps);
    for (int64_t i = 0; i < n; i++) {
        float t = (float)((x[i] - mean) * inv);
        if (w) t = t * load_elem(w, wdt, i) + (b ? load_elem(b, bdt, i) : 0.0f);
        y[i] = t;
    }
}

float dot(const float* a, const float* b, int64_t n) {
    float s = 0;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

void axpy(float a, const float* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

void add(float* y, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += x[i];
}

void softmax(float* x, int64_t n) {
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    float s = 0;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        s += x[i];
    }
    float inv = 1.0f / s;
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

} // namespace

// Formulas as in torch / HF activations.py (activation.h: computed in double, rounded once).
void activation_scalar(int32_t act, float* xs, int64_t n) {
    for (int64_t i = 0; i < n; i++) xs[i] = (float)activation_ref(act, xs[i]);
}

namespace {
void activation(int32_t act, float* x, int64_t n) { activation_scalar(act, x, n); }

// Every type of the type-traits table: its reference conversion and the generic linear above.
Kernels make_table() {
    Kernels k{};
    k.isa = PANOPT_ISA_SCALAR;
    k.name = "scalar";
    k.n_align = 1;
    k.linear_scratch_floats = linear_scratch_floats;
    for (int32_t dt = 0; dt < PANOPT_DTYPE_COUNT; dt++) {
        const TypeTraits* tt = type_traits(dt);
        // activation types quantize with the reference; products with them are in quant_dot_scalar.cpp
        const bool activation = dt == PANOPT_DTYPE_Q8_0 || dt == PANOPT_DTYPE_Q8_1 || dt == PANOPT_DTYPE_Q8_K;
        // no 8-row groups (the reference reads rows in order), no bf16 products (it computes in f32)
        TypeKernels& t = k.type[dt];
        t = TypeKernels{};
        t.to_f32 = tt->to_f32;
        t.linear_range = linear_range;
        t.quantize_row = activation ? tt->from_f32 : nullptr;
        t.linear_range_dq = linear_range;
        t.quantize_weights = tt->from_f32;
    }
    quant_kernels_scalar(k.type);
    cache_kernels_scalar(k.type);
    k.layernorm = layernorm;
    k.activation = activation;
    k.dot = dot;
    k.axpy = axpy;
    k.add = add;
    k.softmax = softmax;
    return k;
}
} // namespace

const Kernels* kernels_scalar() {
    static const Kernels table = make_table(); // thread-safe, on first use
    return &table;
}

} // namespace panopt
