// forward.cpp — the OPT decoder forward (HF transformers 4.38 modeling_opt.py semantics), f32.
#include <cmath>
#include <cstring>
#include <string>

#include "cpu/linear.h"
#include "error.h"
#include "session.h"

namespace panopt {

namespace {

int64_t esize(int32_t dt) { return dt == DT_F32 ? 4 : 2; }
const void* row_ptr(const TensorRef& t, int64_t row, int64_t width) {
    return static_cast<const char*>(t.data) + row * width * esize(t.dtype);
}

struct Ctx {
    panopt_session* s;
    const panopt_config& c;
    const Kernels* kt;
    ThreadPool& pool;

    void lin(const float* x, int64_t M, int64_t K, const TensorRef& w, const TensorRef* b, float* y, int64_t N) {
        LinearArgs la;
        la.x = x;
        la.ldx = K;
        la.w = w.data;
        la.wdtype = w.dtype;
        la.bias = (b && b->data) ? b->data : nullptr;
        la.bdtype = (b && b->data) ? b->dtype : DT_F32;
        la.y = y;
        la.ldy = N;
        la.M = M;
        la.N = N;
        la.K = K;
        linear(kt, pool, s->lin_scratch, la);
    }
    // y[r] = LN(x[r]) for R rows of width n (x == y allowed).
    void ln_rows(const float* x, float* y, int64_t R, int64_t n, const TensorRef& w, const TensorRef& b) {
        const float eps = c.layer_norm_eps;
        pool.parallel_for(R, [&](int64_t r0, int64_t r1, int) {
            for (int64_t r = r0; r < r1; r++)
                kt->layernorm(x + r * n, y + r * n, n, w.data, w.dtype, b.data, b.dtype, eps);
        });
    }
    void add_rows(float* y, const float* x, int64_t n_total) {
        const int64_t blk = 4096;
        pool.parallel_for((n_total + blk - 1) / blk, [&](int64_t b0, int64_t b1, int) {
            int64_t i0 = b0 * blk, i1 = b1 * blk < n_total ? b1 * blk : n_total;
            kt->add(y + i0, x + i0, i1 - i0);
        });
    }
};

} // namespace

void forward(panopt_session* s, const panopt_forward_args& a) {
    const panopt_model* m = s->model;
    const panopt_config& c = m->cfg;
    const Kernels* kt = s->kt;
    ThreadPool& pool = *s->pool;
    Ctx cx{s, c, kt, pool};

    // ---- validation (nothing is modified before this block completes) ----
    auto bad = [](const std::string& msg) { fail(PANOPT_ERR_INVALID_ARGUMENT, msg); };
    if (a.batch < 1) bad("batch must be >= 1");
    if (a.seq_len < 1) bad("seq_len must be >= 1");
    if (a.reserved != 0) bad("reserved must be 0");
    if (a.use_cache != 0 && a.use_cache != 1) bad("use_cache must be 0 or 1");
    if ((a.input_ids == nullptr) == (a.inputs_embeds == nullptr))
        bad("exactly one of input_ids and inputs_embeds must be given");
    const int64_t B = a.batch, S = a.seq_len;
    const int64_t past = a.use_cache ? s->past : 0;
    if (a.use_cache) {
        if (B > s->opt.max_batch)
            fail(PANOPT_ERR_CAPACITY, "batch " + std::to_string(B) + " exceeds the session's max_batch " +
                                          std::to_string(s->opt.max_batch));
        if (s->past > 0 && B != s->cache_batch)
            fail(PANOPT_ERR_STATE, "batch " + std::to_string(B) + " does not match the cached batch " +
                                       std::to_string(s->cache_batch) + " (reset the session first)");
        if (past + S > s->opt.max_seq_len)
            fail(PANOPT_ERR_CAPACITY, "past_len + seq_len = " + std::to_string(past + S) +
                                          " exceeds the session's max_seq_len " + std::to_string(s->opt.max_seq_len));
    } else if (S > c.max_position_embeddings) {
        bad("seq_len exceeds max_position_embeddings");
    }
    const int64_t T = past + S;
    if (a.input_ids) {
        for (int64_t i = 0; i < B * S; i++)
            if (a.input_ids[i] < 0 || a.input_ids[i] >= c.vocab_size)
                bad("input_ids[" + std::to_string(i) + "] = " + std::to_string(a.input_ids[i]) +
                    " is out of range [0, " + std::to_string(c.vocab_size) + ")");
    }
    if (a.attention_mask) {
        for (int64_t i = 0; i < B * T; i++)
            if (a.attention_mask[i] != 0 && a.attention_mask[i] != 1)
                bad("attention_mask values must be 0 or 1");
    }
    if (a.head_out && c.head_size == 0) bad("head_out given but the model has no head (head_size 0)");
    if (a.head_positions) {
        for (int64_t b = 0; b < B; b++)
            if (a.head_positions[b] < 0 || a.head_positions[b] >= S) bad("head_positions out of range [0, seq_len)");
    }
    if (a.head_mask) {
        for (int64_t i = 0; i < (int64_t)c.num_hidden_layers * c.num_attention_heads; i++)
            if (!std::isfinite(a.head_mask[i])) bad("head_mask values must be finite");
    }

    const int64_t H = c.hidden_size, P = c.word_embed_proj_dim, F = c.ffn_dim, NH = c.num_attention_heads,
                  HD = H / NH, L = c.num_hidden_layers, M = B * S, NT = pool.size();
    const bool pre = c.do_layer_norm_before != 0, proj = P != H;
    const bool want_hs = a.hidden_states != nullptr;
    const bool want_attn = a.attentions != nullptr;

    // ---- buffers ----
    float* x = s->x.reserve(M * H);     // residual stream
    float* an = s->a.reserve(M * H);    // LayerNorm output / gathered rows
    float* q = s->q.reserve(M * H);
    float* k = s->k.reserve(M * H);
    float* v = s->v.reserve(M * H);
    float* ctx = s->ctx.reserve(M * H); // attention output (heads concatenated)
    float* t = s->t.reserve(M * H);     // out_proj / fc2 output
    float* ff = s->ff.reserve(M * F);
    float* e = s->e.reserve(M * (P > H ? P : H));
    float* probs = s->probs.reserve(NT * T);
    float* kvk = nullptr;
    float* kvv = nullptr;
    if (!a.use_cache) {
        kvk = s->kv_k.reserve(M * H);
        kvv = s->kv_v.reserve(M * H);
    }
    s->pos.resize((size_t)M);
    int32_t* pos = s->pos.data();

    // ---- positions: cumsum(mask) * mask - 1 over the full mask, last S entries ----
    for (int64_t b = 0; b < B; b++) {
        int64_t cnt = 0;
        for (int64_t j = 0; j < T; j++) {
            int32_t mj = a.attention_mask ? a.attention_mask[b * T + j] : 1;
            cnt += mj;
            if (j >= past) pos[b * S + (j - past)] = mj ? (int32_t)(cnt - 1) : -1;
        }
    }

    // ---- embeddings: token row (or inputs_embeds) -> project_in -> + position row (pos + 2) ----
    {
        const TensorRef& tok = m->g(PANOPT_T_EMBED_TOKENS);
        float* dst = proj ? e : x;
        pool.parallel_for(M, [&](int64_t r0, int64_t r1, int) {
            for (int64_t r = r0; r < r1; r++) {
                if (a.inputs_embeds) std::memcpy(dst + r * P, a.inputs_embeds + r * P, (size_t)P * sizeof(float));
                else kt->to_f32(tok.dtype, row_ptr(tok, a.input_ids[r], P), dst + r * P, P);
            }
        });
        if (proj) cx.lin(e, M, P, m->g(PANOPT_T_PROJECT_IN), nullptr, x, H);
        const TensorRef& pe = m->g(PANOPT_T_EMBED_POSITIONS);
        pool.parallel_for(M, [&](int64_t r0, int64_t r1, int) {
            for (int64_t r = r0; r < r1; r++) {
                kt->to_f32(pe.dtype, row_ptr(pe, (int64_t)pos[r] + 2, H), an + r * H, H);
                kt->add(x + r * H, an + r * H, H);
            }
        });
    }
    if (want_hs && a.hidden_states[0]) std::memcpy(a.hidden_states[0], x, (size_t)(M * H) * sizeof(float));

    const float scaling = (float)(1.0 / std::sqrt((double)HD));
    const int64_t kv_cap = a.use_cache ? s->opt.max_seq_len : S; // positions per (row, head) block
    for (int64_t l = 0; l < L; l++) {
        auto W = [&](int32_t kind) -> const TensorRef& { return m->l((int32_t)l, kind); };
        auto kbase = [&](int64_t b, int64_t h) -> float* {
            return a.use_cache ? s->cache_at(s->kcache, l, b, h) : kvk + (b * NH + h) * S * HD;
        };
        auto vbase = [&](int64_t b, int64_t h) -> float* {
            return a.use_cache ? s->cache_at(s->vcache, l, b, h) : kvv + (b * NH + h) * S * HD;
        };
        (void)kv_cap;

        // ---- self-attention ----
        const float* attn_in = x;
        if (pre) {
            cx.ln_rows(x, an, M, H, W(PANOPT_T_ATTN_LN_WEIGHT), W(PANOPT_T_ATTN_LN_BIAS));
            attn_in = an;
        }
        cx.lin(attn_in, M, H, W(PANOPT_T_Q_WEIGHT), &W(PANOPT_T_Q_BIAS), q, H);
        cx.lin(attn_in, M, H, W(PANOPT_T_K_WEIGHT), &W(PANOPT_T_K_BIAS), k, H);
        cx.lin(attn_in, M, H, W(PANOPT_T_V_WEIGHT), &W(PANOPT_T_V_BIAS), v, H);
        // q scaled after q_proj (bias included); keys/values are stored unscaled.
        pool.parallel_for(M, [&](int64_t r0, int64_t r1, int) {
            for (int64_t r = r0; r < r1; r++) {
                float* qr = q + r * H;
                for (int64_t i = 0; i < H; i++) qr[i] *= scaling;
                int64_t b = r / S, i = r % S, dst = (a.use_cache ? past : 0) + i;
                for (int64_t h = 0; h < NH; h++) {
                    std::memcpy(kbase(b, h) + dst * HD, k + r * H + h * HD, (size_t)HD * sizeof(float));
                    std::memcpy(vbase(b, h) + dst * HD, v + r * H + h * HD, (size_t)HD * sizeof(float));
                }
            }
        });
        float* attn_out = want_attn ? a.attentions[l] : nullptr;
        const float hm_row_default = 1.0f;
        pool.parallel_for(B * NH * S, [&](int64_t it0, int64_t it1, int tid) {
            float* p = probs + tid * T;
            for (int64_t it = it0; it < it1; it++) {
                int64_t i = it % S, h = (it / S) % NH, b = it / (S * NH);
                const float* qr = q + (b * S + i) * H + h * HD;
                const float* Kb = kbase(b, h);
                const float* Vb = vbase(b, h);
                const int32_t* mrow = a.attention_mask ? a.attention_mask + b * T : nullptr;
                const int64_t limit = past + i; // causal: keys j <= past + i
                bool any = false;
                for (int64_t j = 0; j < T; j++) {
                    if (j <= limit && (!mrow || mrow[j])) {
                        p[j] = kt->dot(qr, Kb + j * HD, HD);
                        any = true;
                    } else {
                        p[j] = -INFINITY;
                    }
                }
                if (any) {
                    kt->softmax(p, T);
                } else {
                    // every key masked (padding query of a left-padded row): HF adds finfo.min to
                    // all scores, so softmax is uniform over all T keys, future ones included.
                    const float u = 1.0f / (float)T;
                    for (int64_t j = 0; j < T; j++) p[j] = u;
                }
                const float hm = a.head_mask ? a.head_mask[l * NH + h] : hm_row_default;
                if (a.head_mask)
                    for (int64_t j = 0; j < T; j++) p[j] *= hm;
                if (attn_out) std::memcpy(attn_out + ((b * NH + h) * S + i) * T, p, (size_t)T * sizeof(float));
                float* o = ctx + (b * S + i) * H + h * HD;
                std::memset(o, 0, (size_t)HD * sizeof(float));
                for (int64_t j = 0; j < T; j++)
                    if (p[j] != 0.0f) kt->axpy(p[j], Vb + j * HD, o, HD);
            }
        });
        cx.lin(ctx, M, H, W(PANOPT_T_O_WEIGHT), &W(PANOPT_T_O_BIAS), t, H);
        cx.add_rows(x, t, M * H);
        if (!pre) cx.ln_rows(x, x, M, H, W(PANOPT_T_ATTN_LN_WEIGHT), W(PANOPT_T_ATTN_LN_BIAS));

        // ---- feed-forward ----
        const float* ffn_in = x;
        if (pre) {
            cx.ln_rows(x, an, M, H, W(PANOPT_T_FFN_LN_WEIGHT), W(PANOPT_T_FFN_LN_BIAS));
            ffn_in = an;
        }
        cx.lin(ffn_in, M, H, W(PANOPT_T_FC1_WEIGHT), &W(PANOPT_T_FC1_BIAS), ff, F);
        {
            const int64_t blk = 4096, tot = M * F;
            const int32_t act = c.activation;
            pool.parallel_for((tot + blk - 1) / blk, [&](int64_t b0, int64_t b1, int) {
                int64_t i0 = b0 * blk, i1 = b1 * blk < tot ? b1 * blk : tot;
                kt->activation(act, ff + i0, i1 - i0);
            });
        }
        cx.lin(ff, M, F, W(PANOPT_T_FC2_WEIGHT), &W(PANOPT_T_FC2_BIAS), t, H);
        cx.add_rows(x, t, M * H);
        if (!pre) cx.ln_rows(x, x, M, H, W(PANOPT_T_FFN_LN_WEIGHT), W(PANOPT_T_FFN_LN_BIAS));

        if (want_hs && l + 1 < L && a.hidden_states[l + 1])
            std::memcpy(a.hidden_states[l + 1], x, (size_t)(M * H) * sizeof(float));
    }

    // ---- final LayerNorm, project_out, head ----
    // With head_positions and no last hidden state wanted, only the B selected rows go on.
    const bool want_last = want_hs && a.hidden_states[L];
    const bool select = a.head_positions && !want_last;
    float* rows = x;
    int64_t R = M;
    if (select) {
        for (int64_t b = 0; b < B; b++)
            std::memcpy(an + b * H, x + (b * S + a.head_positions[b]) * H, (size_t)H * sizeof(float));
        rows = an;
        R = B;
    }
    if (c.has_final_layer_norm)
        cx.ln_rows(rows, rows, R, H, m->g(PANOPT_T_FINAL_LN_WEIGHT), m->g(PANOPT_T_FINAL_LN_BIAS));
    float* out = rows;
    if (proj) {
        cx.lin(rows, R, H, m->g(PANOPT_T_PROJECT_OUT), nullptr, e, P);
        out = e;
    }
    if (want_last) std::memcpy(a.hidden_states[L], out, (size_t)(M * P) * sizeof(float));
    if (a.head_out) {
        const int64_t HS = c.head_size;
        const float* hin = out;
        int64_t HR = R;
        if (a.head_positions && !select) {
            float* g = s->headin.reserve(B * P);
            for (int64_t b = 0; b < B; b++)
                std::memcpy(g + b * P, out + (b * S + a.head_positions[b]) * P, (size_t)P * sizeof(float));
            hin = g;
            HR = B;
        }
        cx.lin(hin, HR, P, m->g(PANOPT_T_HEAD_WEIGHT), &m->g(PANOPT_T_HEAD_BIAS), a.head_out, HS);
    }

    if (a.use_cache) {
        s->past = (int32_t)T;
        s->cache_batch = (int32_t)B;
    }
}

} // namespace panopt
