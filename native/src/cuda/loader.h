// loader.h — the CUDA backend as libpanopt sees it: libpanopt_cuda.so, loaded on the first request
// for a CUDA backend (never otherwise), wrapped as a panopt_backend whose executors forward each op
// through the library's C table (cuda_abi.h). Compiled into libpanopt with or without nvcc.
#ifndef PANOPT_CUDA_LOADER_H
#define PANOPT_CUDA_LOADER_H

#include <memory>
#include <string>

#include "../backend.h"

namespace panopt {

// The backend on device o.device; throws Error: PANOPT_ERR_UNSUPPORTED when the library, the NVIDIA
// driver or the device is missing (the message names which), INVALID_ARGUMENT for bad options.
std::unique_ptr<panopt_backend> create_cuda_backend(const panopt_backend_options& o);

// Where the library is looked for: $PANOPT_CUDA_LIBRARY if set, else libpanopt_cuda.so in the
// directory of the module holding this code (libpanopt.so, or a test executable).
std::string cuda_library_path();

} // namespace panopt

#endif
