// amx_os.h — whether this process may execute AMX-INT8 tile instructions (amx_os.cpp). One definition
// for the library's dispatch and the bench probes (libpanopt_probe, panopt_tiles_bench), which compile
// amx_os.cpp into themselves.
#ifndef PANOPT_CPU_AMX_OS_H
#define PANOPT_CPU_AMX_OS_H

#include <cstdint>

namespace panopt {

// ldtilecfg's 64-byte operand (Intel SDM, palette 1): bytes 16..31 the 8 tiles' bytes per row, 48..55
// their rows; everything else (tiles 8..15 included) zero.
struct alignas(64) TileConfig {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
};
static_assert(sizeof(TileConfig) == 64, "ldtilecfg reads 64 bytes");

// The CPU has AMX-TILE and AMX-INT8, the OS enabled the tile state (XCR0 bits 17 and 18), and Linux
// granted this process the 8 KB tile data (arch_prctl ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA; asked
// on the first call, process-wide; without it the first tile instruction raises SIGILL). Thread-safe.
bool amx_int8_usable();

} // namespace panopt

#endif
