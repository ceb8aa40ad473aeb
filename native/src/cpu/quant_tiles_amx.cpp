// quant_tiles_amx.cpp — the AMX kernel table: AVX512_VNNI's, with the prompt passes of the block
// formats in 8-row groups on AMX tiles (tiles_r8.inc; compiled with AMX-TILE/AMX-INT8 and AVX-512
// flags, internal linkage only, see kernels.h). dispatch.cpp builds it only on a CPU with AMX-INT8
// whose OS enabled the tile state and granted this process its use (arch_prctl XCOMP_PERM).
//
// Why tiles for prompts: one tdpbssd multiplies 16 x 32 by 32 x 16 int8 (8192 products) where a
// vpdpbusd does 64; on a Sapphire Rapids core one ran at about 15x that core's VNNI rate in a
// dependent chain (../shared/REFERENCE.md). Decode steps (one position per row) stay on the VNNI
// group kernels: they stream each weight once, and memory, not products, bounds them.
#include "kernels.h"

#include <immintrin.h>
#include <string.h>

#include <type_traits>

#include "../dtype.h"
#include "../quant/rows8.h"
#include "amx_os.h" // TileConfig

namespace panopt {
namespace {

#include "rows8_helpers.inc"

// The tile operations of tiles_r8.inc as the instructions (tile numbers are part of the encoding).
// GCC's _tile_loadd is an asm statement that takes the address but declares no memory read, so the
// compiler could move the panel's or the padded A tile's stores past it: each load is preceded by a
// compiler barrier (no instruction). _tile_stored declares its memory write.
inline void memory_barrier() { __asm__ volatile("" ::: "memory"); }
struct HwTiles {
    static void config(const void* c) {
        memory_barrier();
        _tile_loadconfig(c);
    }
    static void release() { _tile_release(); }
    static void zero0() { _tile_zero(0); }
    static void zero1() { _tile_zero(1); }
    static void load_a0(const void* p, int64_t stride) {
        memory_barrier();
        _tile_loadd(2, p, stride);
    }
    static void load_a1(const void* p, int64_t stride) {
        memory_barrier();
        _tile_loadd(3, p, stride);
    }
    static void load_b0(const void* p) {
        memory_barrier();
        _tile_loadd(4, p, 64);
    }
    static void load_b1(const void* p) {
        memory_barrier();
        _tile_loadd(5, p, 64);
    }
    static void dp0() { _tile_dpbssd(0, 2, 4); }
    static void dp1() { _tile_dpbssd(1, 3, 5); }
    static void store0(void* p) { _tile_stored(0, p, 64); }
    static void store1(void* p) { _tile_stored(1, p, 64); }
};

#include "tiles_r8.inc"

int64_t scratch_floats(int64_t K) {
    const int64_t inherited = kernels_avx512_vnni()->linear_scratch_floats(K), own = tiles_scratch_floats(K);
    return inherited > own ? inherited : own;
}

} // namespace

const Kernels* kernels_amx() {
    static const Kernels table = [] { // thread-safe, on first use
        Kernels k = *kernels_avx512_vnni();
        k.isa = PANOPT_ISA_AMX;
        k.name = "amx";
        k.linear_scratch_floats = scratch_floats;
        tile_kernels<HwTiles>(k.type);
        return k;
    }();
    return &table;
}

} // namespace panopt
