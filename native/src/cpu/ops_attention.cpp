// ops_attention.cpp — causal self-attention over the new positions and the cached past.
// Per (row, head, query): scores = q·K over visible keys, softmax, optional head mask, then
// ctx = Σ p_j V_j; a prompt's queries in tiles that share the reads of K and V. Keys and values
// are stored unscaled; q is scaled after its projection.
#include <cmath>
#include <cstring>

#include "backend_cpu.h"
#include "../dtype.h"

namespace panopt {

namespace {
// Queries per work item of a prompt (see below): several of the kernels' passes of 2-4 queries;
// the causal scores a tile computes and drops cost < 16 keys a query. 16 left attention 13% less
// of a 512-token opt-125m prompt's samples than 8 (perf, relative to the matmuls of the same run).
constexpr int64_t kQueryTile = 16;
} // namespace

void CpuExecutor::attention(const AttentionArgs& a) {
    const int64_t B = a.batch, S = a.seq_len, past = a.past, T = past + S, H = a.hidden, NH = a.heads,
                  HD = a.head_dim, M = B * S;
    // Without the cache, keys/values of this call live in f32 scratch; with it, in the session's
    // cache in its storage type (f32, f16 or q8_0).
    const int32_t dt = a.use_cache ? cache_dt_ : PANOPT_DTYPE_F32;
    const int64_t rb = a.use_cache ? cache_rb_ : HD * (int64_t)sizeof(float);
    float* kvk = nullptr;
    float* kvv = nullptr;
    if (!a.use_cache) {
        kvk = kv_k_.reserve((size_t)(M * H));
        kvv = kv_v_.reserve((size_t)(M * H));
    }
    // softmax rows per thread, for the session's longest context at once: T grows by one every
    // decode step, and a buffer sized to each step's T was reallocated by every step
    const int64_t Tcap = T > max_seq_len_ ? T : max_seq_len_;
    float* probs = probs_.reserve((size_t)(pool_.size() * kQueryTile * Tcap));
    float* q = a.q;
    auto kbase = [&](int64_t b, int64_t h) -> unsigned char* {
        return a.use_cache ? cache_at(kcache_, a.layer, b, h)
                           : reinterpret_cast<unsigned char*>(kvk + (b * NH + h) * S * HD);
    };
    auto vbase = [&](int64_t b, int64_t h) -> unsigned char* {
        return a.use_cache ? cache_at(vcache_, a.layer, b, h)
                           : reinterpret_cast<unsigned char*>(kvv + (b * NH + h) * S * HD);
    };
    const TypeKernels& tk = kt_->type[dt];
    // HD elements per head and token: the reference conversion, or an F16 cache's vector one (the
    // same bits; kernels.h quantize_row)
    const auto store = dt == PANOPT_DTYPE_F16 && tk.quantize_row ? tk.quantize_row : type_traits(dt)->from_f32;

    // q scaled after q_proj (bias included); new keys/values appended at positions past..past+S:
    // rows i0..i1 of row b's head h.
    auto prepare = [&](int64_t b, int64_t h, int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; i++) {
            const int64_t r = b * S + i;
            float* qr = q + r * H + h * HD;
            for (int64_t e = 0; e < HD; e++) qr[e] *= a.scaling;
            store(a.k + r * H + h * HD, kbase(b, h) + (past + i) * rb, HD);
            store(a.v + r * H + h * HD, vbase(b, h) + (past + i) * rb, HD);
        }
    };
    const int64_t tiles = (S + kQueryTile - 1) / kQueryTile;
    // One tile per (row, head) (decode steps, short chunks): each work item prepares its own head,
    // in parallel and beside its reads of the cache; longer inputs first prepare every head here.
    const bool own = tiles == 1;
    if (!own)
        pool_.parallel_for(B * NH, [&](int64_t u0, int64_t u1, int) {
            for (int64_t u = u0; u < u1; u++) prepare(u / NH, u % NH, 0, S);
        });
    // Work items: a tile of up to kQueryTile consecutive queries of one (row, head). The tile's
    // queries share each pass over the keys and values (dot_rows / axpy_rows take several
    // queries); each is scored against every key the tile's last query sees, and its own
    // invisible ones are then dropped (its softmax stops at its limit; zeros past it are skipped).
    pool_.parallel_for(B * NH * tiles, [&](int64_t it0, int64_t it1, int tid) {
        float* pt = probs + tid * kQueryTile * T;
        for (int64_t it = it0; it < it1; it++) {
            const int64_t i0 = (it % tiles) * kQueryTile, h = (it / tiles) % NH, b = it / (tiles * NH);
            if (own) prepare(b, h, 0, S);
            const int64_t nq = S - i0 < kQueryTile ? S - i0 : kQueryTile;
            const float* q0 = q + (b * S + i0) * H + h * HD;
            const int32_t* mrow = a.mask ? a.mask + b * T : nullptr;
            tk.dot_rows(q0, H, nq, kbase(b, h), past + i0 + nq, HD, pt, T);
            int64_t nmax = 0; // keys with a non-zero weight for some query of the tile lie below nmax
            for (int64_t qi = 0; qi < nq; qi++) {
                const int64_t i = i0 + qi;
                float* p = pt + qi * T;
                // Softmax over the visible prefix j <= past + i only, the causally masked rest being exact
                // zeros: the same values as over all T with -inf there (exp gives 0, the sums add 0),
                // at half the cost for a prompt.
                int64_t nv = past + i + 1;
                bool any = !mrow;
                if (mrow)
                    for (int64_t j = 0; j < nv; j++) {
                        if (mrow[j]) any = true;
                        else p[j] = -INFINITY;
                    }
                if (any) {
                    kt_->softmax(p, nv);
                    std::memset(p + nv, 0, (size_t)(T - nv) * sizeof(float));
                } else {
                    // every key masked (padding query of a left-padded row): HF adds finfo.min to
                    // all scores, so softmax is uniform over all T keys, future ones included.
                    const float u = 1.0f / (float)T;
                    for (int64_t j = 0; j < T; j++) p[j] = u;
                    nv = T;
                }
                if (a.head_mask)
                    for (int64_t j = 0; j < T; j++) p[j] *= a.head_mask[h];
                if (a.probs_out) std::memcpy(a.probs_out + ((b * NH + h) * S + i) * T, p, (size_t)T * sizeof(float));
                if (nv > nmax) nmax = nv;
                std::memset(a.ctx + (b * S + i) * H + h * HD, 0, (size_t)HD * sizeof(float));
            }
            tk.axpy_rows(pt, T, nq, vbase(b, h), nmax, HD, a.ctx + (b * S + i0) * H + h * HD, H);
        }
    });
}

} // namespace panopt
