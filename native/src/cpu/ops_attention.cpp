// ops_attention.cpp — causal self-attention over the new positions and the cached past.
// Per (row, head, query): scores = q·K over visible keys, softmax, optional head mask, then
// ctx = Σ p_j V_j. Keys and values are stored unscaled; q is scaled after its projection.
#include <cmath>
#include <cstring>

#include "backend_cpu.h"
#include "../dtype.h"

namespace panopt {

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
    float* probs = probs_.reserve((size_t)(pool_.size() * T));
    float* q = a.q;
    auto kbase = [&](int64_t b, int64_t h) -> unsigned char* {
        return a.use_cache ? cache_at(kcache_, a.layer, b, h)
                           : reinterpret_cast<unsigned char*>(kvk + (b * NH + h) * S * HD);
    };
    auto vbase = [&](int64_t b, int64_t h) -> unsigned char* {
        return a.use_cache ? cache_at(vcache_, a.layer, b, h)
                           : reinterpret_cast<unsigned char*>(kvv + (b * NH + h) * S * HD);
    };
    const auto store = type_traits(dt)->from_f32; // reference conversion: HD elements per head and token
    const TypeKernels& tk = kt_->type[dt];

    // q scaled after q_proj (bias included); new keys/values appended at positions past..past+S.
    pool_.parallel_for(M, [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; r++) {
            float* qr = q + r * H;
            for (int64_t i = 0; i < H; i++) qr[i] *= a.scaling;
            int64_t b = r / S, i = r % S, dst = past + i;
            for (int64_t h = 0; h < NH; h++) {
                store(a.k + r * H + h * HD, kbase(b, h) + dst * rb, HD);
                store(a.v + r * H + h * HD, vbase(b, h) + dst * rb, HD);
            }
        }
    });
    pool_.parallel_for(B * NH * S, [&](int64_t it0, int64_t it1, int tid) {
        float* p = probs + tid * T;
        for (int64_t it = it0; it < it1; it++) {
            int64_t i = it % S, h = (it / S) % NH, b = it / (S * NH);
            const float* qr = q + (b * S + i) * H + h * HD;
            const int32_t* mrow = a.mask ? a.mask + b * T : nullptr;
            const int64_t limit = past + i; // causal: keys j <= past + i
            tk.dot_rows(qr, kbase(b, h), limit + 1, HD, p);
            // Softmax over the visible prefix j <= limit only, the causally masked rest being exact
            // zeros: the same values as over all T with -inf there (exp gives 0, the sums add 0),
            // at half the cost for a prompt. The values with a non-zero weight lie below nv.
            int64_t nv = limit + 1;
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
            float* o = a.ctx + (b * S + i) * H + h * HD;
            std::memset(o, 0, (size_t)HD * sizeof(float));
            tk.axpy_rows(p, vbase(b, h), nv, HD, o);
        }
    });
}

} // namespace panopt
