// kernels.h — the per-ISA kernel table.
//
// Each ISA (scalar, AVX2, AVX-512) lives in its own translation unit compiled with its own
// -m flags and fills one Kernels table of plain function pointers. This header deliberately
// contains NO inline functions and no templates: an inline function compiled in an AVX-512
// file could be picked by the linker for use in generic code (ODR), and crash on older CPUs.
// The kernels are single-threaded and work on ranges; threading is done by generic code.
#ifndef PANOPT_CPU_KERNELS_H
#define PANOPT_CPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>

namespace panopt {

enum { DT_F32 = 0, DT_F16 = 1, DT_BF16 = 2 };
enum { ISA_AUTO = 0, ISA_SCALAR = 1, ISA_AVX2 = 2, ISA_AVX512 = 3 };

// Y[M, N] = X[M, K] * W[N, K]^T (+ bias[N]). X/Y f32 with row strides; W dense row-major in
// f32/f16/bf16, any alignment beyond the element size. bias NULL or [N] of bdtype.
struct LinearArgs {
    const float* x;
    int64_t ldx;
    const void* w;
    int32_t wdtype;
    const void* bias;
    int32_t bdtype;
    float* y;
    int64_t ldy;
    int64_t M, N, K;
};

struct Kernels {
    int32_t isa;
    const char* name;
    // Work on N is split in multiples of this (the packed panel width of the GEMM).
    int64_t n_align;
    // Per-thread scratch (floats, 64-byte aligned) linear_range needs for a given K.
    int64_t (*linear_scratch_floats)(int64_t K);
    // Computes Y[m0:m1, n0:n1] completely (all of K), bias included.
    void (*linear_range)(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch);
    // dst[i] = f32(src[i]) for i < n.
    void (*to_f32)(int32_t dtype, const void* src, float* dst, int64_t n);
    // y = LN(x) * w + b over n features (biased variance); w/b may be NULL (no affine).
    void (*layernorm)(const float* x, float* y, int64_t n, const void* w, int32_t wdtype, const void* b,
                      int32_t bdtype, float eps);
    // x = act(x) in place, act = PANOPT_ACT_*.
    void (*activation)(int32_t act, float* x, int64_t n);
    float (*dot)(const float* a, const float* b, int64_t n);
    // y += a * x
    void (*axpy)(float a, const float* x, float* y, int64_t n);
    // y += x
    void (*add)(float* y, const float* x, int64_t n);
    // x = softmax(x) in place; entries may be -INFINITY (-> 0) but not all of them.
    void (*softmax)(float* x, int64_t n);
};

const Kernels* kernels_scalar();
const Kernels* kernels_avx2();   // defined in kernels_avx2.cpp (compiled with AVX2 flags)
const Kernels* kernels_avx512(); // defined in kernels_avx512.cpp

// Scalar activation, shared by the vector tables for the transcendental activations.
void activation_scalar(int32_t act, float* x, int64_t n);
// Scalar half -> float (exact, subnormals/inf/nan included).
float f16_to_f32(uint16_t h);

// dispatch.cpp
int32_t cpu_best_isa();                  // highest ISA this CPU supports
const Kernels* kernels_for_isa(int32_t isa); // NULL if unsupported; AUTO = best

} // namespace panopt

#endif
