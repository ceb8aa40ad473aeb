// backend_cuda.cu — the device (driver and device checks, the error mapping of every runtime call)
// and the upload of a model's weights into one device allocation, in the layout of DevTensor.
#include "backend_cuda.cuh"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "../dtype.h"
#include "../quant/blocks.h"

namespace panopt {
namespace cuda {

[[noreturn]] void throw_cuda(cudaError_t e, const char* what, const char* file, int line) {
    cudaGetLastError(); // a failed call leaves its error for the next launch check; it is reported here
    const char* base = std::strrchr(file, '/');
    std::string msg = std::string("CUDA error ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ") in " +
                      what + " at " + (base ? base + 1 : file) + ":" + std::to_string(line);
    switch (e) {
    case cudaErrorMemoryAllocation: fail(PANOPT_ERR_OUT_OF_MEMORY, "out of GPU memory: " + msg);
    case cudaErrorInsufficientDriver:
    case cudaErrorNoDevice:
    case cudaErrorNotSupported: fail(PANOPT_ERR_UNSUPPORTED, msg);
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
    case cudaErrorLaunchTimeout:
        // sticky: the context cannot be used again by this process
        fail(PANOPT_ERR_INTERNAL, msg + "; the GPU context is lost for this process (a bug: please report it)");
    default: fail(PANOPT_ERR_INTERNAL, msg);
    }
}

namespace {

// The runtime links the driver (libcuda.so.1) at run time; looking for it first gives the clearest
// message when it is absent, which the runtime reports only as an "insufficient driver".
void require_driver() {
    if (::dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL)) return; // stays loaded (the runtime uses it)
    const char* why = ::dlerror();
    fail(PANOPT_ERR_UNSUPPORTED, std::string("no CUDA driver: libcuda.so.1 cannot be loaded (") +
                                     (why ? why : "not found") +
                                     "); the CUDA backend needs the NVIDIA driver, version 580 or newer");
}

} // namespace

CudaBackend::CudaBackend(int dev) : device(dev) {
    require_driver();
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorNoDevice || (e == cudaSuccess && n == 0))
        fail(PANOPT_ERR_UNSUPPORTED, "no CUDA device: the NVIDIA driver is loaded but sees no GPU"
                                     " (check CUDA_VISIBLE_DEVICES and nvidia-smi)");
    if (e == cudaErrorInsufficientDriver)
        fail(PANOPT_ERR_UNSUPPORTED, std::string("the NVIDIA driver is too old for CUDA 13: ") + cudaGetErrorString(e) +
                                         " (the CUDA backend needs driver 580 or newer)");
    if (e != cudaSuccess) throw_cuda(e, "cudaGetDeviceCount", __FILE__, __LINE__);
    if (dev >= n)
        fail(PANOPT_ERR_UNSUPPORTED, "no CUDA device " + std::to_string(dev) + ": this machine has " +
                                         std::to_string(n) + " visible CUDA device(s)");
    PCU_CHECK(cudaGetDeviceProperties(&props, dev));
    if (props.major < 8)
        fail(PANOPT_ERR_UNSUPPORTED, "CUDA device " + std::to_string(dev) + " (" + props.name +
                                         ") has compute capability " + std::to_string(props.major) + "." +
                                         std::to_string(props.minor) + "; the CUDA backend needs 8.0 or newer");
    PCU_CHECK(cudaSetDevice(dev));
    PCU_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
}

CudaBackend::~CudaBackend() {
    if (stream) {
        cudaSetDevice(device);
        cudaStreamDestroy(stream);
    }
}

void CudaBackend::activate() const { PCU_CHECK(cudaSetDevice(device)); }

bool supported_dtype(int32_t dt) {
    return dt == PANOPT_DTYPE_F32 || dt == PANOPT_DTYPE_F16 || dt == PANOPT_DTYPE_BF16 || dt == PANOPT_DTYPE_Q8_0 ||
           dt == PANOPT_DTYPE_Q4_0;
}

int64_t device_row_pitch(int32_t dt, int64_t cols) {
    const int64_t b = row_bytes(dt, cols);
    return (b + 127) / 128 * 128;
}

namespace {

constexpr size_t kAlign = 256;
size_t align_up(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }
bool is_block(int32_t dt) { return dt == PANOPT_DTYPE_Q8_0 || dt == PANOPT_DTYPE_Q4_0; }

// Device bytes of a weight's values (and scales, after them).
void layout(const TensorRef& t, int64_t& ld, size_t& value_bytes, size_t& scale_bytes) {
    scale_bytes = 0;
    if (t.dtype == PANOPT_DTYPE_Q8_0) {
        ld = t.cols;
    } else if (t.dtype == PANOPT_DTYPE_Q4_0) {
        ld = t.cols / 2;
    } else {
        ld = device_row_pitch(t.dtype, t.cols);
    }
    value_bytes = (size_t)(t.rows * ld);
    if (is_block(t.dtype)) scale_bytes = (size_t)(t.rows * (t.cols / QK)) * sizeof(uint16_t);
}

// Splits rows [r0, r1) of a Q8_0/Q4_0 weight into its values (rows of ld bytes) and block scales.
void repack_blocks(const TensorRef& t, int64_t r0, int64_t r1, int64_t ld, unsigned char* values, uint16_t* scales) {
    const int64_t nb = t.cols / QK;
    for (int64_t r = r0; r < r1; r++) {
        const unsigned char* src = static_cast<const unsigned char*>(t.row(r));
        unsigned char* dst = values + (r - r0) * ld;
        for (int64_t b = 0; b < nb; b++) {
            if (t.dtype == PANOPT_DTYPE_Q8_0) {
                block_q8_0 blk;
                std::memcpy(&blk, src + b * sizeof blk, sizeof blk);
                std::memcpy(dst + b * QK, blk.qs, QK);
                scales[(r - r0) * nb + b] = blk.d;
            } else {
                block_q4_0 blk;
                std::memcpy(&blk, src + b * sizeof blk, sizeof blk);
                std::memcpy(dst + b * (QK / 2), blk.qs, QK / 2);
                scales[(r - r0) * nb + b] = blk.d;
            }
        }
    }
}

} // namespace

CudaModel::CudaModel(CudaBackend& backend, const TensorRef* const* refs, int64_t n) : be(backend) {
    struct Planned {
        const TensorRef* t;
        size_t off, value_bytes, scale_bytes;
        int64_t ld;
    };
    std::vector<Planned> plan;
    size_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        const TensorRef& t = *refs[i];
        if (!t.data) continue;
        if (!supported_dtype(t.dtype))
            fail(PANOPT_ERR_UNSUPPORTED, std::string("the CUDA backend does not compute with ") +
                                             type_traits(t.dtype)->name + " weights");
        const Key key(t.data, t.dtype, t.rows, t.cols);
        if (tensors_.count(key)) continue; // a buffer given twice (the tied LM head) is uploaded once
        Planned p{&t, total, 0, 0, 0};
        layout(t, p.ld, p.value_bytes, p.scale_bytes);
        total = align_up(total + p.value_bytes);
        total = align_up(total + p.scale_bytes);
        plan.push_back(p);
        tensors_[key] = DevTensor{};
    }
    std::lock_guard<std::mutex> lock(be.mem_mu);
    be.activate();
    PCU_CHECK(cudaMalloc(&mem_, total ? total : kAlign));
    try {
        unsigned char* base = static_cast<unsigned char*>(mem_);
        PCU_CHECK(cudaMemsetAsync(base, 0, total, be.stream)); // row padding reads as 0
        std::vector<unsigned char> host;
        for (const Planned& p : plan) {
            const TensorRef& t = *p.t;
            DevTensor d;
            d.data = base + p.off;
            d.dtype = t.dtype;
            d.rows = t.rows;
            d.cols = t.cols;
            d.ld = p.ld;
            if (is_block(t.dtype)) {
                unsigned char* scales = base + align_up(p.off + p.value_bytes);
                d.scales = reinterpret_cast<const __half*>(scales);
                const int64_t nb = t.cols / QK;
                const int64_t chunk = std::max<int64_t>(1, (int64_t)(64 << 20) / std::max<int64_t>(1, p.ld + 2 * nb));
                for (int64_t r0 = 0; r0 < t.rows; r0 += chunk) {
                    const int64_t r1 = std::min(t.rows, r0 + chunk);
                    const size_t vb = (size_t)((r1 - r0) * p.ld), sb = (size_t)((r1 - r0) * nb) * 2;
                    host.resize(vb + sb);
                    uint16_t* sc = reinterpret_cast<uint16_t*>(host.data() + vb);
                    repack_blocks(t, r0, r1, p.ld, host.data(), sc);
                    PCU_CHECK(cudaMemcpyAsync(base + p.off + r0 * p.ld, host.data(), vb, cudaMemcpyHostToDevice, be.stream));
                    PCU_CHECK(cudaMemcpyAsync(scales + r0 * nb * 2, sc, sb, cudaMemcpyHostToDevice, be.stream));
                    PCU_CHECK(cudaStreamSynchronize(be.stream)); // `host` is reused
                }
            } else if (p.ld == t.row_bytes) {
                PCU_CHECK(cudaMemcpyAsync(base + p.off, t.data, (size_t)(t.rows * t.row_bytes), cudaMemcpyHostToDevice,
                                          be.stream));
            } else {
                PCU_CHECK(cudaMemcpy2DAsync(base + p.off, (size_t)p.ld, t.data, (size_t)t.row_bytes, (size_t)t.row_bytes,
                                            (size_t)t.rows, cudaMemcpyHostToDevice, be.stream));
            }
            tensors_[Key(t.data, t.dtype, t.rows, t.cols)] = d;
        }
        PCU_CHECK(cudaStreamSynchronize(be.stream));
    } catch (...) {
        cudaFree(mem_);
        mem_ = nullptr;
        throw;
    }
}

CudaModel::~CudaModel() {
    if (!mem_) return;
    std::lock_guard<std::mutex> lock(be.mem_mu);
    cudaSetDevice(be.device);
    cudaFree(mem_);
}

DevTensor CudaModel::get(const TensorRef& t) const {
    if (!t.data) return DevTensor{};
    auto it = tensors_.find(Key(t.data, t.dtype, t.rows, t.cols));
    if (it == tensors_.end()) fail(PANOPT_ERR_INTERNAL, "a weight of the graph is not among the model's uploaded tensors");
    return it->second;
}

} // namespace cuda
} // namespace panopt
