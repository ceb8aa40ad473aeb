// rows8.cpp — the R8 layout (rows8.h): plain byte moves, run once per tensor at load.
#include "rows8.h"

#include <cstring>

#include "../dtype.h"
#include "quants.h"

namespace panopt {
namespace quant {

bool has_rows8(int32_t dtype) {
    return dtype == PANOPT_DTYPE_Q4_0 || dtype == PANOPT_DTYPE_Q8_0 || dtype == PANOPT_DTYPE_Q4_K ||
           dtype == PANOPT_DTYPE_Q6_K;
}

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

// Q6_K: the 256 6-bit codes of a super-block in element order <-> ggml's ql/qh (dequantize_row_q6_K:
// element 128h + l + 32k, l < 32, k < 4, takes nibble k >> 1 of ql[64h + l + 32 (k & 1)] and bits
// 2k, 2k + 1 of qh[32h + l]).
void q6_K_codes(const block_q6_K* s, uint8_t q[QK_K]) {
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++)
            for (int k = 0; k < 4; k++) {
                const uint8_t lo = s->ql[64 * h + l + 32 * (k & 1)];
                q[128 * h + l + 32 * k] = (uint8_t)(((k >> 1) ? lo >> 4 : lo & 0x0F) | ((s->qh[32 * h + l] >> (2 * k)) & 3) << 4);
            }
}
void q6_K_from_codes(const uint8_t q[QK_K], block_q6_K* o) {
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            const uint8_t* e = q + 128 * h + l;
            o->ql[64 * h + l] = (uint8_t)((e[0] & 0x0F) | (e[64] & 0x0F) << 4);
            o->ql[64 * h + l + 32] = (uint8_t)((e[32] & 0x0F) | (e[96] & 0x0F) << 4);
            o->qh[32 * h + l] = (uint8_t)((e[0] >> 4) | (e[32] >> 4) << 2 | (e[64] >> 4) << 4 | (e[96] >> 4) << 6);
        }
}
void q6_K_pack(const block_q6_K* const rows[R8], block_q6_Kx8* o) {
    for (int r = 0; r < R8; r++) {
        uint8_t q[QK_K];
        q6_K_codes(rows[r], q);
        o->d[r] = rows[r]->d;
        for (int u = 0; u < QK_K / 16; u++) {
            block_q6_Kx8::Sub& sb = o->sub[u];
            sb.scales[r] = rows[r]->scales[u];
            for (int h = 0; h < 2; h++)
                for (int j = 0; j < 4; j++) {
                    const uint8_t* e = q + 16 * u + 8 * h + j;
                    sb.ql[32 * h + 4 * r + j] = (uint8_t)((e[0] & 0x0F) | (e[4] & 0x0F) << 4);
                }
            for (int j = 0; j < 4; j++) {
                uint8_t hb = 0;
                for (int i = 0; i < 4; i++) hb |= (uint8_t)((q[16 * u + 4 * i + j] >> 4) << (2 * i));
                sb.qh[4 * r + j] = hb;
            }
        }
    }
}
void q6_K_unpack(const block_q6_Kx8* s, block_q6_K* const rows[R8]) {
    for (int r = 0; r < R8; r++) {
        uint8_t q[QK_K];
        for (int u = 0; u < QK_K / 16; u++) {
            const block_q6_Kx8::Sub& sb = s->sub[u];
            for (int h = 0; h < 2; h++)
                for (int j = 0; j < 4; j++) {
                    const uint8_t b = sb.ql[32 * h + 4 * r + j];
                    q[16 * u + 8 * h + j] = b & 0x0F;
                    q[16 * u + 8 * h + 4 + j] = b >> 4;
                }
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 4; i++)
                    q[16 * u + 4 * i + j] |= (uint8_t)(((sb.qh[4 * r + j] >> (2 * i)) & 3) << 4);
            rows[r]->scales[u] = sb.scales[r];
        }
        q6_K_from_codes(q, rows[r]);
        rows[r]->d = s->d[r];
    }
}

// Q4_K: codes in element order (qs byte 32g + l: element 64g + l low, 64g + 32 + l high); the 6-bit
// scales and mins through ggml's packing (quants.h).
void q4_K_pack(const block_q4_K* const rows[R8], block_q4_Kx8* o) {
    for (int r = 0; r < R8; r++) {
        const block_q4_K* s = rows[r];
        uint8_t q[QK_K];
        for (int g = 0; g < 4; g++)
            for (int l = 0; l < 32; l++) {
                q[64 * g + l] = s->qs[32 * g + l] & 0x0F;
                q[64 * g + 32 + l] = s->qs[32 * g + l] >> 4;
            }
        o->d[r] = s->d;
        o->dmin[r] = s->dmin;
        for (int sb = 0; sb < QK_K / 32; sb++) {
            block_q4_Kx8::Sub& u = o->sub[sb];
            for (int v = 0; v < 4; v++)
                for (int j = 0; j < 4; j++)
                    u.qs[32 * v + 4 * r + j] = (uint8_t)(q[32 * sb + 8 * v + j] | q[32 * sb + 8 * v + 4 + j] << 4);
            uint8_t sc, m;
            get_scale_min_k4(sb, s->scales, sc, m);
            u.lo[r] = (uint8_t)((sc & 0x0F) | (m & 0x0F) << 4);
            const uint8_t h = (uint8_t)((sc >> 4) | (m >> 4) << 2);
            if (r % 2 == 0) u.hi[r / 2] = h; // rows go in order: the even row's nibble first
            else u.hi[r / 2] |= (uint8_t)(h << 4);
        }
    }
}
void q4_K_unpack(const block_q4_Kx8* s, block_q4_K* const rows[R8]) {
    for (int r = 0; r < R8; r++) {
        block_q4_K* o = rows[r];
        uint8_t q[QK_K];
        std::memset(o->scales, 0, sizeof o->scales);
        uint8_t sc[QK_K / 32], m[QK_K / 32];
        for (int sb = 0; sb < QK_K / 32; sb++) {
            const block_q4_Kx8::Sub& u = s->sub[sb];
            for (int v = 0; v < 4; v++)
                for (int j = 0; j < 4; j++) {
                    const uint8_t b = u.qs[32 * v + 4 * r + j];
                    q[32 * sb + 8 * v + j] = b & 0x0F;
                    q[32 * sb + 8 * v + 4 + j] = b >> 4;
                }
            const uint8_t h = (uint8_t)(u.hi[r / 2] >> (4 * (r % 2)) & 0x0F);
            sc[sb] = (uint8_t)((u.lo[r] & 0x0F) | (h & 3) << 4);
            m[sb] = (uint8_t)((u.lo[r] >> 4) | (h >> 2) << 4);
        }
        for (int sb = 0; sb < QK_K / 32; sb++) put_scale_min_k4(sb, o->scales, sc[sb], m[sb]); // j < 4 first
        for (int g = 0; g < 4; g++)
            for (int l = 0; l < 32; l++) o->qs[32 * g + l] = (uint8_t)(q[64 * g + l] | q[64 * g + 32 + l] << 4);
        o->d = s->d[r];
        o->dmin = s->dmin[r];
    }
}

// Walks groups [g0, g1): row-major block (row 8g + r, b) <-> group block (g, b).
template <class B, class BX, int QB, class F>
void each_block(const void* plain, const void* grouped, int64_t K, int64_t g0, int64_t g1, F f) {
    const int64_t nb = K / QB;
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
    if (dtype == PANOPT_DTYPE_Q6_K)
        each_block<block_q6_K, block_q6_Kx8, QK_K>(src, dst, K, g0, g1,
                                             [](block_q6_K* const* rows, block_q6_Kx8* o) { q6_K_pack(rows, o); });
    else if (dtype == PANOPT_DTYPE_Q4_K)
        each_block<block_q4_K, block_q4_Kx8, QK_K>(src, dst, K, g0, g1,
                                             [](block_q4_K* const* rows, block_q4_Kx8* o) { q4_K_pack(rows, o); });
    else if (dtype == PANOPT_DTYPE_Q4_0)
        each_block<block_q4_0, block_q4_0x8, QK>(src, dst, K, g0, g1,
                                             [](block_q4_0* const* rows, block_q4_0x8* o) { q4_0_pack(rows, o); });
    else
        each_block<block_q8_0, block_q8_0x8, QK>(src, dst, K, g0, g1,
                                             [](block_q8_0* const* rows, block_q8_0x8* o) { q8_0_pack(rows, o); });
}

void unpack_rows8(int32_t dtype, const void* src, void* dst, int64_t K, int64_t g0, int64_t g1) {
    if (dtype == PANOPT_DTYPE_Q6_K)
        each_block<block_q6_K, block_q6_Kx8, QK_K>(dst, src, K, g0, g1,
                                             [](block_q6_K* const* rows, block_q6_Kx8* s) { q6_K_unpack(s, rows); });
    else if (dtype == PANOPT_DTYPE_Q4_K)
        each_block<block_q4_K, block_q4_Kx8, QK_K>(dst, src, K, g0, g1,
                                             [](block_q4_K* const* rows, block_q4_Kx8* s) { q4_K_unpack(s, rows); });
    else if (dtype == PANOPT_DTYPE_Q4_0)
        each_block<block_q4_0, block_q4_0x8, QK>(dst, src, K, g0, g1,
                                             [](block_q4_0* const* rows, block_q4_0x8* s) { q4_0_unpack(s, rows); });
    else
        each_block<block_q8_0, block_q8_0x8, QK>(dst, src, K, g0, g1,
                                             [](block_q8_0* const* rows, block_q8_0x8* s) { q8_0_unpack(s, rows); });
}

void dequantize_row_rows8(int32_t dtype, const void* src, int64_t K, int64_t row, float* dst) {
    const int64_t g = row / R8;
    const int r = (int)(row % R8);
    const TypeTraits* tt = type_traits(dtype);
    if (dtype == PANOPT_DTYPE_Q6_K || dtype == PANOPT_DTYPE_Q4_K) {
        const int64_t nb = K / QK_K;
        for (int64_t b = 0; b < nb; b++) {
            block_q6_K blk[R8]; // room for 8 blocks of either format
            if (dtype == PANOPT_DTYPE_Q6_K) {
                block_q6_K* rows[R8];
                for (int i = 0; i < R8; i++) rows[i] = blk + i;
                q6_K_unpack(static_cast<const block_q6_Kx8*>(src) + g * nb + b, rows);
                tt->to_f32(rows[r], dst + b * QK_K, QK_K);
            } else {
                block_q4_K* rows[R8];
                for (int i = 0; i < R8; i++) rows[i] = reinterpret_cast<block_q4_K*>(blk) + i;
                q4_K_unpack(static_cast<const block_q4_Kx8*>(src) + g * nb + b, rows);
                tt->to_f32(rows[r], dst + b * QK_K, QK_K);
            }
        }
        return;
    }
    const int64_t nb = K / QK;
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
