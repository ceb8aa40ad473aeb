// tile_model.h — the AMX prompt kernels on a software model of the tile instructions (tile_model.cpp).
// Run them only where isa_has_vnni(cpu_best_isa()) (their epilogue is AVX-512 code).
#ifndef PANOPT_TESTS_TILE_MODEL_H
#define PANOPT_TESTS_TILE_MODEL_H

#include <cstdint>

namespace panopt {

struct TypeKernels;
// Sets type[dt].linear_range_tiles_r8 for the formats the AMX table has them for, on the model.
void tile_model_kernels(TypeKernels* type);
// The scratch (floats) those kernels need for K columns.
int64_t tile_model_scratch_floats(int64_t K);
// Whether this thread's modelled tile configuration is loaded (false after every kernel returns).
bool tile_model_configured();
// How many tdpbssd the model has executed in this process (every thread).
int64_t tile_model_products();

} // namespace panopt

#endif
