/*
 * panopt.h — the one C API of the Panopt native library.
 *
 * Conventions
 *  - Every function returns a panopt_status (0 = PANOPT_OK) except the two string getters.
 *    On failure panopt_last_error() returns a message for the calling thread; it stays valid
 *    until the next failing call on that thread.
 *  - No C++ type, exception or allocator crosses this boundary.
 *  - Buffers passed in are borrowed: the library never frees them. Weight buffers given to
 *    panopt_model_set_tensor() must stay valid and unchanged until panopt_model_free(), unless
 *    panopt_model_tensor_borrowed() says the model keeps its own copy.
 *    Other input/output buffers are only used during the call.
 *  - Objects the library allocates (backend, model, session) are released with their *_free call.
 *  - Objects: a backend (CPU kernels + worker pool) is created first; models are created on a
 *    backend; sessions (KV cache, scratch) on a model. Each must be freed before its parent.
 *  - Thread-safety: backends and finalized models are immutable to callers and may be shared by
 *    any number of threads, each using its own session. A session must not be used by two
 *    threads at once.
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
#define PANOPT_ABI_VERSION 7

typedef int32_t panopt_status;
enum {
    PANOPT_OK = 0,
    PANOPT_ERR_INVALID_ARGUMENT = 1, /* bad pointer, size, enum value or shape */
    PANOPT_ERR_OUT_OF_MEMORY = 2,    /* an allocation failed */
    PANOPT_ERR_STATE = 3,            /* wrong object state (model not finalized, cache batch mismatch, objects still alive) */
    PANOPT_ERR_CAPACITY = 4,         /* session cache or buffer too small for the request */
    PANOPT_ERR_UNSUPPORTED = 5,      /* feature, ISA, backend or weight type not available in this build / on this machine */
    PANOPT_ERR_INTERNAL = 6          /* a bug: please report with panopt_last_error() */
};

/*
 * Weight types: X(NAME, code, elements per block, bytes per block). This list is the one definition
 * of each type's storage size: the library's type-traits table (src/dtype.cpp) and the Java
 * bindings' constants (bindings/tools/gen_downcalls.py) are both generated from it. A tensor row
 * of n elements takes n / elements-per-block * bytes-per-block bytes (n a multiple of the block).
 * The Q* types are ggml's block formats, byte for byte (layouts in src/quant/blocks.h): Q8_0..Q6_K
 * are weight formats; Q8_1 and Q8_K are the formats activations are quantized to for the integer
 * dot products with Q4_1/Q5_1 and the K-quants (accepted as weights too). Products with F32/F16/BF16
 * weights compute in f32; products with Q* weights quantize each activation row per block to 8 bits.
 */
#define PANOPT_DTYPE_LIST(X) \
    X(F32, 0, 1, 4)          \
    X(F16, 1, 1, 2)          \
    X(BF16, 2, 1, 2)         \
    X(Q8_0, 3, 32, 34)       \
    X(Q4_0, 4, 32, 18)       \
    X(Q4_1, 5, 32, 20)       \
    X(Q5_0, 6, 32, 22)       \
    X(Q5_1, 7, 32, 24)       \
    X(Q4_K, 8, 256, 144)     \
    X(Q5_K, 9, 256, 176)     \
    X(Q6_K, 10, 256, 210)    \
    X(Q8_1, 11, 32, 36)      \
    X(Q8_K, 12, 256, 292)
enum {
#define PANOPT_DTYPE_ENUM_(name, code, block_elems, block_bytes) PANOPT_DTYPE_##name = code,
    PANOPT_DTYPE_LIST(PANOPT_DTYPE_ENUM_)
#undef PANOPT_DTYPE_ENUM_
    PANOPT_DTYPE_COUNT = 13 /* number of entries in PANOPT_DTYPE_LIST (codes are 0..COUNT-1) */
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

/* Instruction-set level of the CPU kernels. The x86 levels (AVX2 .. AMX) each include the ones below
 * them; NEON is AArch64's own level, beside SCALAR only (never compare it with the x86 codes). */
enum {
    PANOPT_ISA_AUTO = 0,   /* best the CPU supports */
    PANOPT_ISA_SCALAR = 1, /* portable reference kernels */
    PANOPT_ISA_AVX2 = 2,   /* AVX2 + FMA + F16C */
    PANOPT_ISA_AVX512 = 3, /* AVX-512 F/BW/VL/DQ (+FMA, F16C) */
    PANOPT_ISA_AVX512_VNNI = 4, /* AVX512 + AVX512-VNNI: int8 products by vpdpbusd */
    PANOPT_ISA_AMX = 5,         /* AVX512_VNNI + AMX-TILE/AMX-INT8: prompt products on tiles (tdpbssd); see panopt_cpu_isa */
    PANOPT_ISA_NEON = 6         /* AArch64 Advanced SIMD; the block formats' decode products by sdot where the CPU has
                                   the dot-product extension (Armv8.2 DotProd) */
};

/* Kinds of compute backend. The CUDA backend lives in libpanopt_cuda.so, which libpanopt loads from
 * its own directory (or the file $PANOPT_CUDA_LIBRARY names) only when such a backend is created;
 * creating one is PANOPT_ERR_UNSUPPORTED, with a message naming what is missing, when that library,
 * the NVIDIA driver (580+) or the device is not there. */
enum {
    PANOPT_BACKEND_CPU = 0, /* this library's CPU kernels and worker pool */
    PANOPT_BACKEND_CUDA = 1 /* an NVIDIA GPU of compute capability 8.0 or newer (libpanopt_cuda.so) */
};

/*
 * Extensible structs. Every struct the caller passes in starts with `struct_size`, set to
 * sizeof(the struct) as the caller's header declares it. A later library version that appends
 * fields reads only the first struct_size bytes and treats the missing fields as 0; a caller
 * built against a newer header may pass a larger struct as long as the bytes this library does
 * not know are all zero. Smaller than the first published size (the sizeof in ABI version 2)
 * is an error.
 */

/* Model hyper-parameters; the caller derives them from config.json (HF names in comments). */
typedef struct panopt_config {
    int32_t struct_size;             /* sizeof(panopt_config) */
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
    int32_t keep_weight_layout;      /* 1 = every weight stays borrowed as given; 0 = the backend may keep its
                                        own copy in a faster layout (CPU: block formats in 8-row groups) */
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

typedef struct panopt_backend panopt_backend; /* a compute device and its workers, shared by models */
typedef struct panopt_model panopt_model;     /* weights + config on one backend; immutable once finalized */
typedef struct panopt_session panopt_session; /* KV cache and scratch memory of one caller */

typedef struct panopt_backend_options {
    int32_t struct_size; /* sizeof(panopt_backend_options) */
    int32_t kind;        /* PANOPT_BACKEND_* */
    int32_t n_threads;   /* CPU: threads that run a parallel region, a calling thread included
                            (the pool starts n_threads - 1 workers); 0 = number of online CPUs; must be 0
                            for CUDA */
    int32_t isa;         /* CPU: PANOPT_ISA_*; AUTO picks the best; an unsupported level is an error; must
                            be AUTO (0) for CUDA */
    int32_t device;      /* device index for accelerator backends (CUDA: the CUDA runtime's ordinal, as
                            CUDA_VISIBLE_DEVICES numbers them); must be 0 for the CPU */
    int32_t reserved;    /* must be 0 */
} panopt_backend_options;

/* What a backend resolved its options to (filled by panopt_backend_get_info). */
typedef struct panopt_backend_info {
    int32_t struct_size; /* sizeof(panopt_backend_info) as the caller knows it; the library fills what fits */
    int32_t kind;        /* PANOPT_BACKEND_* */
    int32_t n_threads;   /* threads per parallel region (workers + the calling thread); CUDA: 1 */
    int32_t isa;         /* CPU: the PANOPT_ISA_* level in use (never AUTO); CUDA: AUTO (0) */
} panopt_backend_info;

typedef struct panopt_session_options {
    int32_t struct_size; /* sizeof(panopt_session_options) */
    int32_t max_batch;   /* rows the KV cache holds (>= 1) */
    int32_t max_seq_len; /* cache capacity in positions, past + new (1..max_position_embeddings) */
    int32_t cache_dtype; /* storage of cached keys/values: PANOPT_DTYPE_F32 (0), F16 or Q8_0 (head_dim a
                            multiple of 32); reads (panopt_session_read_cache) are always f32 */
    int32_t compute_dtype; /* PANOPT_DTYPE_F32 (0): every product in f32 (exact: the f32 conformance
                            tolerance holds). PANOPT_DTYPE_BF16: passes over 2 or more positions per row
                            (prompts, scored texts) with F32/F16/BF16 weights may round activations and
                            weights to bf16 and sum the products in f32 (relative error <= 2^-7 of
                            sum |x w| per output), where the backend has bf16 products (the CPU: AVX512_BF16
                            at kernel level AVX512_VNNI or AMX); elsewhere, and in decode steps, f32 */
} panopt_session_options;

/*
 * One forward pass over `seq_len` new positions of `batch` rows.
 * Position ids follow HF: pos = cumsum(mask) * mask - 1 over the whole mask (past + new), then
 * the last seq_len entries; embedding row = pos + 2 (padding positions use row 1).
 * Attention: key j is visible to query i (absolute index past+i) iff mask[j] == 1 and j <= past+i.
 * A query that sees no key attends uniformly to all past+seq_len keys (HF's finfo.min masking).
 * All cached rows share one past length in this version; per-row lengths (continuous batching)
 * are meant to arrive as new trailing fields.
 */
typedef struct panopt_forward_args {
    int32_t struct_size;            /* sizeof(panopt_forward_args) */
    int32_t batch;                  /* rows; with use_cache and past_len > 0 it must equal the cache's batch */
    int32_t seq_len;                /* new positions per row (>= 1) */
    int32_t use_cache;              /* 1: attend over the session cache and append the new keys/values; 0: cache untouched, past_len = 0 */
    const int32_t* input_ids;       /* [batch, seq_len] in [0, vocab_size); NULL iff inputs_embeds is set */
    const float* inputs_embeds;     /* [batch, seq_len, word_embed_proj_dim] (before project_in); or NULL */
    const int32_t* attention_mask;  /* [batch, past_len + seq_len] of 0/1, past_len = use_cache ? cached : 0; NULL = all ones */
    const float* head_mask;         /* [num_hidden_layers, num_attention_heads] multiplies attention probs; or NULL */
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
/* Highest PANOPT_ISA_* level this CPU and build support. On a CPU with AMX, this call, a backend with
 * isa AUTO or PANOPT_ISA_AMX asks Linux once for the process's tile state (arch_prctl); Linux then
 * refuses later sigaltstack() stacks too small for the larger signal frame. A backend that names a
 * lower level never asks. */
PANOPT_API int32_t panopt_cpu_isa(void);
/* sizeof the struct of this header named `name` ("panopt_config", ...) as the library was built;
 * -1 for an unknown name. Bindings check their layouts against it when they load the library. */
PANOPT_API int64_t panopt_struct_size(const char* name);

/* Quantizes n_rows rows of n_per_row f32 values (row-major, contiguous) to `dtype`, giving the bytes
 * of the type's reference quantizer (for ggml's formats those of ggml's quantize_row_*_ref) with the
 * fastest implementation this CPU runs (the K-quants' searches vectorized with AVX2). n_per_row must be
 * a multiple of the type's block; dst_bytes must equal n_rows * row bytes. Pure: safe to call from
 * several threads on disjoint rows. */
PANOPT_API panopt_status panopt_quantize(int32_t dtype, const float* src, int64_t n_rows, int64_t n_per_row,
                                         void* dst, int64_t dst_bytes);
/* The inverse: n elements (a multiple of the block) of `dtype` from src (src_bytes = their storage size)
 * to f32. */
PANOPT_API panopt_status panopt_dequantize(int32_t dtype, const void* src, int64_t src_bytes, int64_t n,
                                           float* dst);

/* Backend lifecycle. A backend owns its workers; every session of every model on it shares them
 * (concurrent sessions queue their parallel regions on the one pool). Thread-safe. */
PANOPT_API panopt_status panopt_backend_create(const panopt_backend_options* options, panopt_backend** out_backend);
PANOPT_API panopt_status panopt_backend_get_info(const panopt_backend* backend, panopt_backend_info* out_info);
/* Frees the backend and joins its workers. Fails with PANOPT_ERR_STATE while models on it exist.
 * NULL is a no-op. */
PANOPT_API panopt_status panopt_backend_free(panopt_backend* backend);

/* Model lifecycle: create on a backend from a config, set every required tensor, finalize, use,
 * free. The backend must outlive the model. */
PANOPT_API panopt_status panopt_model_create(panopt_backend* backend, const panopt_config* config,
                                             panopt_model** out_model);
/* `data` holds the tensor of `kind` in `dtype`, `nbytes` long: the kind's shape, row by row, each
 * row of n elements taking n / block_elems * block_bytes bytes (PANOPT_DTYPE_LIST); nbytes must
 * equal that size. One-dimensional tensors (biases, LayerNorm) must be of a one-element-block type. */
PANOPT_API panopt_status panopt_model_set_tensor(panopt_model* model, int32_t kind, int32_t layer,
                                                 int32_t dtype, const void* data, int64_t nbytes);
/* Whether the model still reads the buffer the last panopt_model_set_tensor() of (kind, layer)
 * passed: *out_borrowed = 1 if so (the buffer must then outlive the model), 0 if the model keeps its
 * own copy (the CPU backend keeps block-format weights of its products in 8-row groups, a layout its
 * kernels read faster), so the caller may release the buffer once set_tensor has returned. */
PANOPT_API panopt_status panopt_model_tensor_borrowed(const panopt_model* model, int32_t kind, int32_t layer,
                                                      int32_t* out_borrowed);
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
/* Reorders the rows of the cache in place (beam search; HF's _reorder_cache): afterwards the cache
 * holds n rows of the same past length, row i holding what row src_rows[i] held before. Sources may
 * repeat (one beam continued twice), be left out (n below the cached batch drops rows) or n may
 * exceed the cached batch (up to max_batch: one prompt's cache expanded to several beams). Only rows
 * whose source differs from their index are copied, each once, through a one-row temporary per
 * cycle of the permutation. Errors, which leave the cache unchanged: a src_rows[i] outside
 * [0, cached batch) or n < 1 (PANOPT_ERR_INVALID_ARGUMENT), an empty cache (PANOPT_ERR_STATE),
 * n > max_batch (PANOPT_ERR_CAPACITY). */
PANOPT_API panopt_status panopt_session_reorder(panopt_session* session, const int32_t* src_rows, int32_t n);
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
