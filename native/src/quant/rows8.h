// rows8.h — block formats repacked in groups of 8 weight rows ("R8"), the layout the CPU's decode
// kernels read Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K and Q6_K in (as ggml's CPU repack does for Q4_0). A tensor of N rows (N a
// multiple of 8) and K columns takes exactly the bytes of its row-major form; group g holds rows
// 8g..8g+7 as K/32 blocks, block b of the group being the 8 rows' blocks b side by side:
//
//   Q4_0  block_q4_0x8 { d[8]; qs[128] }  qs[32c + 4r + j] = q(r, 8c + j) | q(r, 8c + 4 + j) << 4
//   Q8_0  block_q8_0x8 { d[8]; qs[256] }  qs[32c + 4r + j] = q(r, 4c + j)
//   Q4_1  block_q4_1x8 { d[8]; m[8]; qs[128] }  qs as Q4_0's, m[r] row r's minimum
//   Q5_0  block_q5_0x8 { d[8]; qh[32]; qs[128] }  qs: the low 4 bits of the 5-bit codes as Q4_0's;
//         qh[4r + j] bit 2c = 5th bit of q(r, 8c + j), bit 2c + 1 = that of q(r, 8c + 4 + j) (c < 4)
//   Q5_1  block_q5_1x8 { d[8]; m[8]; qh[32]; qs[128] }  as Q5_0's, with Q4_1's minima
//   Q6_K  block_q6_Kx8 { d[8]; sub[16] { ql[64]; qh[32]; scales[8] } }, per super-block of 256,
//         sub-block u (elements 16u..16u+15) in one contiguous piece (read in order, so that the
//         hardware prefetcher sees a single stream; split into ql/qh/scales arrays it ran at 0.6x):
//         sub[u].scales[r] = row r's scale of sub-block u,
//         sub[u].ql[32h + 4r + j] = low 4 bits of q(r, 16u + 8h + j) | those of q(r, 16u + 8h + 4 + j) << 4,
//         sub[u].qh[4r + j] = sum over i < 4 of (q(r, 16u + 4i + j) >> 4) << 2i   (q the 6-bit code)
//   Q4_K  block_q4_Kx8 { d[8]; dmin[8]; sub[8] { qs[128]; lo[8]; hi[4] } }, per super-block of 256,
//         sub-block s (elements 32s..32s+31) contiguous: qs as Q4_0's (4 vectors, element 32s + 8v + j
//         low, + 4 high), lo[r] = low 4 bits of row r's scale | low 4 bits of its min << 4, and
//         hi[r / 2] nibble r % 2 = top 2 bits of the scale | top 2 bits of the min << 2 (6-bit both)
//   Q5_K  block_q5_Kx8: as Q4_K with sub[s].qh[4r + j] holding the 5th bits: bit 2c of element
//         32s + 8c + j, bit 2c + 1 of element 32s + 8c + 4 + j (c < 4; qs, lo, hi as Q4_K's)
//
// (r < 8 the row in the group, c the 32-byte chunk, j < 4; q(r, e) the stored code of element e
// of row r's block, d[r] its scale.) So one 32-byte load holds 4 consecutive elements of each of
// the 8 rows: a broadcast of the matching 4 activation bytes multiplies all 8 rows at once, and
// the 8 rows' sums end in the 8 lanes of one vector, with their 8 scales converted by one
// instruction. Why: the row-major kernel spends per block and row a scalar scale conversion, a
// broadcast and a horizontal sum; here those are shared by 8 rows (4.1x faster for
// Q4_0 on AVX2 with the matrix in cache, one thread).
#ifndef PANOPT_QUANT_ROWS8_H
#define PANOPT_QUANT_ROWS8_H

#include <cstdint>

#include "blocks.h"

namespace panopt {

constexpr int64_t R8 = 8; // rows per group

struct block_q4_0x8 {
    uint16_t d[R8];
    uint8_t qs[R8 * QK / 2];
};
struct block_q8_0x8 {
    uint16_t d[R8];
    int8_t qs[R8 * QK];
};
static_assert(sizeof(block_q4_0x8) == R8 * sizeof(block_q4_0), "Q4_0x8 takes the bytes of 8 Q4_0 blocks");
static_assert(sizeof(block_q8_0x8) == R8 * sizeof(block_q8_0), "Q8_0x8 takes the bytes of 8 Q8_0 blocks");
struct block_q4_1x8 {
    uint16_t d[R8];
    uint16_t m[R8];
    uint8_t qs[R8 * QK / 2];
};
struct block_q5_0x8 {
    uint16_t d[R8];
    uint8_t qh[R8 * 4];
    uint8_t qs[R8 * QK / 2];
};
struct block_q5_1x8 {
    uint16_t d[R8];
    uint16_t m[R8];
    uint8_t qh[R8 * 4];
    uint8_t qs[R8 * QK / 2];
};
static_assert(sizeof(block_q4_1x8) == R8 * sizeof(block_q4_1), "Q4_1x8 takes the bytes of 8 Q4_1 blocks");
static_assert(sizeof(block_q5_0x8) == R8 * sizeof(block_q5_0), "Q5_0x8 takes the bytes of 8 Q5_0 blocks");
static_assert(sizeof(block_q5_1x8) == R8 * sizeof(block_q5_1), "Q5_1x8 takes the bytes of 8 Q5_1 blocks");
struct block_q6_Kx8 {
    uint16_t d[R8];
    struct Sub {
        uint8_t ql[R8 * 8];
        uint8_t qh[R8 * 4];
        int8_t scales[R8];
    } sub[QK_K / 16];
};
static_assert(sizeof(block_q6_Kx8) == R8 * sizeof(block_q6_K), "Q6_Kx8 takes the bytes of 8 Q6_K blocks");
struct block_q4_Kx8 {
    uint16_t d[R8];
    uint16_t dmin[R8];
    struct Sub {
        uint8_t qs[R8 * 16];
        uint8_t lo[R8];
        uint8_t hi[R8 / 2];
    } sub[QK_K / 32];
};
static_assert(sizeof(block_q4_Kx8) == R8 * sizeof(block_q4_K), "Q4_Kx8 takes the bytes of 8 Q4_K blocks");
struct block_q5_Kx8 {
    uint16_t d[R8];
    uint16_t dmin[R8];
    struct Sub {
        uint8_t qs[R8 * 16];
        uint8_t qh[R8 * 4];
        uint8_t lo[R8];
        uint8_t hi[R8 / 2];
    } sub[QK_K / 32];
};
static_assert(sizeof(block_q5_Kx8) == R8 * sizeof(block_q5_K), "Q5_Kx8 takes the bytes of 8 Q5_K blocks");

namespace quant {

// Whether dtype has an R8 layout (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K).
bool has_rows8(int32_t dtype);
// Groups [g0, g1) of a row-major tensor of K columns (src) to the R8 layout (dst); src and dst
// are whole tensors and do not overlap.
void repack_rows8(int32_t dtype, const void* src, void* dst, int64_t K, int64_t g0, int64_t g1);
// The inverse, for tests: groups [g0, g1) of dst back in row-major order.
void unpack_rows8(int32_t dtype, const void* src, void* dst, int64_t K, int64_t g0, int64_t g1);
// Row `row` of a tensor in the R8 layout as f32: the reference dequantizer's values (a token
// embedding kept in groups for the tied LM head).
void dequantize_row_rows8(int32_t dtype, const void* src, int64_t K, int64_t row, float* dst);

} // namespace quant
} // namespace panopt

#endif
