// rows8.cpp — the R8 layout (rows8.h): plain byte moves, run once per tensor at load.
#include "rows8.h"

#include <cstring>
#include <type_traits>

#include "../dtype.h"
#include "quants.h"

namespace panopt {
namespace quant {

bool has_rows8(int32_t dtype) {
    return dtype == PANOPT_DTYPE_Q4_0 || dtype == PANOPT_DTYPE_Q4_1 || dtype == PANOPT_DTYPE_Q5_0 ||
           dtype == PANOPT_DTYPE_Q5_1 || dtype == PANOPT_DTYPE_Q8_0 || dtype == PANOPT_DTYPE_Q4_K ||
           dtype == PANOPT_DTYPE_Q5_K || dtype == PANOPT_DTYPE_Q6_K;
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

// Row r's codes in n 32-byte nibble vectors v (the layout every 4-bit format here shares):
// byte 32v + 4r + j = q[8v + j] | q[8v + 4 + j] << 4 (q: 8n codes below 16, in element order).
void put_nibbles(const uint8_t* q, int n, int r, uint8_t* v) {
    for (int c = 0; c < n; c++)
        for (int j = 0; j < 4; j++) v[32 * c + 4 * r + j] = (uint8_t)((q[8 * c + j] & 0x0F) | (q[8 * c + 4 + j] & 0x0F) << 4);
}
void get_nibbles(const uint8_t* v, int n, int r, uint8_t* q) {
    for (int c = 0; c < n; c++)
        for (int j = 0; j < 4; j++) {
            q[8 * c + j] = v[32 * c + 4 * r + j] & 0x0F;
            q[8 * c + 4 + j] = v[32 * c + 4 * r + j] >> 4;
        }
}

// The 5th bits of row r's 32 codes q (element order) in its 4 bytes of a 32-byte qh vector (Q5_0,
// Q5_1, a Q5_K sub-block): byte 4r + j bit 2c = q[8c + j] >> 4, bit 2c + 1 = q[8c + 4 + j] >> 4.
void put_fifth(const uint8_t* q, int r, uint8_t* qh) {
    for (int j = 0; j < 4; j++) {
        uint8_t h = 0;
        for (int c = 0; c < 4; c++) h |= (uint8_t)((q[8 * c + j] >> 4) << (2 * c) | (q[8 * c + 4 + j] >> 4) << (2 * c + 1));
        qh[4 * r + j] = h;
    }
}
void get_fifth(const uint8_t* qh, int r, uint8_t* q) {
    for (int j = 0; j < 4; j++)
        for (int c = 0; c < 4; c++) {
            q[8 * c + j] |= (uint8_t)((qh[4 * r + j] >> (2 * c) & 1) << 4);
            q[8 * c + 4 + j] |= (uint8_t)((qh[4 * r + j] >> (2 * c + 1) & 1) << 4);
        }
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
        get_nibbles(s->qs, 4, r, q);
        rows[r]->d = s->d[r];
        for (int i = 0; i < QK / 2; i++) rows[r]->qs[i] = (uint8_t)(q[i] | q[i + QK / 2] << 4);
    }
}
// Q4_1, Q5_0, Q5_1: a row block's 32 codes in element order (ggml: qs[i] holds elements i, low
// nibble, and i + 16; qh bit i the 5th bit of element i) and back; the scale and minimum as they are.
template <class B> void codes32(const B& b, uint8_t* q) {
    for (int i = 0; i < QK / 2; i++) {
        q[i] = b.qs[i] & 0x0F;
        q[i + QK / 2] = b.qs[i] >> 4;
    }
    if constexpr (!std::is_same<B, block_q4_1>::value) {
        uint32_t h;
        std::memcpy(&h, b.qh, 4);
        for (int i = 0; i < QK; i++) q[i] |= (uint8_t)((h >> i & 1) << 4);
    }
}
template <class B> void put_codes32(const uint8_t* q, B& b) {
    for (int i = 0; i < QK / 2; i++) b.qs[i] = (uint8_t)((q[i] & 0x0F) | (q[i + QK / 2] & 0x0F) << 4);
    if constexpr (!std::is_same<B, block_q4_1>::value) {
        uint32_t h = 0;
        for (int i = 0; i < QK; i++) h |= (uint32_t)(q[i] >> 4) << i;
        std::memcpy(b.qh, &h, 4);
    }
}
template <class B, class BX> void q32_pack(const B* const rows[R8], BX* o) {
    for (int r = 0; r < R8; r++) {
        uint8_t q[QK];
        codes32(*rows[r], q);
        o->d[r] = rows[r]->d;
        if constexpr (!std::is_same<B, block_q5_0>::value) o->m[r] = rows[r]->m;
        put_nibbles(q, 4, r, o->qs);
        if constexpr (!std::is_same<B, block_q4_1>::value) put_fifth(q, r, o->qh);
    }
}
template <class B, class BX> void q32_unpack(const BX* s, B* const rows[R8]) {
    for (int r = 0; r < R8; r++) {
        uint8_t q[QK];
        get_nibbles(s->qs, 4, r, q);
        if constexpr (!std::is_same<B, block_q4_1>::value) get_fifth(s->qh, r, q);
        put_codes32(q, *rows[r]);
        rows[r]->d = s->d[r];
        if constexpr (!std::is_same<B, block_q5_0>::value) rows[r]->m = s->m[r];
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

// Q6_K: codes through quants.h's (un)packing; sub-blocks contiguous (rows8.h).
void q6_K_pack(const block_q6_K* const rows[R8], block_q6_Kx8* o) {
    for (int r = 0; r < R8; r++) {
        uint8_t q[QK_K];
        get_codes_q6_K(rows[r]->ql, rows[r]->qh, q);
        o->d[r] = rows[r]->d;
        for (int u = 0; u < QK_K / 16; u++) {
            block_q6_Kx8::Sub& sb = o->sub[u];
            sb.scales[r] = rows[r]->scales[u];
            put_nibbles(q + 16 * u, 2, r, sb.ql); // low 4 bits of the 6
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
            get_nibbles(sb.ql, 2, r, q + 16 * u);
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 4; i++)
                    q[16 * u + 4 * i + j] |= (uint8_t)(((sb.qh[4 * r + j] >> (2 * i)) & 3) << 4);
            rows[r]->scales[u] = sb.scales[r];
        }
        put_codes_q6_K(q, rows[r]->ql, rows[r]->qh);
        rows[r]->d = s->d[r];
    }
}

// Q4_K / Q5_K: codes and the 6-bit scales and mins through quants.h's (un)packing.
template <class B, class BX> void k45_pack(const B* const rows[R8], BX* o) {
    constexpr bool FIVE = std::is_same<B, block_q5_K>::value;
    for (int r = 0; r < R8; r++) {
        const B* s = rows[r];
        uint8_t q[QK_K];
        if constexpr (FIVE) get_codes_k45(s->qs, s->qh, q);
        else get_codes_k45(s->qs, nullptr, q);
        o->d[r] = s->d;
        o->dmin[r] = s->dmin;
        for (int sb = 0; sb < QK_K / 32; sb++) {
            typename BX::Sub& u = o->sub[sb];
            put_nibbles(q + 32 * sb, 4, r, u.qs);
            if constexpr (FIVE) put_fifth(q + 32 * sb, r, u.qh);
            uint8_t sc, m;
            get_scale_min_k4(sb, s->scales, sc, m);
            u.lo[r] = (uint8_t)((sc & 0x0F) | (m & 0x0F) << 4);
            const uint8_t h = (uint8_t)((sc >> 4) | (m >> 4) << 2);
            if (r % 2 == 0) u.hi[r / 2] = h; // rows go in order: the even row's nibble first
            else u.hi[r / 2] |= (uint8_t)(h << 4);
        }
    }
}
template <class B, class BX> void k45_unpack(const BX* s, B* const rows[R8]) {
    constexpr bool FIVE = std::is_same<B, block_q5_K>::value;
    for (int r = 0; r < R8; r++) {
        B* o = rows[r];
        uint8_t q[QK_K];
        std::memset(o->scales, 0, sizeof o->scales);
        uint8_t sc[QK_K / 32], m[QK_K / 32];
        for (int sb = 0; sb < QK_K / 32; sb++) {
            const typename BX::Sub& u = s->sub[sb];
            get_nibbles(u.qs, 4, r, q + 32 * sb);
            if constexpr (FIVE) get_fifth(u.qh, r, q + 32 * sb);
            const uint8_t h = (uint8_t)(u.hi[r / 2] >> (4 * (r % 2)) & 0x0F);
            sc[sb] = (uint8_t)((u.lo[r] & 0x0F) | (h & 3) << 4);
            m[sb] = (uint8_t)((u.lo[r] >> 4) | (h >> 2) << 4);
        }
        for (int sb = 0; sb < QK_K / 32; sb++) put_scale_min_k4(sb, o->scales, sc[sb], m[sb]); // j < 4 first
        if constexpr (FIVE) put_codes_k45(q, o->qs, o->qh);
        else put_codes_k45(q, o->qs, nullptr);
        o->d = s->d[r];
        o->dmin = s->dmin[r];
    }
}

// A format's plain and grouped blocks, elements per block, and its block-of-8 conversions.
template <class B_, class BX_, int QB_, void (*PACK)(const B_* const*, BX_*), void (*UNPACK)(const BX_*, B_* const*)>
struct Format {
    using B = B_;
    using BX = BX_;
    static constexpr int QB = QB_;
    static void pack(const B* const* rows, BX* o) { PACK(rows, o); }
    static void unpack(const BX* s, B* const* rows) { UNPACK(s, rows); }
};

// f(Format{}) for dtype (one of has_rows8's).
template <class F> void with_format(int32_t dtype, F f) {
    switch (dtype) {
    case PANOPT_DTYPE_Q4_0: f(Format<block_q4_0, block_q4_0x8, QK, q4_0_pack, q4_0_unpack>{}); break;
    case PANOPT_DTYPE_Q4_1: f(Format<block_q4_1, block_q4_1x8, QK, q32_pack, q32_unpack>{}); break;
    case PANOPT_DTYPE_Q5_0: f(Format<block_q5_0, block_q5_0x8, QK, q32_pack, q32_unpack>{}); break;
    case PANOPT_DTYPE_Q5_1: f(Format<block_q5_1, block_q5_1x8, QK, q32_pack, q32_unpack>{}); break;
    case PANOPT_DTYPE_Q8_0: f(Format<block_q8_0, block_q8_0x8, QK, q8_0_pack, q8_0_unpack>{}); break;
    case PANOPT_DTYPE_Q4_K: f(Format<block_q4_K, block_q4_Kx8, QK_K, k45_pack, k45_unpack>{}); break;
    case PANOPT_DTYPE_Q5_K: f(Format<block_q5_K, block_q5_Kx8, QK_K, k45_pack, k45_unpack>{}); break;
    default: f(Format<block_q6_K, block_q6_Kx8, QK_K, q6_K_pack, q6_K_unpack>{}); break;
    }
}

// Walks groups [g0, g1) of a tensor of K columns: the 8 row-major blocks (row 8g + r, b) of plain and
// the group block (g, b) of grouped, to f.
template <class Fm, class F>
void each_block(const void* plain, const void* grouped, int64_t K, int64_t g0, int64_t g1, F f) {
    using B = typename Fm::B;
    const int64_t nb = K / Fm::QB;
    B* p = static_cast<B*>(const_cast<void*>(plain));
    auto* x = static_cast<typename Fm::BX*>(const_cast<void*>(grouped));
    for (int64_t g = g0; g < g1; g++)
        for (int64_t b = 0; b < nb; b++) {
            B* rows[R8];
            for (int r = 0; r < R8; r++) rows[r] = p + (g * R8 + r) * nb + b;
            f(rows, x + g * nb + b);
        }
}

} // namespace

void repack_rows8(int32_t dtype, const void* src, void* dst, int64_t K, int64_t g0, int64_t g1) {
    with_format(dtype, [&](auto fm) {
        using Fm = decltype(fm);
        each_block<Fm>(src, dst, K, g0, g1, [](typename Fm::B* const* rows, typename Fm::BX* o) { Fm::pack(rows, o); });
    });
}

void unpack_rows8(int32_t dtype, const void* src, void* dst, int64_t K, int64_t g0, int64_t g1) {
    with_format(dtype, [&](auto fm) {
        using Fm = decltype(fm);
        each_block<Fm>(dst, src, K, g0, g1, [](typename Fm::B* const* rows, typename Fm::BX* s) { Fm::unpack(s, rows); });
    });
}

void dequantize_row_rows8(int32_t dtype, const void* src, int64_t K, int64_t row, float* dst) {
    const int64_t g = row / R8;
    const int r = (int)(row % R8);
    const TypeTraits* tt = type_traits(dtype);
    with_format(dtype, [&](auto fm) {
        using Fm = decltype(fm);
        const int64_t nb = K / Fm::QB;
        for (int64_t b = 0; b < nb; b++) { // the group block's 8 rows back in row order, then row r's values
            typename Fm::B blk[R8];
            typename Fm::B* rows[R8];
            for (int i = 0; i < R8; i++) rows[i] = blk + i;
            Fm::unpack(static_cast<const typename Fm::BX*>(src) + g * nb + b, rows);
            tt->to_f32(rows[r], dst + b * Fm::QB, Fm::QB);
        }
    });
}

} // namespace quant
} // namespace panopt
