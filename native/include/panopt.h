/*
 * panopt.h — the one C API of the Panopt native library.
 *
 * Conventions
 *  - Every function returns a panopt_status (0 = PANOPT_OK) except the two string getters.
 *    On failure panopt_last_error() returns a message for the calling thread; it stays valid
 *    until the next failing call on that thread.
 *  - No C++ type, exception or allocator crosses this boundary.
 *  - Buffers passed in are borrowed: the library never frees them. Weight buffers given to
 *    panopt_model_set_tensor() must stay valid and unchanged until panopt_model_free().
 *    Other input/output buffers are only used during the call.
 *  - Objects the library allocates (model, session) are released with their *_free call.
 *  - Thread-safety: a finalized model is immutable and may be shared by any number of threads,
 *    each using its own session. A session must not be used by two threads at once.
 *  - Tensors are dense, row-major (last index fastest), little-endian.
 */
#ifndef PANOPT_H
#define PANOPT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define PANOPT_API __declspec(dllexport)
#else
#define PANOPT_API __attribute__((visibility("default")))
#endif

/* ABI version of this header; panopt_abi_version() returns the library's. Bump on any change. */
#define PANOPT_ABI_VERSION 1

typedef int32_t panopt_status;
enum {
    PANOPT_OK = 0,
    PANOPT_ERR_INVALID_ARGUMENT = 1, /* bad pointer, size, enum value or shape */
    PANOPT_ERR_OUT_OF_MEMORY = 2,    /* an allocation failed */
    PANOPT_ERR_STATE = 3,            /* wrong object state (model not finalized, cache batch mismatch) */
    PANOPT_ERR_CAPACITY = 4,         /* session cache or buffer too small for the request */
    PANOPT_ERR_UNSUPPORTED = 5,      /* feature or ISA not available in this build / on this CPU */
    PANOPT_ERR_INTERNAL = 6          /* a bug: please report with panopt_last_error() */
};

/* Element types of weight buffers. Compute is always f32. */
enum {
    PANOPT_DTYPE_F32 = 0,
    PANOPT_DTYPE_F16 = 1, /* IEEE binary16 */
    PANOPT_DTYPE_BF16 = 2 /* bfloat16 */
};

/* Activation functions, named as in Hugging Face's ACT2FN. */
enum {
    PANOPT_ACT_RELU = 0,       /* relu */
    PANOPT_ACT_GELU = 1,       /* gelu, gelu_python (erf form) */
    PANOPT_ACT_GELU_TANH = 2,  /* gelu_new, gelu_pytorch_tanh, gelu_fast, gelu_accurate (tanh form) */
    PANOPT_ACT_QUICK_GELU = 3, /* quick_gelu: x * sigmoid(1.702 x) */
    PANOPT_ACT_SILU = 4,       /* silu, swish */
    PANOPT_ACT_RELU2 = 5,      /* relu2: relu(x)^2 */
    PANOPT_ACT_RELU6 = 6,      /* relu6: min(max(x, 0), 6) */
    PANOPT_ACT_SIGMOID = 7,    /* sigmoid */
    PANOPT_ACT_TANH = 8,       /* tanh */
    PANOPT_ACT_LINEAR = 9,     /* linear: identity */
    PANOPT_ACT_LEAKY_RELU = 10,/* leaky_relu, negative slope 0.01 */
    PANOPT_ACT_MISH = 11,      /* mish: x * tanh(softplus(x)) */
    PANOPT_ACT_GELU_10 = 12,   /* gelu_10: erf gelu clipped to [-10, 10] */
    PANOPT_ACT_LAPLACE = 13    /* laplace: 0.5 (1 + erf((x - 0.707107) / (0.282095 sqrt 2))) */
};

/* Instruction-set level of the CPU kernels. */
enum {
    PANOPT_ISA_AUTO = 0,   /* best the CPU supports */
    PANOPT_ISA_SCALAR = 1, /* portable reference kernels */
    PANOPT_ISA_AVX2 = 2,   /* AVX2 + FMA + F16C */
    PANOPT_ISA_AVX512 = 3  /* AVX-512 F/BW/VL (+FMA, F16C) */
};

/* Model hyper-parameters; the caller derives them from config.json (HF names in comments). */
typedef struct panopt_config {
    int32_t vocab_size;              /* vocab_size: rows of embed_tokens */
    int32_t hidden_size;             /* hidden_size */
    int32_t num_hidden_layers;       /* num_hidden_layers */
    int32_t num_attention_heads;     /* num_attention_heads; must divide hidden_size */
    int32_t ffn_dim;                 /* ffn_dim */
    int32_t max_position_embeddings; /* max_position_embeddings; embed_positions has this + 2 rows */
    int32_t word_embed_proj_dim;     /* word_embed_proj_dim; != hidden_size adds project_in/out */
    int32_t do_layer_norm_before;    /* 1 = pre-LN (x + f(LN(x))), 0 = post-LN (LN(x + f(x))) */
    int32_t enable_bias;             /* 1 = q/k/v/out/fc1/fc2 have biases */
    int32_t layer_norm_elementwise_affine; /* 1 = LayerNorms have weight and bias */
    int32_t has_final_layer_norm;    /* do_layer_norm_before && !_remove_final_layer_norm */
    int32_t activation;              /* PANOPT_ACT_* (activation_function) */
    int32_t head_size;               /* output features of the head (vocab for LM, num_labels, 2 for QA); 0 = no head */
    int32_t head_has_bias;           /* 1 = the head has a bias (qa_outputs) */
    float layer_norm_eps;            /* 1e-5 for OPT (nn.LayerNorm default) */
    int32_t reserved;                /* must be 0 */
} panopt_config;

/* Which weight a panopt_model_set_tensor() call provides. Shapes as in HF ([out, in] for Linear). */
enum {
    /* model-level tensors (layer argument must be -1) */
    PANOPT_T_EMBED_TOKENS = 0,    /* [vocab_size, word_embed_proj_dim] */
    PANOPT_T_EMBED_POSITIONS = 1, /* [max_position_embeddings + 2, hidden_size] */
    PANOPT_T_PROJECT_IN = 2,      /* [hidden_size, word_embed_proj_dim], only if proj != hidden */
    PANOPT_T_PROJECT_OUT = 3,     /* [word_embed_proj_dim, hidden_size], only if proj != hidden */
    PANOPT_T_FINAL_LN_WEIGHT = 4, /* [hidden_size], only if has_final_layer_norm && affine */
    PANOPT_T_FINAL_LN_BIAS = 5,   /* [hidden_size] */
    PANOPT_T_HEAD_WEIGHT = 6,     /* [head_size, word_embed_proj_dim]; the LM head passes embed_tokens again */
    PANOPT_T_HEAD_BIAS = 7,       /* [head_size], only if head_has_bias */
    /* per-layer tensors (layer in [0, num_hidden_layers)) */
    PANOPT_T_Q_WEIGHT = 16,       /* [hidden, hidden] */
    PANOPT_T_Q_BIAS = 17,         /* [hidden], only if enable_bias (same for every *_BIAS of a Linear) */
    PANOPT_T_K_WEIGHT = 18,
    PANOPT_T_K_BIAS = 19,
    PANOPT_T_V_WEIGHT = 20,
    PANOPT_T_V_BIAS = 21,
    PANOPT_T_O_WEIGHT = 22,       /* out_proj */
    PANOPT_T_O_BIAS = 23,
    PANOPT_T_ATTN_LN_WEIGHT = 24, /* self_attn_layer_norm [hidden], only if affine */
    PANOPT_T_ATTN_LN_BIAS = 25,
    PANOPT_T_FC1_WEIGHT = 26,     /* [ffn_dim, hidden] */
    PANOPT_T_FC1_BIAS = 27,       /* [ffn_dim] */
    PANOPT_T_FC2_WEIGHT = 28,     /* [hidden, ffn_dim] */
    PANOPT_T_FC2_BIAS = 29,       /* [hidden] */
    PANOPT_T_FFN_LN_WEIGHT = 30,  /* the layer's final_layer_norm [hidden], only if affine */
    PANOPT_T_FFN_LN_BIAS = 31
};

typedef struct panopt_model panopt_model;     /* weights + config; immutable once finalized */
typedef struct panopt_session panopt_session; /* KV cache, scratch memory, worker threads */

typedef struct panopt_session_options {
    int32_t max_batch;   /* rows the KV cache holds (>= 1) */
    int32_t max_seq_len; /* cache capacity in positions, past + new (1..max_position_embeddings) */
    int32_t n_threads;   /* worker threads incl. the caller; 0 = number of online CPUs */
    int32_t isa;         /* PANOPT_ISA_*; AUTO picks the best; an unsupported level is an error */
} panopt_session_options;

/*
 * One forward pass over `seq_len` new positions of `batch` rows.
 * Position ids follow HF: pos = cumsum(mask) * mask - 1 over the whole mask (past + new), then
 * the last seq_len entries; embedding row = pos + 2 (padding positions use row 1).
 * Attention: key j is visible to query i (absolute index past+i) iff mask[j] == 1 and j <= past+i.
 * A query that sees no key attends uniformly to all past+seq_len keys (HF's finfo.min masking).
 */
typedef struct panopt_forward_args {
    int32_t batch;                  /* rows; with use_cache and past_len > 0 it must equal the cache's batch */
    int32_t seq_len;                /* new positions per row (>= 1) */
    const int32_t* input_ids;       /* [batch, seq_len] in [0, vocab_size); NULL iff inputs_embeds is set */
    const float* inputs_embeds;     /* [batch, seq_len, word_embed_proj_dim] (before project_in); or NULL */
    const int32_t* attention_mask;  /* [batch, past_len + seq_len] of 0/1, past_len = use_cache ? cached : 0; NULL = all ones */
    const float* head_mask;         /* [num_hidden_layers, num_attention_heads] multiplies attention probs; or NULL */
    int32_t use_cache;              /* 1: attend over the session cache and append the new keys/values; 0: cache untouched, past_len = 0 */
    int32_t reserved;               /* must be 0 */
    const int32_t* head_positions;  /* NULL: head at every position; else [batch] position in [0, seq_len) per row */
    float* head_out;                /* [batch, seq_len, head_size], or [batch, head_size] with head_positions; or NULL */
    float* const* hidden_states;    /* NULL or num_hidden_layers + 1 pointers, each NULL or a buffer:
                                       entry 0 = embeddings (after project_in) + positions [batch, seq_len, hidden];
                                       entry i = output of layer i-1 [batch, seq_len, hidden] for i < L;
                                       entry L = after final LN and project_out [batch, seq_len, word_embed_proj_dim] */
    float* const* attentions;       /* NULL or num_hidden_layers pointers, each NULL or
                                       [batch, heads, seq_len, past_len + seq_len] post-softmax (after head_mask) */
} panopt_forward_args;

/* Library identity. Static strings; never NULL. */
PANOPT_API const char* panopt_version(void);
PANOPT_API int32_t panopt_abi_version(void);
/* Message of the last failed call on this thread ("" if none). */
PANOPT_API const char* panopt_last_error(void);
/* Highest PANOPT_ISA_* level this CPU and build support. */
PANOPT_API int32_t panopt_cpu_isa(void);

/* Model lifecycle: create from a config, set every required tensor, finalize, use, free. */
PANOPT_API panopt_status panopt_model_create(const panopt_config* config, panopt_model** out_model);
/* `data` holds `numel` elements of `dtype`; numel must equal the kind's shape product. */
PANOPT_API panopt_status panopt_model_set_tensor(panopt_model* model, int32_t kind, int32_t layer,
                                                 int32_t dtype, const void* data, int64_t numel);
/* Checks that every tensor the config requires is present and no other; the model becomes immutable. */
PANOPT_API panopt_status panopt_model_finalize(panopt_model* model);
/* Frees the model. Sessions of the model must be freed first. NULL is a no-op. */
PANOPT_API panopt_status panopt_model_free(panopt_model* model);

/* Session lifecycle. The model must be finalized and outlive the session. */
PANOPT_API panopt_status panopt_session_create(const panopt_model* model,
                                               const panopt_session_options* options,
                                               panopt_session** out_session);
PANOPT_API panopt_status panopt_session_free(panopt_session* session);
/* Forgets the cached past (past_len = 0). */
PANOPT_API panopt_status panopt_session_reset(panopt_session* session);
/* Copies src's cache into dst (same model; dst capacity >= src's batch and past length). */
PANOPT_API panopt_status panopt_session_copy(const panopt_session* src, panopt_session* dst);
/* Cached positions per row and the batch the cache holds (0 when empty). */
PANOPT_API panopt_status panopt_session_cache_info(const panopt_session* session, int32_t* out_past_len,
                                                   int32_t* out_batch);
/* Copies layer `layer`'s cached keys (which = 0) or values (which = 1), unscaled, into
 * out [batch, num_heads, past_len, head_dim]; out_capacity is out's size in floats. */
PANOPT_API panopt_status panopt_session_read_cache(const panopt_session* session, int32_t layer, int32_t which,
                                                   float* out, int64_t out_capacity);
/* The forward pass (see panopt_forward_args). */
PANOPT_API panopt_status panopt_forward(panopt_session* session, const panopt_forward_args* args);

#ifdef __cplusplus
}
#endif
#endif /* PANOPT_H */
