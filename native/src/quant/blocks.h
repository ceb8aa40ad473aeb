// blocks.h — ggml's quantized block layouts, byte for byte (ggml-common.h). A tensor row is a
// sequence of these blocks; scales are IEEE binary16 stored little-endian (uint16_t here), except
// Q8_K's f32 scale. Sizes are pinned against PANOPT_DTYPE_LIST (one definition of each size).
//
// Value of element i of a block (q = its stored integer):
//   Q8_0  x = d * q                     q int8
//   Q4_0  x = d * (q - 8)               q 4 bits: qs[j] low nibble = element j, high = j + 16
//   Q4_1  x = d * q + m                 q 4 bits, same packing
//   Q5_0  x = d * (q - 16)              q 5 bits: nibble as Q4_0, bit 4 = bit i of qh (little-endian u32)
//   Q5_1  x = d * q + m                 q 5 bits, same packing
//   Q8_1  x = d * q, s = d * sum(q)     activations for Q4_1/Q5_1 products
//   Q4_K  256 = 8 sub-blocks of 32, each with a 6-bit scale and 6-bit min (packed in scales[12]):
//         x = d * sc * q - dmin * m     q 4 bits; qs: 4 groups of 32 bytes, low nibbles = sub-block
//         2g, high nibbles = sub-block 2g + 1
//   Q5_K  as Q4_K with a 5th bit per element in qh[32] (bit 2g / 2g+1 of qh[l] for element l)
//   Q6_K  256 = 16 sub-blocks of 16 with int8 scales: x = d * sc * (q - 32), q 6 bits (ql low 4
//         bits, qh high 2 bits)
//   Q8_K  x = d * q (d f32); bsums[j] = sum of q over elements 16j..16j+15; activations for K-quants
#ifndef PANOPT_QUANT_BLOCKS_H
#define PANOPT_QUANT_BLOCKS_H

#include <cstdint>

#include "../dtype.h"

namespace panopt {

constexpr int QK = 32;   // elements per block of the 32-element formats
constexpr int QK_K = 256; // elements per super-block of the K-quants
constexpr int K_SCALE_SIZE = 12;

struct block_q8_0 {
    uint16_t d;
    int8_t qs[QK];
};
struct block_q4_0 {
    uint16_t d;
    uint8_t qs[QK / 2];
};
struct block_q4_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qs[QK / 2];
};
struct block_q5_0 {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[QK / 2];
};
struct block_q5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[QK / 2];
};
struct block_q8_1 {
    uint16_t d;
    uint16_t s;
    int8_t qs[QK];
};
struct block_q4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qs[QK_K / 2];
};
struct block_q5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
};
struct block_q6_K {
    uint8_t ql[QK_K / 2];
    uint8_t qh[QK_K / 4];
    int8_t scales[QK_K / 16];
    uint16_t d;
};
struct block_q8_K {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];
};

// The C structs above and PANOPT_DTYPE_LIST must agree: blocks are read straight from weight memory.
#define PANOPT_PIN_BLOCK_(T, DT, ELEMS)                                                              \
    static_assert(sizeof(T) == kBlockBytes[PANOPT_DTYPE_##DT], #T " size != PANOPT_DTYPE_LIST"); \
    static_assert(kBlockElems[PANOPT_DTYPE_##DT] == (ELEMS), #T " elements != PANOPT_DTYPE_LIST"); \
    static_assert(alignof(T) <= 4, #T " must not need more than 4-byte alignment");
PANOPT_PIN_BLOCK_(block_q8_0, Q8_0, QK)
PANOPT_PIN_BLOCK_(block_q4_0, Q4_0, QK)
PANOPT_PIN_BLOCK_(block_q4_1, Q4_1, QK)
PANOPT_PIN_BLOCK_(block_q5_0, Q5_0, QK)
PANOPT_PIN_BLOCK_(block_q5_1, Q5_1, QK)
PANOPT_PIN_BLOCK_(block_q8_1, Q8_1, QK)
PANOPT_PIN_BLOCK_(block_q4_K, Q4_K, QK_K)
PANOPT_PIN_BLOCK_(block_q5_K, Q5_K, QK_K)
PANOPT_PIN_BLOCK_(block_q6_K, Q6_K, QK_K)
PANOPT_PIN_BLOCK_(block_q8_K, Q8_K, QK_K)
#undef PANOPT_PIN_BLOCK_

} // namespace panopt

#endif
