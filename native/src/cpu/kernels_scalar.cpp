// kernels_scalar.cpp — portable reference kernels. Straightforward loops; these define what the
// vector kernels are tested against, so clarity beats speed here.
#include "kernels.h"

#include <math.h>
#include <string.h>

#include "../../include/panopt.h"

namespace panopt {

float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        // zero or subnormal: mant * 2^-24 is exact in f32
        float f = (float)mant * 5.9604644775390625e-8f;
        return sign ? -f : f;
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

namespace {

inline float bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

inline float load_elem(const void* p, int32_t dt, int64_t i) {
    switch (dt) {
    case DT_F16: {
        uint16_t h;
        memcpy(&h, (const char*)p + 2 * i, 2);
        return f16_to_f32(h);
    }
    case DT_BF16: {
        uint16_t h;
        memcpy(&h, (const char*)p + 2 * i, 2);
        return bf16_to_f32(h);
    }
    default: {
        float f;
        memcpy(&f, (const char*)p + 4 * i, 4);
        return f;
    }
    }
}

void to_f32(int32_t dt, const void* src, float* dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) dst[i] = load_elem(src, dt, i);
}

int64_t linear_scratch_floats(int64_t K) { return K + 16; }

// One W row is converted to f32 once (into scratch), then dotted with every X row.
void linear_range(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch) {
    const int64_t K = a->K;
    for (int64_t n = n0; n < n1; n++) {
        to_f32(a->wdtype, (const char*)a->w + (n * K) * (a->wdtype == DT_F32 ? 4 : 2), scratch, K);
        float b = a->bias ? load_elem(a->bias, a->bdtype, n) : 0.0f;
        for (int64_t m = m0; m < m1; m++) {
            const float* x = a->x + m * a->ldx;
            float acc = 0.0f;
            for (int64_t k = 0; k < K; k++) acc += x[k] * scratch[k];
            a->y[m * a->ldy + n] = acc + b;
        }
    }
}

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

double gelu_erf(double x) { return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440)); }

} // namespace

// Formulas as in torch / HF activations.py (computed in double, rounded once).
void activation_scalar(int32_t act, float* xs, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double x = xs[i], r;
        switch (act) {
        case PANOPT_ACT_RELU: r = x > 0 ? x : 0; break;
        case PANOPT_ACT_GELU: r = gelu_erf(x); break;
        case PANOPT_ACT_GELU_TANH:
            r = 0.5 * x * (1.0 + tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
            break;
        case PANOPT_ACT_QUICK_GELU: r = x / (1.0 + exp(-1.702 * x)); break;
        case PANOPT_ACT_SILU: r = x / (1.0 + exp(-x)); break;
        case PANOPT_ACT_RELU2: r = x > 0 ? x * x : 0; break;
        case PANOPT_ACT_RELU6: r = x < 0 ? 0 : (x > 6 ? 6 : x); break;
        case PANOPT_ACT_SIGMOID: r = 1.0 / (1.0 + exp(-x)); break;
        case PANOPT_ACT_TANH: r = tanh(x); break;
        case PANOPT_ACT_LEAKY_RELU: r = x >= 0 ? x : 0.01 * x; break;
        case PANOPT_ACT_MISH: {
            double sp = x > 20 ? x : log1p(exp(x)); // torch softplus, threshold 20
            r = x * tanh(sp);
            break;
        }
        case PANOPT_ACT_GELU_10: {
            r = gelu_erf(x);
            r = r < -10 ? -10 : (r > 10 ? 10 : r);
            break;
        }
        case PANOPT_ACT_LAPLACE:
            r = 0.5 * (1.0 + erf((x - 0.707107) / (0.282095 * 1.41421356237309504880)));
            break;
        default: r = x; break; // PANOPT_ACT_LINEAR
        }
        xs[i] = (float)r;
    }
}

namespace {
void activation(int32_t act, float* x, int64_t n) { activation_scalar(act, x, n); }

const Kernels kTable = {
    ISA_SCALAR, "scalar", 1, linear_scratch_floats, linear_range, to_f32, layernorm,
    activation,   dot,      axpy, add,              softmax,
};
} // namespace

const Kernels* kernels_scalar() { return &kTable; }

} // namespace panopt
