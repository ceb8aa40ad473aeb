// quants.h — scalar reference conversions of ggml's block formats (layouts in blocks.h), the type
// table's from_f32 / to_f32 for them (dtype.cpp). quantize_* gives the bytes of ggml's
// quantize_row_*_ref and dequantize_* the floats of ggml's dequantize_row_* for the same input, bit
// for bit (ggml built for x86-64 without FMA contraction, as llama.cpp's release builds of
// ggml-quants.c are; proven against ggml's own code by java-api's QuantizerGgmlTest).
// n is the element count, a multiple of the block size; rows may start at any address.
// NaN and infinite inputs give ggml's bytes as well (ggml_math.h spells out its x86 conversions), with one
// limit that holds for ggml's own builds too: where two NaNs with different bits meet in one operation
// the result carries the first operand's, and which one is first is the compiler's choice, so NaNs with
// payload bits can end in other levels (Java's and C's default NaNs cannot: every one gives level 0).
//
// quants_ref.cpp: the 32-element formats; quants_k.cpp: the 256-element K-quants.
#ifndef PANOPT_QUANT_QUANTS_H
#define PANOPT_QUANT_QUANTS_H

#include <cstdint>

namespace panopt {
namespace quant {

void quantize_q8_0(const float* x, void* y, int64_t n);
void quantize_q4_0(const float* x, void* y, int64_t n);
void quantize_q4_1(const float* x, void* y, int64_t n);
void quantize_q5_0(const float* x, void* y, int64_t n);
void quantize_q5_1(const float* x, void* y, int64_t n);
void quantize_q8_1(const float* x, void* y, int64_t n);
void quantize_q4_K(const float* x, void* y, int64_t n);
void quantize_q5_K(const float* x, void* y, int64_t n);
void quantize_q6_K(const float* x, void* y, int64_t n);
void quantize_q8_K(const float* x, void* y, int64_t n);

void dequantize_q8_0(const void* x, float* y, int64_t n);
void dequantize_q4_0(const void* x, float* y, int64_t n);
void dequantize_q4_1(const void* x, float* y, int64_t n);
void dequantize_q5_0(const void* x, float* y, int64_t n);
void dequantize_q5_1(const void* x, float* y, int64_t n);
// ggml has no dequantize_row_q8_1 (Q8_1 only ever feeds dot products): x = d * q, as Q8_0.
void dequantize_q8_1(const void* x, float* y, int64_t n);
void dequantize_q4_K(const void* x, float* y, int64_t n);
void dequantize_q5_K(const void* x, float* y, int64_t n);
void dequantize_q6_K(const void* x, float* y, int64_t n);
void dequantize_q8_K(const void* x, float* y, int64_t n);

// The K-quants' codes of one super-block in element order (L: 256 levels) <-> their packed bytes,
// as the quantizers write them and the 8-row repack (rows8.cpp) reads and rewrites them.
// Q4_K / Q5_K: qs byte 32g + l holds element 64g + l (low nibble) and 64g + 32 + l (high); Q5_K's
// bit 4 of element 64g + 32h + l is bit 2g + h of qh[l]. qh == NULL for Q4_K.
void put_codes_k45(const uint8_t* L, uint8_t* qs, uint8_t* qh);
void get_codes_k45(const uint8_t* qs, const uint8_t* qh, uint8_t* L);
// Q6_K, per half h of 128: ql byte l (l < 64) holds the low nibbles of elements 128h + l and
// 128h + l + 64; qh byte l (l < 32) the high 2 bits of 128h + l + 32k in bits 2k, 2k + 1.
void put_codes_q6_K(const uint8_t* L, uint8_t* ql, uint8_t* qh);
void get_codes_q6_K(const uint8_t* ql, const uint8_t* qh, uint8_t* L);

// Q4_K/Q5_K scales[12] (ggml's get_scale_min_k4): the 6-bit scale and min of sub-block j < 8; and
// the inverse, writing j < 4 before j >= 4 (those add their top bits to bytes j - 4 and j).
void get_scale_min_k4(int j, const uint8_t* q, uint8_t& sc, uint8_t& m);
void put_scale_min_k4(int j, uint8_t* q, uint8_t sc, uint8_t m);

// The K-quants' per-sub-block searches, where their quantizers spend nearly all their time, 8
// sub-blocks per call. The reference runs ggml's make_qkx2_quants / make_qx_quants on one after
// the other; an ISA may supply searches with the same floats and levels bit for bit
// (quants_k_avx2.cpp: one sub-block per vector lane), and quantize_*_with(its searches) then gives
// the reference's bytes.
struct KSearch {
    // Q4_K / Q5_K: sub-block j < 8 is x[32j .. 32j + 31] with weights w[32j ..]: its levels
    // L[32j ..] in [0, nmax], scale[j] and neg_min[j] as make_qkx2_quants(32, nmax, ..., rmin, rdelta, nstep).
    void (*affine8)(const float* x, const float* w, int nmax, float rmin, float rdelta, int nstep, uint8_t* L,
                    float* scale, float* neg_min);
    // Q6_K: sub-block j < 8 is x[16j .. 16j + 15]: levels L[16j ..] in [0, 63] and scale[j] as
    // make_qx_quants(16, 32, ...) without importance weights.
    void (*symmetric8)(const float* x, int8_t* L, float* scale);
};
const KSearch& ksearch_reference();
void quantize_q4_K_with(const KSearch& search, const float* x, void* y, int64_t n);
void quantize_q5_K_with(const KSearch& search, const float* x, void* y, int64_t n);
void quantize_q6_K_with(const KSearch& search, const float* x, void* y, int64_t n);

} // namespace quant
} // namespace panopt

#endif
