// api.cpp — the C ABI. Every entry point runs inside guarded(): it checks its arguments, catches
// everything (no C++ exception crosses the boundary, including bad_alloc from building an error
// message) and records a per-thread message for panopt_last_error().
#include <cstddef>
#include <cstring>
#include <new>
#include <string>

#include "../include/panopt.h"
#include "backend.h"
#include "cpu/kernels.h"
#include "dtype.h"
#include "error.h"
#include "model.h"
#include "session.h"

// The Java bindings generate their layouts from panopt.h and check them against
// panopt_struct_size() at load; these pin the C side so a change is a conscious ABI bump.
static_assert(sizeof(panopt_config) == 68, "panopt_config layout changed: bump PANOPT_ABI_VERSION");
static_assert(offsetof(panopt_config, layer_norm_eps) == 60, "panopt_config layout changed");
static_assert(sizeof(panopt_backend_options) == 24, "panopt_backend_options layout changed");
static_assert(sizeof(panopt_backend_info) == 16, "panopt_backend_info layout changed");
static_assert(sizeof(panopt_session_options) == 20, "panopt_session_options layout changed");
static_assert(sizeof(panopt_forward_args) == 80, "panopt_forward_args layout changed");
static_assert(offsetof(panopt_forward_args, input_ids) == 16, "panopt_forward_args layout changed");
static_assert(offsetof(panopt_forward_args, attentions) == 72, "panopt_forward_args layout changed");

#ifndef PANOPT_VERSION_STRING
#define PANOPT_VERSION_STRING "0.1.0"
#endif

namespace {

thread_local std::string g_last_error;

panopt_status set_error(panopt_status s, const char* msg) noexcept {
    try {
        g_last_error = msg;
    } catch (...) {
        // out of memory while recording the message: leave the old one
    }
    return s;
}

template <class F> panopt_status guarded(F&& f) noexcept {
    try {
        return f();
    } catch (const panopt::Error& e) {
        return set_error(e.status, e.what());
    } catch (const std::invalid_argument& e) {
        return set_error(PANOPT_ERR_INVALID_ARGUMENT, e.what());
    } catch (const std::bad_alloc&) {
        return set_error(PANOPT_ERR_OUT_OF_MEMORY, "out of memory");
    } catch (const std::length_error&) {
        return set_error(PANOPT_ERR_OUT_OF_MEMORY, "out of memory (length error)");
    } catch (const std::exception& e) {
        return set_error(PANOPT_ERR_INTERNAL, e.what());
    } catch (...) {
        return set_error(PANOPT_ERR_INTERNAL, "unknown internal error");
    }
}

void require(bool ok, const char* msg) {
    if (!ok) panopt::fail(PANOPT_ERR_INVALID_ARGUMENT, msg);
}

// Copies a caller's extensible struct (leading int32 struct_size) into a zeroed T: a shorter
// struct than the first published size is an error; bytes this library does not know must be 0.
template <class T> T read_struct(const T* p, const char* what) {
    require(p != nullptr, (std::string(what) + " is NULL").c_str());
    int32_t size;
    std::memcpy(&size, p, sizeof size);
    if (size < (int32_t)sizeof(T))
        panopt::fail(PANOPT_ERR_INVALID_ARGUMENT, std::string(what) + ".struct_size is " + std::to_string(size) +
                                                      ", expected at least " + std::to_string(sizeof(T)));
    const unsigned char* bytes = reinterpret_cast<const unsigned char*>(p);
    for (int32_t i = (int32_t)sizeof(T); i < size; i++)
        if (bytes[i] != 0)
            panopt::fail(PANOPT_ERR_UNSUPPORTED, std::string(what) + " has non-zero fields this library does not know "
                                                                     "(built against a newer panopt.h?)");
    T out;
    std::memcpy(&out, p, sizeof(T));
    return out;
}

} // namespace

extern "C" {

PANOPT_API const char* panopt_version(void) { return PANOPT_VERSION_STRING; }
PANOPT_API int32_t panopt_abi_version(void) { return PANOPT_ABI_VERSION; }
PANOPT_API const char* panopt_last_error(void) { return g_last_error.c_str(); }
PANOPT_API int32_t panopt_cpu_isa(void) { return panopt::cpu_best_isa(); }

PANOPT_API int64_t panopt_struct_size(const char* name) {
    if (!name) return -1;
    struct Entry {
        const char* name;
        int64_t size;
    };
    static const Entry kSizes[] = {
        {"panopt_config", (int64_t)sizeof(panopt_config)},
        {"panopt_backend_options", (int64_t)sizeof(panopt_backend_options)},
        {"panopt_backend_info", (int64_t)sizeof(panopt_backend_info)},
        {"panopt_session_options", (int64_t)sizeof(panopt_session_options)},
        {"panopt_forward_args", (int64_t)sizeof(panopt_forward_args)},
    };
    for (const Entry& e : kSizes)
        if (std::strcmp(e.name, name) == 0) return e.size;
    return -1;
}

namespace {
// The type's traits, or a status naming why it cannot be converted.
const panopt::TypeTraits* convertible(int32_t dtype) {
    const panopt::TypeTraits* tt = panopt::type_traits(dtype);
    if (!tt) panopt::fail(PANOPT_ERR_INVALID_ARGUMENT, "unknown dtype " + std::to_string(dtype));
    if (!tt->to_f32 || !tt->from_f32)
        panopt::fail(PANOPT_ERR_UNSUPPORTED, std::string("no conversions for ") + tt->name + " in this build");
    return tt;
}
} // namespace

PANOPT_API panopt_status panopt_quantize(int32_t dtype, const float* src, int64_t n_rows, int64_t n_per_row,
                                         void* dst, int64_t dst_bytes) {
    return guarded([&] {
        require(src != nullptr && dst != nullptr, "src or dst is NULL");
        require(n_rows >= 0 && n_per_row >= 0, "negative size");
        const panopt::TypeTraits* tt = convertible(dtype);
        const int64_t rb = panopt::row_bytes(dtype, n_per_row);
        if (rb < 0)
            panopt::fail(PANOPT_ERR_INVALID_ARGUMENT, "rows of " + std::to_string(n_per_row) +
                                                          " elements are not a whole number of " + tt->name +
                                                          " blocks (" + std::to_string(tt->block_elems) + ")");
        require(rb == 0 || n_rows <= INT64_MAX / rb, "size overflows");
        if (dst_bytes != n_rows * rb)
            panopt::fail(PANOPT_ERR_INVALID_ARGUMENT, "dst_bytes is " + std::to_string(dst_bytes) + ", expected " +
                                                          std::to_string(n_rows * rb));
        // the reference's bytes, through the fastest implementation this CPU has (kernels.h)
        const auto quantize = panopt::kernels_for_isa(PANOPT_ISA_AUTO)->type[dtype].quantize_weights;
        for (int64_t r = 0; r < n_rows; r++)
            quantize(src + r * n_per_row, static_cast<char*>(dst) + r * rb, n_per_row);
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_dequantize(int32_t dtype, const void* src, int64_t src_bytes, int64_t n, float* dst) {
    return guarded([&] {
        require(src != nullptr && dst != nullptr, "src or dst is NULL");
        const panopt::TypeTraits* tt = convertible(dtype);
        const int64_t rb = panopt::row_bytes(dtype, n);
        if (rb < 0)
            panopt::fail(PANOPT_ERR_INVALID_ARGUMENT, std::to_string(n) + " elements are not a whole number of " +
                                                          tt->name + " blocks");
        if (src_bytes != rb)
            panopt::fail(PANOPT_ERR_INVALID_ARGUMENT,
                         "src_bytes is " + std::to_string(src_bytes) + ", expected " + std::to_string(rb));
        tt->to_f32(src, dst, n);
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_backend_create(const panopt_backend_options* options, panopt_backend** out_backend) {
    return guarded([&] {
        require(out_backend != nullptr, "out_backend is NULL");
        *out_backend = nullptr;
        panopt_backend_options o = read_struct(options, "options");
        *out_backend = panopt::create_backend(o).release();
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_backend_get_info(const panopt_backend* backend, panopt_backend_info* out_info) {
    return guarded([&] {
        require(backend != nullptr, "backend is NULL");
        require(out_info != nullptr, "out_info is NULL");
        int32_t size = out_info->struct_size;
        require(size >= (int32_t)sizeof(int32_t), "out_info.struct_size is too small");
        panopt_backend_info info{};
        info.struct_size = (int32_t)sizeof(info);
        backend->describe(info);
        // fill what the caller's struct holds, keeping its struct_size
        const size_t n = size < (int32_t)sizeof(info) ? (size_t)size : sizeof(info);
        std::memcpy(reinterpret_cast<char*>(out_info) + sizeof(int32_t), reinterpret_cast<const char*>(&info) + sizeof(int32_t),
                    n - sizeof(int32_t));
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_backend_free(panopt_backend* backend) {
    return guarded([&] {
        if (!backend) return PANOPT_OK;
        const int64_t live = backend->live_models.load();
        if (live != 0)
            panopt::fail(PANOPT_ERR_STATE, std::to_string(live) + " model(s) on this backend are not freed yet");
        delete backend;
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_model_create(panopt_backend* backend, const panopt_config* config,
                                             panopt_model** out_model) {
    return guarded([&] {
        require(out_model != nullptr, "out_model is NULL");
        *out_model = nullptr;
        require(backend != nullptr, "backend is NULL");
        panopt_config c = read_struct(config, "config");
        panopt::validate_config(c);
        std::unique_ptr<panopt_model> m(new panopt_model());
        m->backend = backend;
        m->cfg = c;
        m->layers.resize((size_t)c.num_hidden_layers * panopt::N_LAYER_KINDS);
        backend->live_models.fetch_add(1);
        *out_model = m.release();
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_model_set_tensor(panopt_model* model, int32_t kind, int32_t layer, int32_t dtype,
                                                 const void* data, int64_t nbytes) {
    return guarded([&] {
        using panopt::fail;
        require(model != nullptr, "model is NULL");
        require(data != nullptr, "data is NULL");
        if (model->finalized) fail(PANOPT_ERR_STATE, "model is already finalized");
        const panopt::TypeTraits* tt = panopt::type_traits(dtype);
        if (!tt) fail(PANOPT_ERR_INVALID_ARGUMENT, "unknown dtype " + std::to_string(dtype));
        int64_t rows, cols;
        if (!panopt::kind_shape(model->cfg, kind, rows, cols))
            fail(PANOPT_ERR_INVALID_ARGUMENT, "unknown tensor kind " + std::to_string(kind));
        panopt::TensorRef* slot = model->slot(kind, layer);
        if (!slot)
            fail(PANOPT_ERR_INVALID_ARGUMENT,
                 std::string("bad layer ") + std::to_string(layer) + " for tensor " + panopt::kind_name(kind) +
                     (kind < panopt::LAYER_KIND_BASE ? " (model-level tensors take layer -1)"
                                                     : " (must be in [0, num_hidden_layers))"));
        const bool vector = rows == 1 && kind != PANOPT_T_EMBED_TOKENS && kind != PANOPT_T_HEAD_WEIGHT &&
                            kind != PANOPT_T_PROJECT_IN && kind != PANOPT_T_PROJECT_OUT;
        if (vector && tt->block_elems != 1)
            fail(PANOPT_ERR_UNSUPPORTED, std::string("tensor ") + panopt::kind_name(kind) + " is a vector and must be " +
                                             "of a one-element type, not " + tt->name);
        if (!model->backend->supports_dtype(dtype))
            fail(PANOPT_ERR_UNSUPPORTED, std::string("this backend does not compute with ") + tt->name + " weights");
        const int64_t rb = panopt::row_bytes(dtype, cols);
        if (rb < 0)
            fail(PANOPT_ERR_INVALID_ARGUMENT, std::string("tensor ") + panopt::kind_name(kind) + ": rows of " +
                                                  std::to_string(cols) + " elements are not a whole number of " +
                                                  tt->name + " blocks (" + std::to_string(tt->block_elems) + ")");
        const int64_t expect = rows * rb; // rows, cols < 2^31 and rb <= 4 * cols: no overflow
        if (nbytes != expect)
            fail(PANOPT_ERR_INVALID_ARGUMENT, std::string("tensor ") + panopt::kind_name(kind) + " has " +
                                                  std::to_string(nbytes) + " bytes, expected " + std::to_string(expect) +
                                                  " (" + std::to_string(rows) + " x " + std::to_string(cols) + " " +
                                                  tt->name + ")");
        panopt::TensorRef t;
        t.data = data;
        t.source = data;
        t.dtype = dtype;
        t.rows = rows;
        t.cols = cols;
        t.row_bytes = rb;
        model->backend->adopt_tensor(*model, kind, t); // may repack into its own copy (model.h)
        *slot = std::move(t);
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_model_tensor_borrowed(const panopt_model* model, int32_t kind, int32_t layer,
                                                      int32_t* out_borrowed) {
    return guarded([&] {
        require(model != nullptr, "model is NULL");
        require(out_borrowed != nullptr, "out_borrowed is NULL");
        const panopt::TensorRef* slot = const_cast<panopt_model*>(model)->slot(kind, layer);
        if (!slot) panopt::fail(PANOPT_ERR_INVALID_ARGUMENT, "unknown tensor kind " + std::to_string(kind) +
                                                                 " or bad layer " + std::to_string(layer));
        if (!slot->data) panopt::fail(PANOPT_ERR_STATE, std::string("tensor ") + panopt::kind_name(kind) + " is not set");
        *out_borrowed = slot->own ? 0 : 1;
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_model_finalize(panopt_model* model) {
    return guarded([&] {
        require(model != nullptr, "model is NULL");
        if (model->finalized) return PANOPT_OK;
        try {
            model->finalize();
        } catch (const std::invalid_argument& e) {
            panopt::fail(PANOPT_ERR_STATE, e.what());
        }
        try {
            model->resources = model->backend->prepare_model(*model); // e.g. the weights' device copy
        } catch (...) {
            model->finalized = false; // complete but not usable: finalize may be retried
            throw;
        }
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_model_free(panopt_model* model) {
    return guarded([&] {
        if (!model) return PANOPT_OK;
        panopt_backend* backend = model->backend;
        delete model; // its resources (device memory) go while the backend still counts it
        backend->live_models.fetch_sub(1);
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_session_create(const panopt_model* model, const panopt_session_options* options,
                                               panopt_session** out_session) {
    return guarded([&] {
        require(out_session != nullptr, "out_session is NULL");
        *out_session = nullptr;
        require(model != nullptr, "model is NULL");
        panopt_session_options o = read_struct(options, "options");
        if (!model->finalized) panopt::fail(PANOPT_ERR_STATE, "model is not finalized");
        std::unique_ptr<panopt_session> s(new panopt_session());
        panopt::session_init(s.get(), model, o);
        *out_session = s.release();
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_session_free(panopt_session* session) {
    return guarded([&] {
        delete session;
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_session_reset(panopt_session* session) {
    return guarded([&] {
        require(session != nullptr, "session is NULL");
        session->past = 0;
        session->cache_batch = 0;
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_session_copy(const panopt_session* src, panopt_session* dst) {
    return guarded([&] {
        require(src && dst, "session is NULL");
        if (src == dst) return PANOPT_OK;
        require(src->model == dst->model, "sessions belong to different models");
        if (src->cache_batch > dst->max_batch || src->past > dst->max_seq_len)
            panopt::fail(PANOPT_ERR_CAPACITY, "destination session is too small for the source cache");
        dst->exec->cache_copy_from(*src->exec, src->cache_batch, src->past);
        dst->past = src->past;
        dst->cache_batch = src->cache_batch;
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_session_reorder(panopt_session* session, const int32_t* src_rows, int32_t n) {
    return guarded([&] {
        require(session != nullptr, "session is NULL");
        panopt::reorder(session, src_rows, n);
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_session_cache_info(const panopt_session* session, int32_t* out_past_len,
                                                   int32_t* out_batch) {
    return guarded([&] {
        require(session != nullptr, "session is NULL");
        require(out_past_len || out_batch, "both outputs are NULL");
        if (out_past_len) *out_past_len = session->past;
        if (out_batch) *out_batch = session->past > 0 ? session->cache_batch : 0;
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_session_read_cache(const panopt_session* session, int32_t layer, int32_t which,
                                                   float* out, int64_t out_capacity) {
    return guarded([&] {
        require(session != nullptr, "session is NULL");
        require(out != nullptr, "out is NULL");
        const panopt_config& c = session->model->cfg;
        require(layer >= 0 && layer < c.num_hidden_layers, "layer out of range");
        require(which == 0 || which == 1, "which must be 0 (keys) or 1 (values)");
        const int32_t past = session->past, B = session->past > 0 ? session->cache_batch : 0;
        const int64_t need = (int64_t)B * c.num_attention_heads * past * (c.hidden_size / c.num_attention_heads);
        if (out_capacity < need)
            panopt::fail(PANOPT_ERR_CAPACITY,
                         "out_capacity " + std::to_string(out_capacity) + " < required " + std::to_string(need));
        session->exec->cache_read(layer, which, B, past, out);
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_forward(panopt_session* session, const panopt_forward_args* args) {
    return guarded([&] {
        require(session != nullptr, "session is NULL");
        panopt_forward_args a = read_struct(args, "args");
        panopt::forward(session, a);
        return PANOPT_OK;
    });
}

} // extern "C"
