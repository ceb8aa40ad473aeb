// model.h — config + weight table on a backend. Weights are borrowed, not copied: the Java side
// maps the checkpoint file and passes addresses; kernels convert from the stored type on the fly.
// The one exception: a backend may keep its own copy of a weight in a layout its kernels read
// faster (the CPU's 8-row groups of the block formats, quant/rows8.h), made when the tensor is set;
// panopt_model_tensor_borrowed tells the caller, who may then release its buffer.
#ifndef PANOPT_MODEL_H
#define PANOPT_MODEL_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../include/panopt.h"

namespace panopt {

// A weight: `rows` rows of `cols` elements of `dtype`, each row `row_bytes` long (1-D: rows = 1).
struct TensorRef {
    enum Layout : int32_t { ROW_MAJOR = 0, ROWS8 = 8 }; // ROWS8: groups of 8 rows, quant/rows8.h

    const void* data = nullptr;
    int32_t dtype = 0;
    int64_t rows = 0, cols = 0;
    int64_t row_bytes = 0;
    int32_t layout = ROW_MAJOR;
    std::shared_ptr<void> own; // the backend's copy data points into, or NULL: borrowed
    const void* source = nullptr; // the buffer set_tensor was given (== data when borrowed)

    const void* row(int64_t r) const { return static_cast<const char*>(data) + r * row_bytes; }
};

// What a backend keeps for one model beyond the borrowed weights (e.g. their copy in device memory);
// made by panopt_backend::prepare_model at finalize, freed with the model (before its backend).
struct ModelResources {
    virtual ~ModelResources() = default;
};

enum { N_GLOBAL_KINDS = 8, LAYER_KIND_BASE = 16, N_LAYER_KINDS = 16 };

// Throws std::invalid_argument with a message if the config is unusable.
void validate_config(const panopt_config& c);
// Shape of a tensor kind under config c as [rows, cols] (1-D tensors: rows = 1); false if kind is unknown.
bool kind_shape(const panopt_config& c, int32_t kind, int64_t& rows, int64_t& cols);
// Whether config c requires this kind.
bool kind_required(const panopt_config& c, int32_t kind);
const char* kind_name(int32_t kind);

} // namespace panopt

struct panopt_model {
    panopt_backend* backend = nullptr;
    panopt_config cfg{};
    panopt::TensorRef global[panopt::N_GLOBAL_KINDS];
    std::vector<panopt::TensorRef> layers; // [L * N_LAYER_KINDS]
    bool finalized = false;
    std::unique_ptr<panopt::ModelResources> resources; // the backend's, from finalize; or NULL
    // The backend's state while tensors are set (adopt_tensor: e.g. the memory its copies are carved
    // from), or NULL; dropped once the model is finalized (the copies keep their own memory alive).
    std::unique_ptr<panopt::ModelResources> adopting;

    const panopt::TensorRef& g(int32_t kind) const { return global[kind]; }
    const panopt::TensorRef& l(int32_t layer, int32_t kind) const {
        return layers[(size_t)layer * panopt::N_LAYER_KINDS + (kind - panopt::LAYER_KIND_BASE)];
    }
    panopt::TensorRef* slot(int32_t kind, int32_t layer); // NULL if kind/layer invalid
    // Throws std::invalid_argument listing missing/extra tensors.
    void finalize();
};

#endif
