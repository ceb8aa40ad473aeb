// kernels.h — the per-ISA kernel table.
//
// Each ISA (scalar, AVX2, AVX-512, NEON) lives in its own translation unit compiled with its own
// -m flags and fills one Kernels table of plain function pointers. This header deliberately
// contains NO inline functions and no templates: an inline function compiled in an AVX-512
// file could be picked by the linker for use in generic code (ODR), and crash on older CPUs.
// The kernels are single-threaded and work on ranges; threading is done by the ops (ops_*.cpp).
//
// Weight types: an ISA fills `type[dtype]` for the types it has fast code for and leaves the
// rest NULL; kernels_for_isa() fills every NULL entry from the next lower ISA's completed table
// (AVX-512 from AVX2, AVX2 from scalar, NEON from scalar), whose entries are built from the type-traits table
// (dtype.h). Adding a type = a type-traits row + its kernels.
#ifndef PANOPT_CPU_KERNELS_H
#define PANOPT_CPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "../../include/panopt.h"

namespace panopt {

// Y[M, N] = X[M, K] * W[N, K]^T (+ bias[N]). X/Y f32 with row strides; W dense row-major in a
// PANOPT_DTYPE_*, rows of row_bytes(wdtype, K) bytes, any alignment beyond the element size.
// bias NULL or [N] of a one-element-block float type (bdtype).
// For a weight type whose vec_dot_type (dtype.h) is not F32 (ggml's block formats), the kernels read
// X already quantized: xq = M rows of ldxq bytes, each row X[m] in the vec_dot_type (Q8_0/Q8_1/Q8_K),
// and x is not read. The product is then the integer dot product per block times the two scales.
struct LinearArgs {
    const float* x;
    int64_t ldx;
    const void* xq;
    int64_t ldxq;
    const void* w;
    int32_t wdtype;
    const void* bias;
    int32_t bdtype;
    float* y;
    int64_t ldy;
    int64_t M, N, K;
    // With Q8_0 activations in xq, for the 8-row group kernels (NULL elsewhere): block b of row m
    // of X has the scale xscale[b ldxs + m] (its f16 d as f32) and the code sum xsum[b ldxs + m]
    // (of its 32 int8), made once per product (ops_linear) where every thread's every slice of N
    // would otherwise make them again (up to 12% of an opt-125m fc2 prompt pass).
    const float* xscale = nullptr;
    const int32_t* xsum = nullptr;
    int64_t ldxs = 0;
};

// What an ISA provides for one weight type.
struct TypeKernels {
    // dst[i] = f32(row[i]) for i < n (n a multiple of the type's block).
    void (*to_f32)(const void* src, float* dst, int64_t n);
    // Computes Y[m0:m1, n0:n1] completely (all of K), bias included, for W of this type.
    void (*linear_range)(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch);
    // For the activation types (Q8_0, Q8_1, Q8_K): quantizes n f32 (a multiple of the block) to
    // this type; NULL elsewhere. The scalar table uses the type's reference from_f32. F16 (AVX2 up,
    // the KV cache's store) and BF16 (with bf16 products): the reference's bits for every input.
    void (*quantize_row)(const float* x, void* y, int64_t n);
    // Attention over a KV cache stored in this type (every type; fast for F32, F16, Q8_0): rows
    // are n consecutive cached positions of K elements (row_bytes(dt, K) bytes each), shared by nq
    // queries (a prompt's positions). For query i < nq, q_i = q + i ldq:
    // out[i ldo + j] = q_i . row_j for j < n; each value the same whatever nq is.
    void (*dot_rows)(const float* q, int64_t ldq, int64_t nq, const void* rows, int64_t n, int64_t K, float* out,
                     int64_t ldo);
    // For i < nq: out_i[0:K] += p_i[j] row_j for j < n (p_i = p + i ldp, out_i = out + i ldo),
    // skipping p_i[j] == 0 (masked keys); each value the same whatever nq is.
    void (*axpy_rows)(const float* p, int64_t ldp, int64_t nq, const void* rows, int64_t n, int64_t K, float* out,
                      int64_t ldo);
    // The quantized formats in passes of kDequantMinPositions or more: as linear_range, but from the f32 rows X
    // (LinearArgs::xq unused) times the dequantized weights, i.e. f32 compute on the f32 values
    // the blocks stand for; the scalar table's reference is its generic linear_range.
    void (*linear_range_dq)(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch);
    // Weights in 8-row groups (quant/rows8.h; every block format: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K), which the backend repacks a weight into
    // at load only where the table has both of these: as linear_range (X quantized in xq) and
    // linear_range_dq (f32 X) for W in that layout, with n0 and n1 multiples of 8. NULL elsewhere.
    void (*linear_range_r8)(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch);
    void (*linear_range_dq_r8)(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch);
    // As linear_range (W row-major, X quantized in xq) through linear_range_r8's kernel, W repacked
    // tile by tile into scratch, n0 and n1 multiples of 8: the int8 prompt passes of the formats
    // that take them (prompt_dequantized) with weights kept in row order. NULL elsewhere.
    void (*linear_range_via_r8)(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch);
    // n f32 (a multiple of the block) to this type with the bytes of its reference conversion
    // type_traits(dt)->from_f32 (for ggml's formats ggml's quantize_row_*_ref), which is the scalar
    // table's entry for every type; an ISA's may only be faster (panopt_quantize uses the best).
    void (*quantize_weights)(const float* x, void* y, int64_t n);
    // The float weight types (F32, F16, BF16) in prompt passes of a session whose compute type is
    // BF16: as linear_range, but with X in bf16 (LinearArgs::xq, ldxq bytes a row, rows padded with
    // a zero to an even length; the BF16 type's quantize_row converts) and W rounded to bf16 too,
    // the products summed in f32. Only tables with bf16 products have it (AVX512_VNNI on a CPU with
    // AVX512_BF16); elsewhere NULL and such passes compute in f32. linear_range_bf16_ref is the
    // reference the tests hold it to.
    void (*linear_range_bf16)(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch);
    // Q8_0 only (the activations of the 8-row group kernels): quantize_row's bytes, and each block b's
    // scale as f32 (the stored f16's value) in scale[b ld] and the sum of its codes in sum[b ld]
    // (LinearArgs::xscale / xsum). The scalar table's is quantize_row and a pass over the blocks; the
    // AVX2 one keeps the sums its quantizer adds anyway (a 3072-float row, Zen 4: 2.0 -> 1.6 us,
    // and the forward's separate pass with software f16 conversions had measured 2.9 us).
    void (*quantize_row_sums)(const float* x, void* y, int64_t n, float* scale, int32_t* sum, int64_t ld);
    // As linear_range_r8, for the int8 passes over kDequantMinPositions or more positions per row (prompts):
    // AMX tiles (tiles_r8.inc; every block format), the results linear_range_r8's bit for bit. NULL elsewhere.
    void (*linear_range_tiles_r8)(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch);
};

// Products with ggml block-format weights in a decode step (one position per row) take the int8
// path: activations quantized to the format's vec_dot_type, integer dot products, each weight
// streamed once. In a pass over two or more positions per row (a prompt, a scored text) most
// formats compute in f32 on the dequantized weights instead (linear_range_dq): a panel of weights
// is dequantized once and reused across all rows by the f32 GEMM. Without VNNI/AMX an int8 product
// with 8-bit codes (vpmaddubsw + vpmaddwd) costs as much of the one multiply port as an f32 FMA
// plus per-block scaling, so dequantizing is faster for prompts (AVX2, opt-125m shape: 1.3x at 32
// rows, 1.6x at 128) and keeps the prompt's activations in f32. Q4_0 and Q4_K are the exception:
// their 4-bit codes let the 8-row group kernels add four to eight vpmaddubsw results in int16 before
// one vpmaddwd, which outruns the f32 FMA peak (one Zen 2 thread, 3072x768 by 8 rows: Q4_0 61 GMAC/s
// against 48 for FMA at peak), so their prompts take the int8 path too (a 512-token forward of the
// opt-125m shape: Q4_0 1.25-1.3x, Q4_K 1.2x faster; Q8_0, Q5_K, Q6_K: dequantized as fast or faster).
// With VNNI (vpdpbusd: 32 byte products summed into 8 int32 by one instruction, where an FMA does 8
// products) the prompts of every block format take the int8 path (Zen 4, a 512-token opt-125m
// forward: Q4_1 653 -> 349 ms, Q5_0 687 -> 444, Q5_1 1035 -> 445; the fc1-shape product over 512
// rows: Q5_K 15.4 -> 11.1 ms, Q6_K 19.2 -> 13.7).
// The choice is per format and per machine (its best ISA), never per kernel table, so that on one
// machine every table, the scalar reference included, computes the same products and a row's
// results depend on the table only through f32 rounding; and per pass by positions per row, never
// by batch size, so they do not depend on what a row is batched with.
constexpr int64_t kDequantMinPositions = 2;
bool prompt_dequantized(int32_t dt); // dispatch.cpp

// A float weight type's entry in an ISA's own table: its conversion and product, nothing else (the
// table's completion fills the rest from the ISA below, kernels_for_isa).
inline TypeKernels float_type(void (*to_f32)(const void*, float*, int64_t),
                              void (*linear_range)(const LinearArgs*, int64_t, int64_t, int64_t, int64_t, float*)) {
    TypeKernels t{};
    t.to_f32 = to_f32;
    t.linear_range = linear_range;
    return t;
}

struct Kernels {
    int32_t isa;
    const char* name;
    // Work on N is split in multiples of this (the packed panel width of the GEMM).
    int64_t n_align;
    // Per-thread scratch (floats, 64-byte aligned) linear_range needs for a given K.
    int64_t (*linear_scratch_floats)(int64_t K);
    TypeKernels type[PANOPT_DTYPE_COUNT];
    // y = LN(x) * w + b over n features (biased variance); w/b may be NULL (no affine); w/b of a
    // one-element-block float type.
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

// Quantized products (quant_dot_*.cpp): fill `type[dt].linear_range` for ggml's weight formats.
void quant_kernels_scalar(TypeKernels* type); // the reference: every format, plain loops
void quant_kernels_avx2(TypeKernels* type);   // defined in quant_dot_avx2.cpp (AVX2 flags)
void quant_act_avx2(TypeKernels* type);       // quantize_row of Q8_0/Q8_1/Q8_K, quant_act_avx2.cpp
void quant_search_avx2(TypeKernels* type);    // quantize_weights of Q4_K/Q5_K/Q6_K, quant_search_avx2.cpp
// A block format's row dequantizer for the prompt GEMM's panels: AVX2 for the 32-element formats
// (quant_dot_avx2.cpp; FMA contraction aside, the reference's values), the reference elsewhere.
using DequantFn = void (*)(const void* src, float* dst, int64_t n);
DequantFn dequant_avx2(int32_t dt);
// 8-row groups (quant_rows8_avx2.cpp): linear_range_r8 of every block format, and the prompt GEMM's panel
// dequantizer: one group block as P[e * ldp + r] = value of element e of row r (e < 32, r < 8).
void quant_rows8_avx2(TypeKernels* type);
void quant_rows8_vnni(TypeKernels* type); // the same with vpdpbusd, quant_rows8_vnni.cpp
using Dequant8Fn = void (*)(const void* group_block, float* P, int64_t ldp);
Dequant8Fn dequant8_avx2(int32_t dt); // NULL for a type without the layout
int64_t rows8_scratch_floats(int64_t K); // what linear_range_r8 / _via_r8 need of the scratch
// linear_range_r8 over more rows than one 16-row chunk (a prompt) takes the weights in spans of about
// this many bytes (rounded up to whole tiles of 2 or 3 groups), each kept in the core's L2 while every
// chunk passes over it
constexpr int64_t kRows8SpanBytes = 512 * 1024;
// bf16 products (kernels_avx512.cpp, bf16 target per function): linear_range_bf16 of F32/F16/BF16
// and the BF16 type's quantize_row (f32 -> bf16, nearest even); set where cpu_has_bf16().
void bf16_products_avx512(TypeKernels* type);
bool cpu_has_bf16(); // dispatch.cpp: AVX512_BF16 on a CPU of the AVX512_VNNI level
// The reference (kernels_scalar.cpp): each product bf16(x) bf16(w) in f32, summed in k order.
void linear_range_bf16_ref(const LinearArgs* a, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float* scratch);
// Cache rows (dot_rows/axpy_rows): the scalar reference for every type; AVX2 for F32, F16, Q8_0;
// AVX-512 for F32, F16 (more queries per pass).
void cache_kernels_scalar(TypeKernels* type);
void cache_kernels_avx2(TypeKernels* type);   // cache_rows_avx2.cpp
void cache_kernels_avx512(TypeKernels* type); // cache_rows_avx512.cpp

// The ISA tables as their files define them (type entries possibly NULL); use kernels_for_isa().
const Kernels* kernels_scalar();
const Kernels* kernels_avx2();   // defined in kernels_avx2.cpp (compiled with AVX2 flags)
const Kernels* kernels_avx512(); // defined in kernels_avx512.cpp
// kernels_avx512()'s table with the VNNI int8 products (quant_rows8_vnni.cpp, VNNI flags)
const Kernels* kernels_avx512_vnni();
// kernels_avx512_vnni()'s table with the prompt products on AMX tiles (quant_tiles_amx.cpp, AMX flags)
const Kernels* kernels_amx();
// AArch64: the NEON table (kernels_neon.cpp; defined only in aarch64 builds), with the block formats'
// sdot products (quant_dot_neon.cpp, dot-product flags) where cpu_has_dotprod()
const Kernels* kernels_neon();
void quant_dot_neon(TypeKernels* type);
bool cpu_has_dotprod(); // dispatch.cpp: the AArch64 dot-product extension (false elsewhere)

// Scalar activation, shared by the vector tables for the transcendental activations.
void activation_scalar(int32_t act, float* x, int64_t n);

// dispatch.cpp
// Highest ISA this CPU supports: cpu_vector_isa() (AVX-512 VNNI at most, NEON on AArch64: no side effect), or AMX where
// the CPU has it and Linux grants this process the tile state, which cpu_best_isa() asks for once
// (process-wide; Linux then refuses sigaltstack() stacks too small for the larger signal frame).
int32_t cpu_vector_isa();
int32_t cpu_best_isa();
const Kernels* kernels_for_isa(int32_t isa); // complete table; NULL if unsupported; AUTO = best
// Whether this CPU runs isa (SCALAR always; the x86 levels up to the best one on x86; NEON on AArch64).
// The levels are not one order across architectures: compare them only through this.
bool isa_supported(int32_t isa);
// The x86 levels with VNNI's int8 products (AVX512_VNNI, AMX); false for NEON.
bool isa_has_vnni(int32_t isa);

} // namespace panopt

#endif
