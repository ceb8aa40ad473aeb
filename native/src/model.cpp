#include "model.h"

#include <cmath>
#include <stdexcept>

namespace panopt {

namespace {
std::string num(int64_t v) { return std::to_string(v); }
} // namespace

void validate_config(const panopt_config& c) {
    auto need = [](bool ok, const char* what) {
        if (!ok) throw std::invalid_argument(std::string("invalid config: ") + what);
    };
    need(c.vocab_size > 0, "vocab_size must be > 0");
    need(c.hidden_size > 0, "hidden_size must be > 0");
    need(c.num_hidden_layers > 0, "num_hidden_layers must be > 0");
    need(c.num_attention_heads > 0, "num_attention_heads must be > 0");
    need(c.hidden_size % (c.num_attention_heads > 0 ? c.num_attention_heads : 1) == 0,
         "num_attention_heads must divide hidden_size");
    need(c.ffn_dim > 0, "ffn_dim must be > 0");
    need(c.max_position_embeddings > 0 && c.max_position_embeddings <= (1 << 24),
         "max_position_embeddings must be in 1..2^24");
    need(c.word_embed_proj_dim > 0, "word_embed_proj_dim must be > 0");
    need(c.do_layer_norm_before == 0 || c.do_layer_norm_before == 1, "do_layer_norm_before must be 0 or 1");
    need(c.enable_bias == 0 || c.enable_bias == 1, "enable_bias must be 0 or 1");
    need(c.layer_norm_elementwise_affine == 0 || c.layer_norm_elementwise_affine == 1,
         "layer_norm_elementwise_affine must be 0 or 1");
    need(c.has_final_layer_norm == 0 || c.has_final_layer_norm == 1, "has_final_layer_norm must be 0 or 1");
    need(c.activation >= PANOPT_ACT_RELU && c.activation <= PANOPT_ACT_LAPLACE, "unknown activation");
    need(c.head_size >= 0, "head_size must be >= 0");
    need(c.head_has_bias == 0 || c.head_has_bias == 1, "head_has_bias must be 0 or 1");
    need(!(c.head_has_bias && c.head_size == 0), "head_has_bias needs head_size > 0");
    need(std::isfinite(c.layer_norm_eps) && c.layer_norm_eps >= 0, "layer_norm_eps must be finite and >= 0");
}

bool kind_shape(const panopt_config& c, int32_t kind, int64_t& rows, int64_t& cols) {
    const int64_t h = c.hidden_size, p = c.word_embed_proj_dim, f = c.ffn_dim;
    rows = 1;
    switch (kind) {
    case PANOPT_T_EMBED_TOKENS: rows = c.vocab_size, cols = p; return true;
    case PANOPT_T_EMBED_POSITIONS: rows = (int64_t)c.max_position_embeddings + 2, cols = h; return true;
    case PANOPT_T_PROJECT_IN: rows = h, cols = p; return true;
    case PANOPT_T_PROJECT_OUT: rows = p, cols = h; return true;
    case PANOPT_T_FINAL_LN_WEIGHT:
    case PANOPT_T_FINAL_LN_BIAS: cols = h; return true;
    case PANOPT_T_HEAD_WEIGHT: rows = c.head_size, cols = p; return true;
    case PANOPT_T_HEAD_BIAS: cols = c.head_size; return true;
    case PANOPT_T_Q_WEIGHT:
    case PANOPT_T_K_WEIGHT:
    case PANOPT_T_V_WEIGHT:
    case PANOPT_T_O_WEIGHT: rows = h, cols = h; return true;
    case PANOPT_T_Q_BIAS:
    case PANOPT_T_K_BIAS:
    case PANOPT_T_V_BIAS:
    case PANOPT_T_O_BIAS:
    case PANOPT_T_ATTN_LN_WEIGHT:
    case PANOPT_T_ATTN_LN_BIAS:
    case PANOPT_T_FC2_BIAS:
    case PANOPT_T_FFN_LN_WEIGHT:
    case PANOPT_T_FFN_LN_BIAS: cols = h; return true;
    case PANOPT_T_FC1_WEIGHT: rows = f, cols = h; return true;
    case PANOPT_T_FC1_BIAS: cols = f; return true;
    case PANOPT_T_FC2_WEIGHT: rows = h, cols = f; return true;
    default: return false;
    }
}

bool kind_required(const panopt_config& c, int32_t kind) {
    const bool proj = c.word_embed_proj_dim != c.hidden_size;
    const bool aff = c.layer_norm_elementwise_affine != 0;
    switch (kind) {
    case PANOPT_T_EMBED_TOKENS:
    case PANOPT_T_EMBED_POSITIONS: return true;
    case PANOPT_T_PROJECT_IN:
    case PANOPT_T_PROJECT_OUT: return proj;
    case PANOPT_T_FINAL_LN_WEIGHT:
    case PANOPT_T_FINAL_LN_BIAS: return c.has_final_layer_norm && aff;
    case PANOPT_T_HEAD_WEIGHT: return c.head_size > 0;
    case PANOPT_T_HEAD_BIAS: return c.head_size > 0 && c.head_has_bias;
    case PANOPT_T_Q_WEIGHT:
    case PANOPT_T_K_WEIGHT:
    case PANOPT_T_V_WEIGHT:
    case PANOPT_T_O_WEIGHT:
    case PANOPT_T_FC1_WEIGHT:
    case PANOPT_T_FC2_WEIGHT: return true;
    case PANOPT_T_Q_BIAS:
    case PANOPT_T_K_BIAS:
    case PANOPT_T_V_BIAS:
    case PANOPT_T_O_BIAS:
    case PANOPT_T_FC1_BIAS:
    case PANOPT_T_FC2_BIAS: return c.enable_bias != 0;
    case PANOPT_T_ATTN_LN_WEIGHT:
    case PANOPT_T_ATTN_LN_BIAS:
    case PANOPT_T_FFN_LN_WEIGHT:
    case PANOPT_T_FFN_LN_BIAS: return aff;
    default: return false;
    }
}

const char* kind_name(int32_t kind) {
    switch (kind) {
    case PANOPT_T_EMBED_TOKENS: return "embed_tokens";
    case PANOPT_T_EMBED_POSITIONS: return "embed_positions";
    case PANOPT_T_PROJECT_IN: return "project_in";
    case PANOPT_T_PROJECT_OUT: return "project_out";
    case PANOPT_T_FINAL_LN_WEIGHT: return "final_layer_norm.weight";
    case PANOPT_T_FINAL_LN_BIAS: return "final_layer_norm.bias";
    case PANOPT_T_HEAD_WEIGHT: return "head.weight";
    case PANOPT_T_HEAD_BIAS: return "head.bias";
    case PANOPT_T_Q_WEIGHT: return "q_proj.weight";
    case PANOPT_T_Q_BIAS: return "q_proj.bias";
    case PANOPT_T_K_WEIGHT: return "k_proj.weight";
    case PANOPT_T_K_BIAS: return "k_proj.bias";
    case PANOPT_T_V_WEIGHT: return "v_proj.weight";
    case PANOPT_T_V_BIAS: return "v_proj.bias";
    case PANOPT_T_O_WEIGHT: return "out_proj.weight";
    case PANOPT_T_O_BIAS: return "out_proj.bias";
    case PANOPT_T_ATTN_LN_WEIGHT: return "self_attn_layer_norm.weight";
    case PANOPT_T_ATTN_LN_BIAS: return "self_attn_layer_norm.bias";
    case PANOPT_T_FC1_WEIGHT: return "fc1.weight";
    case PANOPT_T_FC1_BIAS: return "fc1.bias";
    case PANOPT_T_FC2_WEIGHT: return "fc2.weight";
    case PANOPT_T_FC2_BIAS: return "fc2.bias";
    case PANOPT_T_FFN_LN_WEIGHT: return "final_layer_norm.weight (layer)";
    case PANOPT_T_FFN_LN_BIAS: return "final_layer_norm.bias (layer)";
    default: return "?";
    }
}

} // namespace panopt

panopt::TensorRef* panopt_model::slot(int32_t kind, int32_t layer) {
    using namespace panopt;
    if (kind >= 0 && kind < N_GLOBAL_KINDS) return layer == -1 ? &global[kind] : nullptr;
    if (kind >= LAYER_KIND_BASE && kind < LAYER_KIND_BASE + N_LAYER_KINDS) {
        if (layer < 0 || layer >= cfg.num_hidden_layers) return nullptr;
        return &layers[(size_t)layer * N_LAYER_KINDS + (kind - LAYER_KIND_BASE)];
    }
    return nullptr;
}

void panopt_model::finalize() {
    using namespace panopt;
    std::string missing, extra;
    auto check = [&](int32_t kind, int32_t layer, const TensorRef& t) {
        bool req = kind_required(cfg, kind);
        std::string name = std::string(kind_name(kind)) + (layer >= 0 ? " of layer " + num(layer) : std::string());
        if (req && !t.data) missing += (missing.empty() ? "" : ", ") + name;
        if (!req && t.data) extra += (extra.empty() ? "" : ", ") + name;
    };
    for (int32_t k = 0; k < N_GLOBAL_KINDS; k++) check(k, -1, global[k]);
    for (int32_t l = 0; l < cfg.num_hidden_layers; l++)
        for (int32_t k = 0; k < N_LAYER_KINDS; k++) check(LAYER_KIND_BASE + k, l, this->l(l, LAYER_KIND_BASE + k));
    std::string msg;
    if (!missing.empty()) msg += "missing tensors: " + missing;
    if (!extra.empty()) msg += (msg.empty() ? "" : "; ") + std::string("tensors not used by this config: ") + extra;
    if (!msg.empty()) throw std::invalid_argument(msg);
    finalized = true;
    adopting.reset();
}
