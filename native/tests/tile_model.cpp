// tile_model.cpp — the AMX prompt kernels (src/cpu/tiles_r8.inc) on a software model of the tile
// instructions, so that their code, byte for byte the hardware table's but for the six tile
// operations, is tested against the scalar reference on any AVX-512 machine; on a CPU with AMX the
// tests also require the hardware's results to equal the model's bit for bit.
//
// The model follows the Intel SDM's definitions: ldtilecfg (palette 1 only; unused tiles 0 x 0),
// tileloadd (rows x colsb bytes at base + row * stride; the rest of the 16 x 64 tile zeroed),
// tilestored, tilezero, and tdpbssd (C[m][n] += sum of 4 signed byte products per K/4, int32
// wrapping), raising an error where the hardware raises #UD: a tile used without a configuration,
// or shapes that do not agree (C.rows = A.rows, C.colsb = B.colsb, A.colsb = 4 B.rows).
// Compiled with the AVX-512 + VNNI flags of quant_rows8_vnni.cpp (the epilogue's instructions).
#include "tile_model.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

#include "cpu/kernels.h"
#include "dtype.h"
#include "quant/rows8.h"
#include "cpu/amx_os.h" // TileConfig

namespace panopt {
namespace {

#include "cpu/rows8_helpers.inc"

struct TileState {
    bool configured = false;
    uint8_t rows[8] = {};
    uint16_t colsb[8] = {};
    alignas(64) uint8_t t[8][16][64] = {};
};
thread_local TileState ts;
std::atomic<int64_t> products{0}; // tdpbssd executed, all threads

[[noreturn]] void ud(const char* what) {
    std::fprintf(stderr, "tile model: #UD: %s\n", what);
    std::abort();
}

void use(int t) {
    if (!ts.configured) ud("tile instruction without ldtilecfg");
    if (ts.rows[t] == 0 || ts.colsb[t] == 0) ud("tile not configured");
}

struct ModelTiles {
    static void config(const void* c) {
        const uint8_t* p = static_cast<const uint8_t*>(c);
        if (p[0] != 1) ud("palette other than 1");
        for (int i = 2; i < 16; i++)
            if (p[i]) ud("reserved byte set");
        ts = TileState{};
        for (int t = 0; t < 16; t++) {
            uint16_t cb;
            memcpy(&cb, p + 16 + 2 * t, 2);
            const uint8_t r = p[48 + t];
            if (t >= 8 ? (cb || r) : (cb > 64 || r > 16 || (cb == 0) != (r == 0))) ud("bad tile shape");
            if (t < 8) {
                ts.colsb[t] = cb;
                ts.rows[t] = r;
            }
        }
        ts.configured = true;
    }
    static void release() { ts = TileState{}; }
    static void zero(int t) {
        use(t);
        memset(ts.t[t], 0, sizeof ts.t[t]);
    }
    static void load(int t, const void* p, int64_t stride) {
        use(t);
        memset(ts.t[t], 0, sizeof ts.t[t]);
        for (int r = 0; r < ts.rows[t]; r++) memcpy(ts.t[t][r], static_cast<const uint8_t*>(p) + r * stride, ts.colsb[t]);
    }
    static void store(int t, void* p, int64_t stride) {
        use(t);
        for (int r = 0; r < ts.rows[t]; r++) memcpy(static_cast<uint8_t*>(p) + r * stride, ts.t[t][r], ts.colsb[t]);
    }
    static void dpbssd(int c, int a, int b) {
        use(c);
        use(a);
        use(b);
        if (ts.rows[c] != ts.rows[a] || ts.colsb[c] != ts.colsb[b] || ts.colsb[a] != 4 * ts.rows[b] || c == a || c == b || a == b)
            ud("tdpbssd shapes");
        products.fetch_add(1, std::memory_order_relaxed);
        for (int m = 0; m < ts.rows[c]; m++)
            for (int n = 0; n < ts.colsb[c] / 4; n++) {
                int32_t acc;
                memcpy(&acc, &ts.t[c][m][4 * n], 4);
                uint32_t s = (uint32_t)acc;
                for (int k = 0; k < ts.colsb[a] / 4; k++)
                    for (int j = 0; j < 4; j++)
                        s += (uint32_t)((int32_t)(int8_t)ts.t[a][m][4 * k + j] * (int32_t)(int8_t)ts.t[b][k][4 * n + j]);
                memcpy(&ts.t[c][m][4 * n], &s, 4);
            }
    }
    // tiles_r8.inc's operations, on the tiles quant_tiles_amx.cpp gives them
    static void zero0() { zero(0); }
    static void zero1() { zero(1); }
    static void load_a0(const void* p, int64_t stride) { load(2, p, stride); }
    static void load_a1(const void* p, int64_t stride) { load(3, p, stride); }
    static void load_b0(const void* p) { load(4, p, 64); }
    static void load_b1(const void* p) { load(5, p, 64); }
    static void dp0() { dpbssd(0, 2, 4); }
    static void dp1() { dpbssd(1, 3, 5); }
    static void store0(void* p) { store(0, p, 64); }
    static void store1(void* p) { store(1, p, 64); }
};

#include "cpu/tiles_r8.inc"

} // namespace

void tile_model_kernels(TypeKernels* type) { tile_kernels<ModelTiles>(type); }
int64_t tile_model_scratch_floats(int64_t K) { return tiles_scratch_floats(K); }
bool tile_model_configured() { return ts.configured; }
int64_t tile_model_products() { return products.load(); }

} // namespace panopt

#else // no x86: nothing to model

namespace panopt {
void tile_model_kernels(TypeKernels*) {}
int64_t tile_model_scratch_floats(int64_t) { return 0; }
bool tile_model_configured() { return false; }
int64_t tile_model_products() { return 0; }
} // namespace panopt

#endif
