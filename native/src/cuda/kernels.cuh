// kernels.cuh — the recorded ops: each one's parameter struct (compared byte for byte between passes,
// so it holds everything its launches use apart from staged inputs) and the function that launches
// it on the pass's stream. Defined one op family per file: ops_elementwise.cu, ops_norm.cu,
// ops_linear.cu, ops_attention.cu.
#ifndef PANOPT_CUDA_KERNELS_CUH
#define PANOPT_CUDA_KERNELS_CUH

#include "executor.cuh"

namespace panopt {
namespace cuda {

// ---- ops_elementwise.cu ----
struct CopyInP { // dst = staged floats (inputs_embeds)
    uint64_t in_off;
    float* dst;
    int64_t n;
};
void run_copy_in(const CopyInP& p, const PassCtx& c);

struct EmbedP { // out[r] (+)= table[ids[r]] (ids staged int32)
    DevTensor table;
    uint64_t ids_off;
    int64_t M, width;
    float* out;
    int32_t accumulate;
};
void run_embed(const EmbedP& p, const PassCtx& c);

struct ActP {
    int32_t act;
    float* x;
    int64_t n;
};
void run_activation(const ActP& p, const PassCtx& c);

struct AddP {
    float* y;
    const float* x;
    int64_t n;
};
void run_add(const AddP& p, const PassCtx& c);

struct GatherP { // dst[i] = src[rows[i]] (rows staged int64)
    const float* src;
    uint64_t rows_off;
    int64_t R, width;
    float* dst;
};
void run_gather(const GatherP& p, const PassCtx& c);

struct ToHostP { // pinned out + out_off = src (bytes); src in the temp region when src_temp
    const void* src;
    uint64_t src_off; // with src_temp: the offset in PassCtx::temp
    int32_t src_temp;
    uint64_t out_off;
    int64_t bytes;
};
void run_to_host(const ToHostP& p, const PassCtx& c);

// ---- ops_norm.cu ----
struct LayerNormP {
    const float* x;
    float* y;
    int64_t R, n;
    const void* w;
    const void* b;
    int32_t wdt, bdt;
    float eps;
};
void run_layernorm(const LayerNormP& p, const PassCtx& c);

// ---- ops_linear.cu ----
enum LinearPath : int32_t {
    LIN_GEMV = 0,     // M <= kGemvMaxRows: one warp per output feature, f32 (float weights) or dp4a (blocks)
    LIN_SIMT_F32 = 1, // F32 weights: tiled f32 FMA
    LIN_MMA = 2       // F16/BF16: split activations on tensor cores; Q8_0/Q4_0: int8 tensor cores
};
constexpr int64_t kGemvMaxRows = 8;

struct LinearP {
    const float* x;
    int64_t M, K, N;
    DevTensor w;
    const void* bias;
    int32_t bdt;
    int32_t act; // ACT_NONE or a PANOPT_ACT_* fused into the epilogue
    int32_t path;
    float* y;
    // Temporaries, at these offsets of PassCtx::temp (the pointers below are set when the op runs):
    uint64_t a_off, scale_off;
    void* a;        // MMA F16/BF16: the split activations [planes][M][Kp]; blocks: Q8_0 activations [M][K]
    float* a_scale; // MMA F16: per-row inverse scale [M]; blocks: activation block scales [M][K/32]
};
// Temporary device bytes a product needs (LinearP::a and a_scale).
void linear_plan(LinearP& p, size_t& a_bytes, size_t& scale_bytes);
void run_linear(const LinearP& p, const PassCtx& c);
// Raises the kernels' dynamic shared memory limits (once per device and process).
void linear_configure(const cudaDeviceProp& props);

// ---- ops_attention.cu ----
// Cached keys or values as the kernels read them: element d of position j of head h of row b.
struct KvView {
    const unsigned char* base;
    int64_t pos_stride, head_stride, batch_stride; // bytes
    int32_t dtype;      // F32, F16 or Q8_0 (ggml blocks of 32)
    int32_t unused = 0; // no padding: compared byte for byte within AttnP
};
static_assert(std::has_unique_object_representations<KvView>::value, "KvView must have no padding");

struct KvWriteP { // stores the new keys and values at positions past.. (past staged)
    const float* k;
    const float* v;
    unsigned char* kc; // the layer's caches (KvView layout)
    unsigned char* vc;
    int32_t dtype;
    int64_t pos_stride, head_stride, batch_stride;
    int64_t B, S, NH, HD, H;
    uint64_t dyn_off;
};
void run_kv_write(const KvWriteP& p, const PassCtx& c);

enum AttnPath : int32_t {
    ATT_FLASH = 0,    // S > 1: tiled, online softmax
    ATT_DECODE = 1,   // S == 1: split over the keys, then a combine
    ATT_EXPLICIT = 2  // the probabilities are wanted (output_attentions): whole rows in device memory
};

struct AttnP {
    int32_t path;
    int64_t B, S, NH, HD, H;
    int64_t T_rec;       // ATT_EXPLICIT: past + S at recording (its probability rows are that long)
    int64_t max_keys;    // upper bound of T: the cache capacity, or S without the cache
    int64_t mask_stride; // elements per row of the staged mask
    const float* q;
    float scaling;
    KvView k, v;
    uint64_t dyn_off;   // AttnDyn
    uint64_t mask_off;  // uint8 [B][mask_stride]
    uint64_t first_off; // int32 [B]: first visible key of the row (T when none)
    uint64_t hm_off;    // float [NH]: the layer's head mask (ones without one)
    float* ctx;
    uint64_t probs_off; // ATT_EXPLICIT: [B][NH][S][T_rec] at this offset of PassCtx::temp
    uint64_t part_off;  // ATT_DECODE: [B][NH][splits][HD + 2] likewise
    float* probs;       // set when the op runs
    float* part;
    int64_t splits;
};
// Splits of the decode kernel for up to max_keys keys; smem bytes of the flash kernel.
int64_t attention_decode_splits(int64_t max_keys);
bool attention_flash_fits(int64_t HD, const cudaDeviceProp& props);
void run_attention(const AttnP& p, const PassCtx& c);
void attention_configure(const cudaDeviceProp& props);

} // namespace cuda
} // namespace panopt

#endif
