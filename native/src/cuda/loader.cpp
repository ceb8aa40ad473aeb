// loader.cpp — finds and loads libpanopt_cuda.so (once, never unloaded: the CUDA runtime inside it
// registers exit handlers) and adapts its C table to the backend seam: CudaBackendProxy is the
// panopt_backend, CudaExecutorProxy the Executor; each call's status becomes a panopt::Error here.
#include "loader.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>
#include <mutex>
#include <vector>

#include "../error.h"
#include "cuda_abi.h"

namespace panopt {
namespace {

const char* const kLibName = "libpanopt_cuda.so";

void check(const panopt_cuda_api* api, panopt_status s) {
    if (s != PANOPT_OK) fail(s, api->last_error());
}

// Loads the library and fetches its table, once per process; a failure is retried on the next call
// (the file may appear). Throws Error(UNSUPPORTED) naming the path and the reason.
const panopt_cuda_api* load_api() {
    static std::mutex mu;
    static const panopt_cuda_api* api = nullptr;
    std::lock_guard<std::mutex> lock(mu);
    if (api) return api;
    const std::string path = cuda_library_path();
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
        fail(PANOPT_ERR_UNSUPPORTED, "this build has no CUDA backend: " + path +
                                         " does not exist (libpanopt_cuda.so is built where nvcc is found; "
                                         "PANOPT_CUDA_LIBRARY names another file)");
    void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char* why = ::dlerror();
        fail(PANOPT_ERR_UNSUPPORTED, "cannot load the CUDA backend " + path + ": " + (why ? why : "dlopen failed"));
    }
    auto get = reinterpret_cast<panopt_cuda_get_api_fn>(::dlsym(h, "panopt_cuda_get_api"));
    if (!get) {
        ::dlclose(h);
        fail(PANOPT_ERR_UNSUPPORTED, path + " is not a Panopt CUDA backend (no panopt_cuda_get_api)");
    }
    const panopt_cuda_api* a = get();
    if (!a || a->abi != PANOPT_CUDA_ABI || a->panopt_abi != PANOPT_ABI_VERSION ||
        a->sizeof_tensor_ref != (int32_t)sizeof(TensorRef) || a->sizeof_attention_args != (int32_t)sizeof(AttentionArgs) ||
        a->sizeof_config != (int32_t)sizeof(panopt_config)) {
        // stays loaded: its table may be referenced by nothing, but unloading a CUDA runtime is not safe
        fail(PANOPT_ERR_UNSUPPORTED, path + " was built from another Panopt version (its ABI does not match this "
                                            "libpanopt's); use the two libraries of one build");
    }
    api = a;
    return api;
}

struct CudaModelResources final : ModelResources {
    const panopt_cuda_api* api;
    panopt_cuda_model* handle;
    CudaModelResources(const panopt_cuda_api* a, panopt_cuda_model* h) : api(a), handle(h) {}
    ~CudaModelResources() override { api->model_free(handle); }
};

class CudaExecutorProxy final : public Executor {
public:
    CudaExecutorProxy(const panopt_cuda_api* api, panopt_cuda_exec* e) : api_(api), e_(e) {}
    ~CudaExecutorProxy() override { api_->exec_free(e_); }

    void begin_pass() override { check(api_, api_->begin_pass(e_)); }
    void end_pass() override { check(api_, api_->end_pass(e_)); }
    float* scratch(int slot, int64_t n) override {
        float* p = nullptr;
        check(api_, api_->scratch(e_, slot, n, &p));
        return p;
    }
    float* output_buffer(float*, int slot, int64_t n) override { return scratch(slot, n); }
    void embed(const TensorRef& table, const int32_t* ids, const float* embeds, int64_t M, int64_t width,
               float* out) override {
        check(api_, api_->embed(e_, &table, ids, embeds, M, width, out));
    }
    void add_rows(const TensorRef& table, const int32_t* rows, int64_t M, int64_t width, float* x) override {
        check(api_, api_->add_rows(e_, &table, rows, M, width, x));
    }
    void linear(const float* x, int64_t M, int64_t K, const TensorRef& w, const TensorRef* b, float* y,
                int64_t N) override {
        check(api_, api_->linear(e_, x, M, K, &w, b, y, N));
    }
    void layernorm(const float* x, float* y, int64_t R, int64_t n, const TensorRef& w, const TensorRef& b,
                   float eps) override {
        check(api_, api_->layernorm(e_, x, y, R, n, &w, &b, eps));
    }
    void activation(int32_t act, float* x, int64_t n) override { check(api_, api_->activation(e_, act, x, n)); }
    void add(float* y, const float* x, int64_t n) override { check(api_, api_->add(e_, y, x, n)); }
    void attention(const AttentionArgs& a) override { check(api_, api_->attention(e_, &a)); }
    void gather_rows(const float* src, const int64_t* rows, int64_t R, int64_t width, float* dst) override {
        check(api_, api_->gather_rows(e_, src, rows, R, width, dst));
    }
    void to_host(float* host, const float* src, int64_t n) override { check(api_, api_->to_host(e_, host, src, n)); }
    void cache_copy_from(const Executor& src, int32_t batch, int32_t past) override {
        // sessions of one model share its backend, so src is a proxy of the same library
        check(api_, api_->cache_copy(e_, static_cast<const CudaExecutorProxy&>(src).e_, batch, past));
    }
    void cache_read(int32_t layer, int32_t which, int32_t batch, int32_t past, float* out) const override {
        check(api_, api_->cache_read(e_, layer, which, batch, past, out));
    }
    // Cache row moves (panopt_session_reorder, beam search) arrived after the CUDA library's table;
    // until it has an entry for them, they are refused rather than emulated.
    void cache_move_rows(const RowMove*, int64_t, int32_t) override {
        fail(PANOPT_ERR_UNSUPPORTED, "panopt_session_reorder (beam search) is not implemented on the CUDA backend yet");
    }

private:
    const panopt_cuda_api* api_;
    panopt_cuda_exec* e_;
};

class CudaBackendProxy final : public panopt_backend {
public:
    CudaBackendProxy(const panopt_cuda_api* api, panopt_cuda_backend* b) : api_(api), b_(b) {}
    ~CudaBackendProxy() override { api_->backend_free(b_); }

    void describe(panopt_backend_info& out) const override {
        out.kind = PANOPT_BACKEND_CUDA;
        out.n_threads = 1;
        out.isa = PANOPT_ISA_AUTO;
    }
    bool supports_dtype(int32_t dtype) const override { return api_->supports_dtype(dtype) != 0; }

    std::unique_ptr<ModelResources> prepare_model(const panopt_model& m) override {
        std::vector<const TensorRef*> refs;
        for (const TensorRef& t : m.global)
            if (t.data) refs.push_back(&t);
        for (const TensorRef& t : m.layers)
            if (t.data) refs.push_back(&t);
        panopt_cuda_model* h = nullptr;
        check(api_, api_->model_upload(b_, refs.data(), (int64_t)refs.size(), &h));
        return std::unique_ptr<ModelResources>(new CudaModelResources(api_, h));
    }

    std::unique_ptr<Executor> new_executor(const panopt_model& m, int32_t max_batch, int32_t max_seq_len,
                                           int32_t cache_dtype) override {
        auto* res = dynamic_cast<const CudaModelResources*>(m.resources.get());
        if (!res) fail(PANOPT_ERR_INTERNAL, "model has no CUDA weights (not finalized on this backend)");
        panopt_cuda_exec* e = nullptr;
        check(api_, api_->exec_create(b_, res->handle, &m.cfg, max_batch, max_seq_len, cache_dtype, &e));
        return std::unique_ptr<Executor>(new CudaExecutorProxy(api_, e));
    }

private:
    const panopt_cuda_api* api_;
    panopt_cuda_backend* b_;
};

} // namespace

std::string cuda_library_path() {
    const char* env = std::getenv("PANOPT_CUDA_LIBRARY");
    if (env && *env) return env;
    Dl_info info;
    std::string dir = ".";
    if (::dladdr(reinterpret_cast<void*>(&create_cuda_backend), &info) && info.dli_fname) {
        std::string self = info.dli_fname;
        const size_t slash = self.rfind('/');
        if (slash != std::string::npos) dir = self.substr(0, slash);
    }
    return dir + "/" + kLibName;
}

std::unique_ptr<panopt_backend> create_cuda_backend(const panopt_backend_options& o) {
    if (o.n_threads != 0) fail(PANOPT_ERR_INVALID_ARGUMENT, "n_threads must be 0 for the CUDA backend");
    if (o.isa != PANOPT_ISA_AUTO) fail(PANOPT_ERR_INVALID_ARGUMENT, "isa must be AUTO for the CUDA backend");
    if (o.device < 0) fail(PANOPT_ERR_INVALID_ARGUMENT, "device must be >= 0, got " + std::to_string(o.device));
    const panopt_cuda_api* api = load_api();
    panopt_cuda_backend* b = nullptr;
    check(api, api->backend_create(o.device, &b));
    return std::unique_ptr<panopt_backend>(new CudaBackendProxy(api, b));
}

} // namespace panopt
