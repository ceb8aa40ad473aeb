// executor.cu — a session on the GPU: recording the ops of a pass (their device work is launched by
// the run_* functions of the ops_*.cu files), staging host inputs and outputs, running the pass
// eagerly or as a captured graph, and the key/value cache outside passes.
#include "executor.cuh"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "../dtype.h"
#include "act.cuh"
#include "kernels.cuh"

namespace panopt {
namespace cuda {

namespace {
constexpr size_t kAlign = 256;
constexpr size_t kMaxGraphs = 8;
size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }
} // namespace

CudaExecutor::CudaExecutor(CudaBackend& backend, const CudaModel& m, const panopt_config& cfg, int32_t max_batch,
                           int32_t max_seq_len, int32_t cache_dtype)
    : be(backend),
      model_(m),
      layers_(cfg.num_hidden_layers),
      heads_(cfg.num_attention_heads),
      head_dim_(cfg.hidden_size / cfg.num_attention_heads),
      hidden_(cfg.hidden_size),
      max_batch_(max_batch),
      max_seq_len_(max_seq_len),
      cache_dt_(cache_dtype),
      cache_rb_(row_bytes(cache_dtype, cfg.hidden_size / cfg.num_attention_heads)) {
    if (cache_dt_ != PANOPT_DTYPE_F32 && cache_dt_ != PANOPT_DTYPE_F16 && cache_dt_ != PANOPT_DTYPE_Q8_0)
        fail(PANOPT_ERR_UNSUPPORTED, "the CUDA backend keeps its cache in F32, F16 or Q8_0");
    const char* g = std::getenv("PANOPT_CUDA_GRAPHS");
    graphs_enabled_ = !(g && std::string(g) == "0");
    if (const char* f = std::getenv("PANOPT_CUDA_STATS")) stats_file_ = f;
    for (int i = 0; i < N_SCRATCH_SLOTS; i++) slot_ptr_[i] = nullptr, slot_n_[i] = 0;
    cache_bytes_ = 2 * (size_t)layers_ * (size_t)max_batch_ * (size_t)heads_ * (size_t)max_seq_len_ * (size_t)cache_rb_;
    std::lock_guard<std::mutex> lock(be.mem_mu);
    be.activate();
    PCU_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    try {
        PCU_CHECK(cudaMalloc(&cache_, cache_bytes_));
        // Positions are written before they are read; zeros keep a never-written tail defined.
        PCU_CHECK(cudaMemsetAsync(cache_, 0, cache_bytes_, stream_));
        PCU_CHECK(cudaStreamSynchronize(stream_));
    } catch (...) {
        if (cache_) cudaFree(cache_);
        cudaStreamDestroy(stream_);
        throw;
    }
}

CudaExecutor::~CudaExecutor() {
    if (!stats_file_.empty()) // a diagnostic: how many passes ran as captured graphs
        if (FILE* f = std::fopen(stats_file_.c_str(), "a")) {
            std::fprintf(f, "passes=%llu captured=%llu replayed=%llu\n", (unsigned long long)pass_count_,
                         (unsigned long long)captured_, (unsigned long long)replayed_);
            std::fclose(f);
        }
    std::lock_guard<std::mutex> lock(be.mem_mu);
    cudaSetDevice(be.device);
    cudaStreamSynchronize(stream_); // errors here are the pass's, already reported
    for (Graph& g : graphs_) cudaGraphExecDestroy(g.exec);
    for (void* p : retired_) cudaFree(p);
    if (arena_) cudaFree(arena_);
    if (cache_) cudaFree(cache_);
    if (pinned_in_) cudaFreeHost(pinned_in_);
    if (pinned_out_) cudaFreeHost(pinned_out_);
    cudaStreamDestroy(stream_);
}

void CudaExecutor::require_pass() const {
    if (!in_pass_) fail(PANOPT_ERR_INTERNAL, "CUDA op called outside begin_pass/end_pass");
}

// ---- device memory of a pass ----

void* CudaExecutor::dev_alloc(size_t bytes) {
    const size_t b = align_up(bytes ? bytes : 1, kAlign);
    if (arena_used_ + b > arena_cap_) grow_arena(b);
    void* p = arena_ + arena_used_;
    arena_used_ += b;
    pass_total_ += b;
    return p;
}

void CudaExecutor::grow_arena(size_t need) {
    // Pointers handed out earlier in this pass stay valid: the old arena is kept until the pass ends.
    // Within a pass the capacity doubles (few allocations); between passes it is set to what the last
    // pass used (see end_pass).
    const size_t cap = in_pass_ || need ? std::max({2 * arena_cap_, pass_total_ + need, (size_t)16 << 20})
                                        : align_up(pass_total_, (size_t)1 << 20);
    unsigned char* p = nullptr;
    {
        std::lock_guard<std::mutex> lock(be.mem_mu);
        PCU_CHECK(cudaMalloc(&p, cap));
    }
    if (arena_) retired_.push_back(arena_);
    arena_ = p;
    arena_cap_ = cap;
    arena_used_ = 0;
    drop_graphs(); // they point into the old arena
}

void CudaExecutor::ensure_pinned(void*& p, size_t& cap, size_t need) {
    if (need <= cap) return;
    const size_t n = std::max({need, 2 * cap, (size_t)64 << 10});
    std::lock_guard<std::mutex> lock(be.mem_mu);
    if (p) cudaFreeHost(p);
    p = nullptr;
    cap = 0;
    PCU_CHECK(cudaHostAlloc(&p, n, cudaHostAllocDefault));
    cap = n;
    drop_graphs();
}

void CudaExecutor::drop_graphs() {
    for (Graph& g : graphs_) cudaGraphExecDestroy(g.exec);
    graphs_.clear();
    prev_sig_.clear();
}

uint64_t CudaExecutor::stage(const void* src, size_t bytes) {
    uint64_t off;
    std::memcpy(stage_alloc(bytes, off), src, bytes);
    return off;
}

unsigned char* CudaExecutor::stage_alloc(size_t bytes, uint64_t& off) {
    off = align_up(in_host_.size(), 16);
    in_host_.resize(off + bytes, 0);
    return in_host_.data() + off;
}

float* CudaExecutor::scratch(int slot, int64_t n) {
    require_pass();
    if (slot < 0 || slot >= N_SCRATCH_SLOTS) fail(PANOPT_ERR_INTERNAL, "bad scratch slot");
    if (slot_ptr_[slot] && slot_n_[slot] >= n) return slot_ptr_[slot];
    slot_ptr_[slot] = static_cast<float*>(dev_alloc((size_t)n * sizeof(float)));
    slot_n_[slot] = n;
    return slot_ptr_[slot];
}

// ---- the pass ----

void CudaExecutor::begin_pass() {
    if (!retired_.empty()) { // a pass that failed before its end
        cudaStreamSynchronize(stream_);
        std::lock_guard<std::mutex> lock(be.mem_mu);
        for (void* p : retired_) cudaFree(p);
        retired_.clear();
    }
    ops_.clear();
    params_.clear();
    in_host_.clear();
    host_copies_.clear();
    out_bytes_ = 0;
    temp_max_ = 0;
    for (int i = 0; i < N_SCRATCH_SLOTS; i++) slot_ptr_[i] = nullptr, slot_n_[i] = 0;
    mask_src_ = nullptr;
    mask_T_ = -1;
    arena_used_ = 0;
    pass_total_ = 0;
    in_pass_ = true;
}

void CudaExecutor::run_ops(const PassCtx& ctx, const unsigned char* pinned_in, size_t in_bytes) {
    if (in_bytes)
        PCU_CHECK(cudaMemcpyAsync(const_cast<unsigned char*>(ctx.in), pinned_in, in_bytes, cudaMemcpyHostToDevice,
                                  ctx.stream));
    for (const OpRec& o : ops_) o.run(&params_[o.word], ctx);
}

void CudaExecutor::end_pass() {
    require_pass();
    in_pass_ = false;
    const size_t in_bytes = in_host_.size();
    unsigned char* dev_in = in_bytes ? static_cast<unsigned char*>(dev_alloc(in_bytes)) : nullptr;
    unsigned char* temp = temp_max_ ? static_cast<unsigned char*>(dev_alloc(temp_max_)) : nullptr;
    ensure_pinned(pinned_in_, pinned_in_cap_, in_bytes);
    ensure_pinned(pinned_out_, pinned_out_cap_, out_bytes_);
    if (in_bytes) std::memcpy(pinned_in_, in_host_.data(), in_bytes);
    const PassCtx ctx{stream_, dev_in, static_cast<unsigned char*>(pinned_out_), temp, &be.props};
    const unsigned char* pin = static_cast<const unsigned char*>(pinned_in_);

    // The pass's signature: every launch's parameters and every buffer its copies touch.
    std::vector<uint64_t> sig;
    sig.reserve(8 + 2 * ops_.size() + params_.size());
    sig.insert(sig.end(), {(uint64_t)ops_.size(), (uint64_t)in_bytes, (uint64_t)out_bytes_, (uint64_t)(uintptr_t)dev_in,
                           (uint64_t)(uintptr_t)pinned_in_, (uint64_t)(uintptr_t)pinned_out_, (uint64_t)(uintptr_t)temp,
                           (uint64_t)temp_max_});
    for (const OpRec& o : ops_) sig.insert(sig.end(), {(uint64_t)(uintptr_t)o.run, (uint64_t)o.words});
    sig.insert(sig.end(), params_.begin(), params_.end());
    uint64_t hash = 1469598103934665603ull; // FNV-1a over the words: most mismatches end here
    for (uint64_t w : sig) hash = (hash ^ w) * 1099511628211ull;
    pass_count_++;

    Graph* replay = nullptr;
    if (graphs_enabled_)
        for (Graph& g : graphs_)
            if (g.hash == hash && g.sig == sig) replay = &g;
    if (replay) {
        replay->last_use = pass_count_;
        PCU_CHECK(cudaGraphLaunch(replay->exec, stream_));
        replayed_++;
    } else if (graphs_enabled_ && retired_.empty() && sig == prev_sig_) {
        // The same pass twice in a row (decode steps): capture it once, replay it from now on.
        cudaGraphExec_t exec = nullptr;
        {
            std::lock_guard<std::mutex> lock(be.mem_mu);
            PCU_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
            cudaGraph_t graph = nullptr;
            try {
                run_ops(ctx, pin, in_bytes);
            } catch (...) {
                cudaStreamEndCapture(stream_, &graph);
                if (graph) cudaGraphDestroy(graph);
                cudaGetLastError();
                throw;
            }
            PCU_CHECK(cudaStreamEndCapture(stream_, &graph));
            const cudaError_t e = cudaGraphInstantiate(&exec, graph, 0);
            cudaGraphDestroy(graph);
            PCU_CHECK(e);
        }
        if (graphs_.size() >= kMaxGraphs) {
            auto lru = std::min_element(graphs_.begin(), graphs_.end(),
                                        [](const Graph& a, const Graph& b) { return a.last_use < b.last_use; });
            cudaGraphExecDestroy(lru->exec);
            graphs_.erase(lru);
        }
        graphs_.push_back(Graph{sig, hash, exec, pass_count_});
        PCU_CHECK(cudaGraphLaunch(exec, stream_));
        captured_++;
    } else {
        run_ops(ctx, pin, in_bytes);
    }
    PCU_CHECK(cudaStreamSynchronize(stream_));
    for (const HostCopy& h : host_copies_)
        std::memcpy(h.dst, static_cast<const unsigned char*>(pinned_out_) + h.off, h.bytes);

    if (!retired_.empty()) {
        {
            std::lock_guard<std::mutex> lock(be.mem_mu);
            for (void* p : retired_) cudaFree(p);
        }
        retired_.clear();
        // The arena grew during the pass: make it hold a whole pass, so that the next one stays in it.
        if (arena_cap_ < pass_total_) {
            grow_arena(0); // nothing of the finished pass is in use: the arena it replaces goes at once
            std::lock_guard<std::mutex> lock(be.mem_mu);
            for (void* p : retired_) cudaFree(p);
            retired_.clear();
        }
        prev_sig_.clear();
    } else {
        prev_sig_.swap(sig);
    }
}

// ---- ops ----

void CudaExecutor::embed(const TensorRef& table, const int32_t* ids, const float* embeds, int64_t M, int64_t width,
                         float* out) {
    require_pass();
    if (embeds) {
        CopyInP p;
        zero_fill(p);
        p.in_off = stage(embeds, (size_t)(M * width) * sizeof(float));
        p.dst = out;
        p.n = M * width;
        emit<CopyInP, run_copy_in>(p);
        return;
    }
    embed_rows(table, ids, M, width, out, 0);
}

void CudaExecutor::add_rows(const TensorRef& table, const int32_t* rows, int64_t M, int64_t width, float* x) {
    require_pass();
    embed_rows(table, rows, M, width, x, 1);
}

void CudaExecutor::embed_rows(const TensorRef& table, const int32_t* rows, int64_t M, int64_t width, float* out,
                              int32_t accumulate) {
    EmbedP p;
    zero_fill(p);
    p.table = model_.get(table);
    p.ids_off = stage(rows, (size_t)M * sizeof(int32_t));
    p.M = M;
    p.width = width;
    p.out = out;
    p.accumulate = accumulate;
    emit<EmbedP, run_embed>(p);
}

void CudaExecutor::linear(const float* x, int64_t M, int64_t K, const TensorRef& w, const TensorRef* b, float* y,
                          int64_t N) {
    require_pass();
    if (M <= 0 || N <= 0) return;
    LinearP p;
    zero_fill(p);
    p.x = x;
    p.M = M;
    p.K = K;
    p.N = N;
    p.w = model_.get(w);
    const DevTensor bias = b ? model_.get(*b) : DevTensor{};
    p.bias = bias.data;
    p.bdt = bias.data ? bias.dtype : PANOPT_DTYPE_F32;
    p.act = ACT_NONE;
    p.y = y;
    size_t a_bytes = 0, s_bytes = 0;
    linear_plan(p, a_bytes, s_bytes);
    p.a_off = 0;
    p.scale_off = align_up(a_bytes, kAlign);
    temp_reserve(p.scale_off + s_bytes);
    emit<LinearP, run_linear>(p);
}

void CudaExecutor::layernorm(const float* x, float* y, int64_t R, int64_t n, const TensorRef& w, const TensorRef& b,
                             float eps) {
    require_pass();
    LayerNormP p;
    zero_fill(p);
    const DevTensor wd = model_.get(w), bd = model_.get(b);
    p.x = x;
    p.y = y;
    p.R = R;
    p.n = n;
    p.w = wd.data;
    p.wdt = wd.data ? wd.dtype : PANOPT_DTYPE_F32;
    p.b = bd.data;
    p.bdt = bd.data ? bd.dtype : PANOPT_DTYPE_F32;
    p.eps = eps;
    emit<LayerNormP, run_layernorm>(p);
}

void CudaExecutor::activation(int32_t act, float* x, int64_t n) {
    require_pass();
    // fc1 -> activation: applied in the product's epilogue (the same function of the same value)
    if (LinearP* lp = last_op<LinearP, run_linear>())
        if (lp->y == x && lp->M * lp->N == n && lp->act == ACT_NONE) {
            lp->act = act;
            return;
        }
    ActP p;
    zero_fill(p);
    p.act = act;
    p.x = x;
    p.n = n;
    emit<ActP, run_activation>(p);
}

void CudaExecutor::add(float* y, const float* x, int64_t n) {
    require_pass();
    AddP p;
    zero_fill(p);
    p.y = y;
    p.x = x;
    p.n = n;
    emit<AddP, run_add>(p);
}

void CudaExecutor::gather_rows(const float* src, const int64_t* rows, int64_t R, int64_t width, float* dst) {
    require_pass();
    GatherP p;
    zero_fill(p);
    p.src = src;
    p.rows_off = stage(rows, (size_t)R * sizeof(int64_t));
    p.R = R;
    p.width = width;
    p.dst = dst;
    emit<GatherP, run_gather>(p);
}

uint64_t CudaExecutor::host_output(float* host, size_t bytes) {
    const size_t off = align_up(out_bytes_, 16);
    out_bytes_ = off + bytes;
    host_copies_.push_back(HostCopy{host, off, bytes});
    return off;
}

void CudaExecutor::to_host(float* host, const float* src, int64_t n) {
    require_pass();
    if (n <= 0) return;
    ToHostP p;
    zero_fill(p);
    p.src = src;
    p.bytes = n * (int64_t)sizeof(float);
    p.out_off = host_output(host, (size_t)p.bytes);
    emit<ToHostP, run_to_host>(p);
}

void CudaExecutor::temp_to_host(float* host, uint64_t temp_off, int64_t n) {
    ToHostP p;
    zero_fill(p);
    p.src_off = temp_off;
    p.src_temp = 1;
    p.bytes = n * (int64_t)sizeof(float);
    p.out_off = host_output(host, (size_t)p.bytes);
    emit<ToHostP, run_to_host>(p); // right after the op that wrote it, before the next reuses the region
}

unsigned char* CudaExecutor::cache_base(int which, int64_t layer) const {
    const size_t per_layer = (size_t)max_batch_ * (size_t)heads_ * (size_t)max_seq_len_ * (size_t)cache_rb_;
    return static_cast<unsigned char*>(cache_) + (size_t)which * (size_t)layers_ * per_layer + (size_t)layer * per_layer;
}

void CudaExecutor::attention(const AttentionArgs& a) {
    require_pass();
    const int64_t B = a.batch, S = a.seq_len, past = a.past, T = past + S, NH = a.heads, HD = a.head_dim,
                  H = a.hidden;
    const int64_t mask_stride = a.use_cache ? max_seq_len_ : T;
    if (mask_T_ != T || mask_src_ != a.mask) { // mask_T_ is -1 at the start of a pass
        // The mask and the lengths, once per pass (every layer passes the same): the mask as bytes in
        // rows of mask_stride (fixed for cached passes, so decode steps stage the same shape), and each
        // row's first visible key, which decides its all-masked queries.
        const AttnDyn dyn{(int32_t)past, (int32_t)T};
        dyn_off_ = stage(&dyn, sizeof dyn);
        unsigned char* m = stage_alloc((size_t)(B * mask_stride), mask_off_);
        std::vector<int32_t> first((size_t)B, (int32_t)T);
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = T - 1; j >= 0; j--) {
                const int32_t v = a.mask ? a.mask[b * T + j] : 1;
                m[b * mask_stride + j] = (unsigned char)v;
                if (v) first[(size_t)b] = (int32_t)j;
            }
        first_off_ = stage(first.data(), first.size() * sizeof(int32_t));
        mask_src_ = a.mask;
        mask_T_ = T;
    }
    std::vector<float> hm((size_t)NH, 1.0f);
    if (a.head_mask) std::copy(a.head_mask, a.head_mask + NH, hm.begin());
    const uint64_t hm_off = stage(hm.data(), hm.size() * sizeof(float));

    AttnP p;
    zero_fill(p);
    if (a.use_cache) {
        if (T > max_seq_len_ || B > max_batch_) fail(PANOPT_ERR_INTERNAL, "attention beyond the cache's capacity");
        KvWriteP w;
        zero_fill(w);
        w.k = a.k;
        w.v = a.v;
        w.kc = cache_base(0, a.layer);
        w.vc = cache_base(1, a.layer);
        w.dtype = cache_dt_;
        w.pos_stride = cache_rb_;
        w.head_stride = max_seq_len_ * cache_rb_;
        w.batch_stride = heads_ * max_seq_len_ * cache_rb_;
        w.B = B;
        w.S = S;
        w.NH = NH;
        w.HD = HD;
        w.H = H;
        w.dyn_off = dyn_off_;
        emit<KvWriteP, run_kv_write>(w);
        p.k = KvView{w.kc, w.pos_stride, w.head_stride, w.batch_stride, cache_dt_};
        p.v = KvView{w.vc, w.pos_stride, w.head_stride, w.batch_stride, cache_dt_};
        p.max_keys = max_seq_len_;
    } else {
        // this call's keys and values, read where the projections wrote them ([B*S, H], f32)
        p.k = KvView{reinterpret_cast<const unsigned char*>(a.k), H * 4, HD * 4, S * H * 4, PANOPT_DTYPE_F32};
        p.v = KvView{reinterpret_cast<const unsigned char*>(a.v), H * 4, HD * 4, S * H * 4, PANOPT_DTYPE_F32};
        p.max_keys = S;
    }
    // the explicit path also takes the head sizes the others' shared memory cannot hold
    p.path = a.probs_out                                          ? ATT_EXPLICIT
             : S == 1                                             ? (HD <= 1024 ? ATT_DECODE : ATT_EXPLICIT)
             : attention_flash_fits(HD, be.props)                 ? ATT_FLASH
                                                                  : ATT_EXPLICIT;
    p.B = B;
    p.S = S;
    p.NH = NH;
    p.HD = HD;
    p.H = H;
    p.mask_stride = mask_stride;
    p.q = a.q;
    p.scaling = a.scaling;
    p.dyn_off = dyn_off_;
    p.mask_off = mask_off_;
    p.first_off = first_off_;
    p.hm_off = hm_off;
    p.ctx = a.ctx;
    if (p.path == ATT_EXPLICIT) {
        p.T_rec = T;
        temp_reserve((size_t)(B * NH * S * T) * sizeof(float)); // probs_off = 0
    } else if (p.path == ATT_DECODE) {
        p.splits = attention_decode_splits(p.max_keys);
        temp_reserve((size_t)(B * NH * p.splits * (HD + 2)) * sizeof(float)); // part_off = 0
    }
    emit<AttnP, run_attention>(p);
    if (a.probs_out) temp_to_host(a.probs_out, p.probs_off, B * NH * S * T);
}

// ---- the cache outside passes ----

void CudaExecutor::cache_copy_from(const CudaExecutor& src, int32_t batch, int32_t past) {
    if (src.cache_dt_ != cache_dt_) // the bytes are copied as they are
        fail(PANOPT_ERR_INVALID_ARGUMENT, "the two sessions' caches are stored in different types");
    if (batch <= 0 || past <= 0) return;
    for (int which = 0; which < 2; which++)
        for (int64_t l = 0; l < layers_; l++)
            // rows (b, h) of past positions; the two caches may differ in capacity (their row pitch)
            PCU_CHECK(cudaMemcpy2DAsync(cache_base(which, l), (size_t)(max_seq_len_ * cache_rb_), src.cache_base(which, l),
                                        (size_t)(src.max_seq_len_ * src.cache_rb_), (size_t)(past * cache_rb_),
                                        (size_t)(batch * heads_), cudaMemcpyDeviceToDevice, stream_));
    PCU_CHECK(cudaStreamSynchronize(stream_));
}

void CudaExecutor::cache_read(int32_t layer, int32_t which, int32_t batch, int32_t past, float* out) const {
    if (batch <= 0 || past <= 0) return;
    const size_t row = (size_t)(past * cache_rb_);
    std::vector<unsigned char> host(row * (size_t)(batch * heads_));
    PCU_CHECK(cudaMemcpy2DAsync(host.data(), row, cache_base(which, layer), (size_t)(max_seq_len_ * cache_rb_), row,
                                (size_t)(batch * heads_), cudaMemcpyDeviceToHost, stream_));
    PCU_CHECK(cudaStreamSynchronize(stream_));
    const auto to_f32 = type_traits(cache_dt_)->to_f32; // f32 whatever the storage, as the CPU backend
    for (int64_t bh = 0; bh < batch * heads_; bh++)
        for (int64_t j = 0; j < past; j++)
            to_f32(host.data() + bh * row + j * cache_rb_, out + (bh * past + j) * head_dim_, head_dim_);
}

} // namespace cuda
} // namespace panopt
