// forward.cpp — the OPT decoder graph (HF transformers 4.38 modeling_opt.py semantics), f32:
// embeddings + positions, LayerNorm, linear, attention, activation, residual add, head. Every
// computation is an op of the session's executor (ops.h); this file only validates arguments,
// computes position ids from the host mask and wires the ops together.
#include <cmath>
#include <string>

#include "error.h"
#include "ops.h"
#include "session.h"

namespace panopt {

namespace {

void validate(const panopt_session* s, const panopt_forward_args& a) {
    const panopt_config& c = s->model->cfg;
    auto bad = [](const std::string& msg) { fail(PANOPT_ERR_INVALID_ARGUMENT, msg); };
    if (a.batch < 1) bad("batch must be >= 1");
    if (a.seq_len < 1) bad("seq_len must be >= 1");
    if (a.use_cache != 0 && a.use_cache != 1) bad("use_cache must be 0 or 1");
    if ((a.input_ids == nullptr) == (a.inputs_embeds == nullptr))
        bad("exactly one of input_ids and inputs_embeds must be given");
    const int64_t B = a.batch, S = a.seq_len;
    const int64_t past = a.use_cache ? s->past : 0;
    if (a.use_cache) {
        if (B > s->max_batch)
            fail(PANOPT_ERR_CAPACITY, "batch " + std::to_string(B) + " exceeds the session's max_batch " +
                                          std::to_string(s->max_batch));
        if (s->past > 0 && B != s->cache_batch)
            fail(PANOPT_ERR_STATE, "batch " + std::to_string(B) + " does not match the cached batch " +
                                       std::to_string(s->cache_batch) + " (reset the session first)");
        if (past + S > s->max_seq_len)
            fail(PANOPT_ERR_CAPACITY, "past_len + seq_len = " + std::to_string(past + S) +
                                          " exceeds the session's max_seq_len " + std::to_string(s->max_seq_len));
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
            if (a.attention_mask[i] != 0 && a.attention_mask[i] != 1) bad("attention_mask values must be 0 or 1");
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
}

} // namespace

void forward(panopt_session* s, const panopt_forward_args& a) {
    validate(s, a); // nothing is modified before this returns
    const panopt_model* m = s->model;
    const panopt_config& c = m->cfg;
    Executor& ops = *s->exec;
    ops.begin_pass();
    ops.set_positions_per_row(a.seq_len);

    const int64_t B = a.batch, S = a.seq_len, past = a.use_cache ? s->past : 0, T = past + S;
    const int64_t H = c.hidden_size, P = c.word_embed_proj_dim, F = c.ffn_dim, NH = c.num_attention_heads,
                  HD = H / NH, L = c.num_hidden_layers, M = B * S;
    const bool pre = c.do_layer_norm_before != 0, proj = P != H;
    const bool want_hs = a.hidden_states != nullptr;
    const float eps = c.layer_norm_eps;

    float* x = ops.scratch(SLOT_X, M * H);
    float* an = ops.scratch(SLOT_NORM, M * H);
    float* q = ops.scratch(SLOT_Q, M * H);
    float* k = ops.scratch(SLOT_K, M * H);
    float* v = ops.scratch(SLOT_V, M * H);
    float* ctx = ops.scratch(SLOT_CTX, M * H);
    float* t = ops.scratch(SLOT_T, M * H);
    float* ff = ops.scratch(SLOT_FF, M * F);
    float* e = ops.scratch(SLOT_E, M * (P > H ? P : H));

    // ---- positions: cumsum(mask) * mask - 1 over the full mask, last S entries; table row = pos + 2 ----
    s->pos.resize((size_t)M);
    for (int64_t b = 0; b < B; b++) {
        int64_t cnt = 0;
        for (int64_t j = 0; j < T; j++) {
            int32_t mj = a.attention_mask ? a.attention_mask[b * T + j] : 1;
            cnt += mj;
            if (j >= past) s->pos[b * S + (j - past)] = mj ? (int32_t)(cnt - 1) + 2 : 1;
        }
    }

    // ---- embeddings: token row (or inputs_embeds) -> project_in -> + position row ----
    ops.embed(m->g(PANOPT_T_EMBED_TOKENS), a.input_ids, a.inputs_embeds, M, P, proj ? e : x);
    if (proj) ops.linear(e, M, P, m->g(PANOPT_T_PROJECT_IN), nullptr, x, H);
    ops.add_rows(m->g(PANOPT_T_EMBED_POSITIONS), s->pos.data(), M, H, x);
    if (want_hs && a.hidden_states[0]) ops.to_host(a.hidden_states[0], x, M * H);

    const float scaling = (float)(1.0 / std::sqrt((double)HD));
    for (int64_t l = 0; l < L; l++) {
        auto W = [&](int32_t kind) -> const TensorRef& { return m->l((int32_t)l, kind); };

        // ---- self-attention ----
        const float* attn_in = x;
        if (pre) {
            ops.layernorm(x, an, M, H, W(PANOPT_T_ATTN_LN_WEIGHT), W(PANOPT_T_ATTN_LN_BIAS), eps);
            attn_in = an;
        }
        const Executor::LinearOut qkv[3] = {{&W(PANOPT_T_Q_WEIGHT), &W(PANOPT_T_Q_BIAS), q, H},
                                            {&W(PANOPT_T_K_WEIGHT), &W(PANOPT_T_K_BIAS), k, H},
                                            {&W(PANOPT_T_V_WEIGHT), &W(PANOPT_T_V_BIAS), v, H}};
        ops.linear_multi(attn_in, M, H, qkv, 3);
        AttentionArgs aa;
        aa.layer = l;
        aa.batch = B;
        aa.seq_len = S;
        aa.past = past;
        aa.hidden = H;
        aa.heads = NH;
        aa.head_dim = HD;
        aa.use_cache = a.use_cache != 0;
        aa.q = q;
        aa.k = k;
        aa.v = v;
        aa.scaling = scaling;
        aa.mask = a.attention_mask;
        aa.head_mask = a.head_mask ? a.head_mask + l * NH : nullptr;
        aa.probs_out = a.attentions ? a.attentions[l] : nullptr;
        aa.ctx = ctx;
        ops.attention(aa);
        ops.linear(ctx, M, H, W(PANOPT_T_O_WEIGHT), &W(PANOPT_T_O_BIAS), t, H);
        ops.add(x, t, M * H);
        if (!pre) ops.layernorm(x, x, M, H, W(PANOPT_T_ATTN_LN_WEIGHT), W(PANOPT_T_ATTN_LN_BIAS), eps);

        // ---- feed-forward ----
        const float* ffn_in = x;
        if (pre) {
            ops.layernorm(x, an, M, H, W(PANOPT_T_FFN_LN_WEIGHT), W(PANOPT_T_FFN_LN_BIAS), eps);
            ffn_in = an;
        }
        ops.linear(ffn_in, M, H, W(PANOPT_T_FC1_WEIGHT), &W(PANOPT_T_FC1_BIAS), ff, F);
        ops.activation(c.activation, ff, M * F);
        ops.linear(ff, M, F, W(PANOPT_T_FC2_WEIGHT), &W(PANOPT_T_FC2_BIAS), t, H);
        ops.add(x, t, M * H);
        if (!pre) ops.layernorm(x, x, M, H, W(PANOPT_T_FFN_LN_WEIGHT), W(PANOPT_T_FFN_LN_BIAS), eps);

        if (want_hs && l + 1 < L && a.hidden_states[l + 1]) ops.to_host(a.hidden_states[l + 1], x, M * H);
    }

    // ---- final LayerNorm, project_out, head ----
    // With head_positions and no last hidden state wanted, only the B selected rows go on.
    const bool want_last = want_hs && a.hidden_states[L];
    const bool select = a.head_positions && !want_last;
    if (a.head_positions) {
        s->rows.resize((size_t)B);
        for (int64_t b = 0; b < B; b++) s->rows[b] = b * S + a.head_positions[b];
    }
    float* rows = x;
    int64_t R = M;
    if (select) {
        ops.gather_rows(x, s->rows.data(), B, H, an);
        rows = an;
        R = B;
    }
    if (c.has_final_layer_norm)
        ops.layernorm(rows, rows, R, H, m->g(PANOPT_T_FINAL_LN_WEIGHT), m->g(PANOPT_T_FINAL_LN_BIAS), eps);
    float* out = rows;
    if (proj) {
        ops.linear(rows, R, H, m->g(PANOPT_T_PROJECT_OUT), nullptr, e, P);
        out = e;
    }
    if (want_last) ops.to_host(a.hidden_states[L], out, M * P);
    if (a.head_out) {
        const int64_t HS = c.head_size;
        const float* hin = out;
        int64_t HR = R;
        if (a.head_positions && !select) {
            float* g = ops.scratch(SLOT_HEAD_IN, B * P);
            ops.gather_rows(out, s->rows.data(), B, P, g);
            hin = g;
            HR = B;
        }
        float* y = ops.output_buffer(a.head_out, SLOT_OUT, HR * HS);
        ops.linear(hin, HR, P, m->g(PANOPT_T_HEAD_WEIGHT), &m->g(PANOPT_T_HEAD_BIAS), y, HS);
        ops.to_host(a.head_out, y, HR * HS);
    }

    ops.end_pass(); // the cache bookkeeping below only once the pass has run

    if (a.use_cache) {
        s->past = (int32_t)T;
        s->cache_batch = (int32_t)B;
    }
}

} // namespace panopt
