// rows8.cpp — the R8 layout (rows8.h): plain byte moves, run once per tensor at load.
#include "rows8.h"

#include <cstring>

#include "../dtype.h"

namespace panopt {
namespace quant {

bool has_rows8(int32_t dtype) { return dtype == PANOPT_DTYPE_Q4_0 || dtype == PANOPT_DTYPE_Q8_0; }

namespace {

// One block of 8 rows: 32 codes per row (Q4_0 unpacked from its nibbles) <-> the group block.
// Q4_0 in 32-bit words: row bytes qs[i] hold elements i (low nibble) and i + 16 (high), so output
// word c < 2 takes the low nibbles of qs[8c..8c+3] and (shifted up) of qs[8c+4..8c+7], and word
// c + 2 the high nibbles of the same bytes.
inline uint32_t load32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

void q4_0_pack(const block_q4_0* const rows[R8], block_q4_0x8* o) {
    constexpr uint32_t LO = 0x0F0F0F0Fu;
    for (int r = 0; r < R8; r++) {
        const block_q4_0* s = rows[r];
        o->d[r] = s->d;
        for (int c = 0; c < 2; c++) {
            const uint32_t a = load32(s->qs + 8 * c), b = load32(s->qs + 8 * c + 4);
            const uint32_t lo = (a & LO) | (b & LO) << 4, hi = (a >> 4 & LO) | (b & ~LO);
            std::memcpy(o->qs + 32 * c + 4 * r, &lo, 4);
            std::memcpy(o->qs + 32 * (c + 2) + 4 * r, &hi, 4);
        }
    }
}
void q4_0_unpack(const block_q4_0x8* s, block_q4_0* const rows[R8]) {
    for (int r = 0; r < R8; r++) {
        uint8_t q[QK];
        for (int c = 0; c < 4; c++)
            for (int j = 0; j < 4; j++) {
                q[8 * c + j] = s->qs[32 * c + 4 * r + j] & 0x0F;
                q[8 * c + 4 + j] = s->qs[32 * c + 4 * r + j] >> 4;
            }
        rows[r]->d = s->d[r];
        for (int i = 0; i < QK / 2; i++) rows[r]->qs[i] = (uint8_t)(q[i] | q[i + QK / 2] << 4);
    }
}
void q8_0_pack(const block_q8_0* const rows[R8], block_q8_0x8* o) {
    for (int r = 0; r < R8; r++) {
        o->d[r] = rows[r]->d;
        for (int c = 0; c < 8; c++) std::memcpy(o->qs + 32 * c + 4 * r, rows[r]->qs + 4 * c, 4);
    }
}
void q8_0_unpack(const block_q8_0x8* s, block_q8_0* const rows[R8]) {
    for (int r = 0; r < R8; r++) {
        rows[r]->d = s->d[r];
        for (int c = 0; c < 8; c++) std::memcpy(rows[r]->qs + 4 * c, s->qs + 32 * c + 4 * r, 4);
    }
}

// Walks groups [g0, g1): row-major block (row 8g + r, b) <-> group block (g, b).
template <class B, class BX, class F>
void each_block(const void* plain, const void* grouped, int64_t K, int64_t g0, int64_t g1, F f) {
    const int64_t nb = K / QK;
    B* p = static_cast<B*>(const_cast<void*>(plain));
    BX* x = static_cast<BX*>(const_cast<void*>(grouped));
    for (int64_t g = g0; g < g1; g++)
        for (int64_t b = 0; b < nb; b++) {
            B* rows[R8];
            for (int r = 0; r < R8; r++) rows[r] = p + (g * R8 + r) * nb + b;
            f(rows, x + g * nb + b);
        }
}

} // namespace

void repack_rows8(int32_t dtype, const void* src, void* dst, int64_t K, int64_t g0, int64_t g1) {
    if (dtype == PANOPT_DTYPE_Q4_0)
        each_block<block_q4_0, block_q4_0x8>(src, dst, K, g0, g1,
                                             [](block_q4_0* const* rows, block_q4_0x8* o) { q4_0_pack(rows, o); });
    else
        each_block<block_q8_0, block_q8_0x8>(src, dst, K, g0, g1,
                                             [](block_q8_0* const* rows, block_q8_0x8* o) { q8_0_pack(rows, o); });
}

void unpack_rows8(int32_t dtype, const void* src, void* dst, int64_t K, int64_t g0, int64_t g1) {
    if (dtype == PANOPT_DTYPE_Q4_0)
        each_block<block_q4_0, block_q4_0x8>(dst, src, K, g0, g1,
                                             [](block_q4_0* const* rows, block_q4_0x8* s) { q4_0_unpack(s, rows); });
    else
        each_block<block_q8_0, block_q8_0x8>(dst, src, K, g0, g1,
                                             [](block_q8_0* const* rows, block_q8_0x8* s) { q8_0_unpack(s, rows); });
}

void dequantize_row_rows8(int32_t dtype, const void* src, int64_t K, int64_t row, float* dst) {
    const int64_t nb = K / QK, g = row / R8;
    const int r = (int)(row % R8);
    const TypeTraits* tt = type_traits(dtype);
    for (int64_t b = 0; b < nb; b++) {
        block_q8_0 blk[R8]; // room for 8 blocks of either format
        if (dtype == PANOPT_DTYPE_Q4_0) {
            block_q4_0* rows[R8];
            for (int i = 0; i < R8; i++) rows[i] = reinterpret_cast<block_q4_0*>(blk) + i;
            q4_0_unpack(static_cast<const block_q4_0x8*>(src) + g * nb + b, rows);
            tt->to_f32(rows[r], dst + b * QK, QK);
        } else {
            block_q8_0* rows[R8];
            for (int i = 0; i < R8; i++) rows[i] = blk + i;
            q8_0_unpack(static_cast<const block_q8_0x8*>(src) + g * nb + b, rows);
            tt->to_f32(rows[r], dst + b * QK, QK);
        }
    }
}

} // namespace quant
} // namespace panopt
