// backend.cpp — makes the backend a panopt_backend_options asks for.
#include "backend.h"

#include <string>

#include "cpu/backend_cpu.h"
#include "cuda/loader.h"
#include "error.h"

namespace panopt {

std::unique_ptr<panopt_backend> create_backend(const panopt_backend_options& o) {
    if (o.reserved != 0) fail(PANOPT_ERR_INVALID_ARGUMENT, "reserved must be 0");
    switch (o.kind) {
    case PANOPT_BACKEND_CPU: {
        if (o.device != 0) fail(PANOPT_ERR_INVALID_ARGUMENT, "device must be 0 for the CPU backend");
        if (o.n_threads < 0 || o.n_threads > 1024) fail(PANOPT_ERR_INVALID_ARGUMENT, "n_threads must be in 0..1024");
        if (o.isa < PANOPT_ISA_AUTO || o.isa > PANOPT_ISA_NEON) fail(PANOPT_ERR_INVALID_ARGUMENT, "unknown isa");
        const Kernels* kt = kernels_for_isa(o.isa);
        if (!kt) fail(PANOPT_ERR_UNSUPPORTED, "requested ISA level is not supported by this CPU");
        const int nt = o.n_threads == 0 ? online_cpus() : o.n_threads;
        return std::unique_ptr<panopt_backend>(new CpuBackend(kt, nt));
    }
    case PANOPT_BACKEND_CUDA: return create_cuda_backend(o);
    default: fail(PANOPT_ERR_UNSUPPORTED, "backend kind " + std::to_string(o.kind) + " is not in this build");
    }
}

} // namespace panopt
