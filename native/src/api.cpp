// api.cpp — the C ABI. Every entry point checks its arguments, catches everything (no C++
// exception crosses the boundary) and records a per-thread message for panopt_last_error().
#include <cstddef>
#include <cstring>
#include <new>
#include <string>

#include "../include/panopt.h"
#include "cpu/kernels.h"
#include "error.h"
#include "model.h"
#include "session.h"

// The Java bindings (bindings/.../Structs.java) write these structs by byte offset: pin the ABI.
static_assert(sizeof(panopt_config) == 64, "panopt_config layout changed: update Structs.java and the ABI version");
static_assert(sizeof(panopt_session_options) == 16, "panopt_session_options layout changed");
static_assert(sizeof(panopt_forward_args) == 80, "panopt_forward_args layout changed");
static_assert(offsetof(panopt_config, layer_norm_eps) == 56, "panopt_config layout changed");
static_assert(offsetof(panopt_forward_args, use_cache) == 40, "panopt_forward_args layout changed");
static_assert(offsetof(panopt_forward_args, attentions) == 72, "panopt_forward_args layout changed");

#ifndef PANOPT_VERSION_STRING
#define PANOPT_VERSION_STRING "0.1.0"
#endif

namespace {

thread_local std::string g_last_error;

panopt_status set_error(panopt_status s, const char* msg) {
    try {
        g_last_error = msg;
    } catch (...) {
        // out of memory while recording the message: leave the old one
    }
    return s;
}

template <class F> panopt_status guarded(F&& f) {
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

#define CHECK_ARG(cond, msg)                                                                                           \
    do {                                                                                                               \
        if (!(cond)) return set_error(PANOPT_ERR_INVALID_ARGUMENT, msg);                                               \
    } while (0)

} // namespace

extern "C" {

PANOPT_API const char* panopt_version(void) { return PANOPT_VERSION_STRING; }
PANOPT_API int32_t panopt_abi_version(void) { return PANOPT_ABI_VERSION; }
PANOPT_API const char* panopt_last_error(void) { return g_last_error.c_str(); }
PANOPT_API int32_t panopt_cpu_isa(void) { return panopt::cpu_best_isa(); }

PANOPT_API panopt_status panopt_model_create(const panopt_config* config, panopt_model** out_model) {
    CHECK_ARG(config, "config is NULL");
    CHECK_ARG(out_model, "out_model is NULL");
    *out_model = nullptr;
    return guarded([&] {
        panopt::validate_config(*config);
        panopt_model* m = new panopt_model();
        m->cfg = *config;
        try {
            m->layers.resize((size_t)config->num_hidden_layers * panopt::N_LAYER_KINDS);
        } catch (...) {
            delete m;
            throw;
        }
        *out_model = m;
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_model_set_tensor(panopt_model* model, int32_t kind, int32_t layer, int32_t dtype,
                                                 const void* data, int64_t numel) {
    CHECK_ARG(model, "model is NULL");
    CHECK_ARG(data, "data is NULL");
    if (model->finalized) return set_error(PANOPT_ERR_STATE, "model is already finalized");
    CHECK_ARG(dtype == PANOPT_DTYPE_F32 || dtype == PANOPT_DTYPE_F16 || dtype == PANOPT_DTYPE_BF16, "unknown dtype");
    return guarded([&] {
        int64_t expect = panopt::kind_numel(model->cfg, kind);
        if (expect < 0) panopt::fail(PANOPT_ERR_INVALID_ARGUMENT, "unknown tensor kind " + std::to_string(kind));
        panopt::TensorRef* slot = model->slot(kind, layer);
        if (!slot)
            panopt::fail(PANOPT_ERR_INVALID_ARGUMENT,
                         std::string("bad layer ") + std::to_string(layer) + " for tensor " + panopt::kind_name(kind) +
                             (kind < panopt::LAYER_KIND_BASE ? " (model-level tensors take layer -1)"
                                                             : " (must be in [0, num_hidden_layers))"));
        if (numel != expect)
            panopt::fail(PANOPT_ERR_INVALID_ARGUMENT, std::string("tensor ") + panopt::kind_name(kind) + " has " +
                                                          std::to_string(numel) + " elements, expected " +
                                                          std::to_string(expect));
        slot->data = data;
        slot->dtype = dtype;
        slot->numel = numel;
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_model_finalize(panopt_model* model) {
    CHECK_ARG(model, "model is NULL");
    if (model->finalized) return PANOPT_OK;
    return guarded([&] {
        try {
            model->finalize();
        } catch (const std::invalid_argument& e) {
            panopt::fail(PANOPT_ERR_STATE, e.what());
        }
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_model_free(panopt_model* model) {
    delete model;
    return PANOPT_OK;
}

PANOPT_API panopt_status panopt_session_create(const panopt_model* model, const panopt_session_options* options,
                                               panopt_session** out_session) {
    CHECK_ARG(model, "model is NULL");
    CHECK_ARG(options, "options is NULL");
    CHECK_ARG(out_session, "out_session is NULL");
    *out_session = nullptr;
    if (!model->finalized) return set_error(PANOPT_ERR_STATE, "model is not finalized");
    return guarded([&] {
        panopt_session* s = new panopt_session();
        try {
            panopt::session_init(s, model, *options);
        } catch (...) {
            delete s;
            throw;
        }
        *out_session = s;
        return PANOPT_OK;
    });
}

PANOPT_API panopt_status panopt_session_free(panopt_session* session) {
    delete session;
    return PANOPT_OK;
}

PANOPT_API panopt_status panopt_session_reset(panopt_session* session) {
    CHECK_ARG(session, "session is NULL");
    session->past = 0;
    session->cache_batch = 0;
    return PANOPT_OK;
}

PANOPT_API panopt_status panopt_session_copy(const panopt_session* src, panopt_session* dst) {
    CHECK_ARG(src && dst, "session is NULL");
    if (src == dst) return PANOPT_OK;
    if (src->model != dst->model) return set_error(PANOPT_ERR_INVALID_ARGUMENT, "sessions belong to different models");
    if (src->cache_batch > dst->opt.max_batch || src->past > dst->opt.max_seq_len)
        return set_error(PANOPT_ERR_CAPACITY, "destination session is too small for the source cache");
    const panopt_config& c = src->model->cfg;
    const int64_t hd = src->head_dim();
    for (int64_t l = 0; l < c.num_hidden_layers; l++)
        for (int64_t b = 0; b < src->cache_batch; b++)
            for (int64_t h = 0; h < c.num_attention_heads; h++) {
                std::memcpy(dst->cache_at(dst->kcache, l, b, h), src->cache_at(src->kcache, l, b, h),
                            (size_t)(src->past * hd) * sizeof(float));
                std::memcpy(dst->cache_at(dst->vcache, l, b, h), src->cache_at(src->vcache, l, b, h),
                            (size_t)(src->past * hd) * sizeof(float));
            }
    dst->past = src->past;
    dst->cache_batch = src->cache_batch;
    return PANOPT_OK;
}

PANOPT_API panopt_status panopt_session_cache_info(const panopt_session* session, int32_t* out_past_len,
                                                   int32_t* out_batch) {
    CHECK_ARG(session, "session is NULL");
    CHECK_ARG(out_past_len || out_batch, "both outputs are NULL");
    if (out_past_len) *out_past_len = session->past;
    if (out_batch) *out_batch = session->past > 0 ? session->cache_batch : 0;
    return PANOPT_OK;
}

PANOPT_API panopt_status panopt_session_read_cache(const panopt_session* session, int32_t layer, int32_t which,
                                                   float* out, int64_t out_capacity) {
    CHECK_ARG(session, "session is NULL");
    CHECK_ARG(out, "out is NULL");
    const panopt_config& c = session->model->cfg;
    CHECK_ARG(layer >= 0 && layer < c.num_hidden_layers, "layer out of range");
    CHECK_ARG(which == 0 || which == 1, "which must be 0 (keys) or 1 (values)");
    const int64_t hd = session->head_dim(), past = session->past, B = session->past > 0 ? session->cache_batch : 0;
    const int64_t need = B * c.num_attention_heads * past * hd;
    if (out_capacity < need)
        return set_error(PANOPT_ERR_CAPACITY, ("out_capacity " + std::to_string(out_capacity) + " < required " +
                                               std::to_string(need))
                                                  .c_str());
    const panopt::FloatBuf& src = which == 0 ? session->kcache : session->vcache;
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < c.num_attention_heads; h++)
            std::memcpy(out + ((b * c.num_attention_heads + h) * past) * hd, session->cache_at(src, layer, b, h),
                        (size_t)(past * hd) * sizeof(float));
    return PANOPT_OK;
}

PANOPT_API panopt_status panopt_forward(panopt_session* session, const panopt_forward_args* args) {
    CHECK_ARG(session, "session is NULL");
    CHECK_ARG(args, "args is NULL");
    return guarded([&] {
        panopt::forward(session, *args);
        return PANOPT_OK;
    });
}

} // extern "C"
