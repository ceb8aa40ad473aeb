// Forward pass against the shared HF conformance fixtures, under every ISA, with 1 and 2 threads.
#include <algorithm>
#include <cmath>

#include "cpu/backend_cpu.h"
#include "cpu/kernels.h"
#include "panopt.h"
#include "dtype.h"
#include "test_util.h"
#include "tile_model.h"

namespace {

const double ATOL = 2e-4, RTOL = 2e-4, ATTN_ATOL = 1e-5;

struct Case {
    std::string name;
    t::Json cfg;
    t::SafeTensors w, exp;
    panopt_config c{};
    std::string cls;
};

// A backend (ISA, threads) with the case's model on it; both freed on scope exit.
struct Built {
    panopt_backend* backend = nullptr;
    panopt_model* model = nullptr;
    ~Built() {
        panopt_model_free(model);
        panopt_backend_free(backend);
    }
};


bool load_case(const std::string& root, const std::string& name, Case& cs) {
    std::string d = root + "/cases/" + name;
    std::vector<char> cj;
    if (!t::read_file(d + "/config.json", cj)) return false;
    cs.name = name;
    cs.cfg = t::parse_json(std::string(cj.begin(), cj.end()));
    if (!cs.w.load(d + "/model.safetensors") || !cs.exp.load(d + "/expected.safetensors")) return false;
    const t::Json& j = cs.cfg;
    cs.cls = j.get("architectures")->arr[0].str;
    panopt_config& c = cs.c;
    c.vocab_size = (int)j.n("vocab_size");
    c.hidden_size = (int)j.n("hidden_size");
    c.num_hidden_layers = (int)j.n("num_hidden_layers");
    c.num_attention_heads = (int)j.n("num_attention_heads");
    c.ffn_dim = (int)j.n("ffn_dim");
    c.max_position_embeddings = (int)j.n("max_position_embeddings");
    c.word_embed_proj_dim = (int)j.n("word_embed_proj_dim");
    c.do_layer_norm_before = (int)j.n("do_layer_norm_before");
    c.enable_bias = (int)j.n("enable_bias", 1);
    c.layer_norm_elementwise_affine = (int)j.n("layer_norm_elementwise_affine", 1);
    c.has_final_layer_norm = c.do_layer_norm_before && !(int)j.n("_remove_final_layer_norm");
    c.activation = PANOPT_ACT_RELU;
    c.layer_norm_eps = 1e-5f;
    c.struct_size = sizeof c;
    if (cs.cls == "OPTForCausalLM") {
        c.head_size = c.vocab_size;
    } else if (cs.cls == "OPTForSequenceClassification") {
        c.head_size = (int)j.get("id2label")->obj.size();
    } else {
        c.head_size = 2;
        c.head_has_bias = 1;
    }
    return true;
}

bool build(const Case& cs, int isa, int threads, Built& out) {
    panopt_backend_options bo{};
    bo.struct_size = sizeof bo;
    bo.kind = PANOPT_BACKEND_CPU;
    bo.n_threads = threads;
    bo.isa = isa;
    if (panopt_backend_create(&bo, &out.backend) != PANOPT_OK) {
        std::printf("backend_create: %s\n", panopt_last_error());
        return false;
    }
    if (panopt_model_create(out.backend, &cs.c, &out.model) != PANOPT_OK) return false;
    for (auto& kv : cs.w.tensors) {
        int layer;
        int kind = t::weight_kind(kv.first, layer);
        if (kind < 0) {
            std::printf("unknown weight %s\n", kv.first.c_str());
            return false;
        }
        int dt = kv.second.dtype == "F16" ? PANOPT_DTYPE_F16 : PANOPT_DTYPE_F32;
        if (panopt_model_set_tensor(out.model, kind, layer, dt, kv.second.data, (int64_t)kv.second.nbytes) != PANOPT_OK) {
            std::printf("set_tensor %s: %s\n", kv.first.c_str(), panopt_last_error());
            return false;
        }
        if (kind == PANOPT_T_EMBED_TOKENS && cs.cls == "OPTForCausalLM")
            panopt_model_set_tensor(out.model, PANOPT_T_HEAD_WEIGHT, -1, dt, kv.second.data, (int64_t)kv.second.nbytes);
    }
    if (panopt_model_finalize(out.model) != PANOPT_OK) {
        std::printf("finalize: %s\n", panopt_last_error());
        return false;
    }
    return true;
}

struct Sess {
    panopt_session* s = nullptr;
    Sess(panopt_model* m, int max_seq, int32_t compute_dtype = PANOPT_DTYPE_F32) {
        panopt_session_options o{sizeof(panopt_session_options), 8, max_seq, 0, compute_dtype};
        if (panopt_session_create(m, &o, &s) != PANOPT_OK) std::printf("session_create: %s\n", panopt_last_error());
    }
    ~Sess() { panopt_session_free(s); }
};

std::vector<float> expf32(const Case& cs, const std::string& n) { return cs.exp.get(n)->f32(); }
std::vector<int32_t> expi(const Case& cs, const std::string& n) { return cs.exp.get(n)->i32(); }

int argmax(const float* v, int n) { return (int)(std::max_element(v, v + n) - v); }

std::string tag;

bool fwd(panopt_session* s, panopt_forward_args& a) {
    panopt_status st = panopt_forward(s, &a);
    T_CHECK(st == PANOPT_OK, "%s forward: %d %s", tag.c_str(), st, panopt_last_error());
    return st == PANOPT_OK;
}

// Greedy decoding with the cache: prompt, then one token per call; logits of each step and ids.
void check_greedy(const Case& cs, panopt_session* s, const std::string& logits_name) {
    auto prompt = expi(cs, "greedy_prompt_ids");
    auto ids = expi(cs, "greedy_ids");
    const int V = cs.c.vocab_size, P = (int)prompt.size(), n = (int)ids.size();
    std::vector<float> steps = logits_name.empty() ? std::vector<float>() : expf32(cs, logits_name);
    panopt_session_reset(s);
    std::vector<float> lg(V);
    std::vector<int32_t> got;
    int32_t hp = P - 1;
    panopt_forward_args a{};
    a.struct_size = sizeof a;
    a.batch = 1;
    a.seq_len = P;
    a.input_ids = prompt.data();
    a.use_cache = 1;
    a.head_positions = &hp;
    a.head_out = lg.data();
    if (!fwd(s, a)) return;
    for (int i = 0; i < n; i++) {
        if (!steps.empty()) t::close(lg.data(), steps.data() + (size_t)i * V, V, ATOL, RTOL, tag + " greedy_step_logits " + std::to_string(i));
        int32_t id = argmax(lg.data(), V);
        got.push_back(id);
        if (i + 1 == n) break;
        panopt_forward_args b{};
        b.struct_size = sizeof b;
        b.batch = 1;
        b.seq_len = 1;
        b.input_ids = &id;
        b.use_cache = 1;
        b.head_out = lg.data();
        if (!fwd(s, b)) return;
    }
    T_CHECK(got == ids, "%s greedy ids differ", tag.c_str());
    int32_t past = 0, batch = 0;
    panopt_session_cache_info(s, &past, &batch);
    T_CHECK(past == P + n - 1 && batch == 1, "%s cache_info %d %d", tag.c_str(), past, batch);
}

void run_case(const Case& cs, panopt_model* model) {
    const panopt_config& c = cs.c;
    const int L = c.num_hidden_layers, V = c.vocab_size, NH = c.num_attention_heads, H = c.hidden_size,
              P = c.word_embed_proj_dim;
    Sess ss(model, std::min(64, c.max_position_embeddings));
    if (!ss.s) return;
    panopt_session* s = ss.s;
    const t::TensorData* ids_t = cs.exp.get("input_ids");
    const t::TensorData* mask_t = cs.exp.get("attention_mask");
    auto mask = mask_t->i32();
    const int B = (int)mask_t->shape[0], S = (int)mask_t->shape[1];
    std::vector<int32_t> ids = ids_t ? ids_t->i32() : std::vector<int32_t>();

    panopt_forward_args a{};
    a.struct_size = sizeof a;
    a.batch = B;
    a.seq_len = S;
    a.attention_mask = mask.data();
    std::vector<std::vector<float>> hs(L + 1), at(L);
    std::vector<float*> hsp(L + 1, nullptr), atp(L, nullptr);
    std::vector<float> logits;
    std::vector<float> embeds;
    if (ids_t) a.input_ids = ids.data();

    if (cs.name == "inputs-embeds") {
        embeds = expf32(cs, "inputs_embeds");
        a.inputs_embeds = embeds.data();
        hs[L].resize((size_t)B * S * P);
        hsp[L] = hs[L].data();
        a.hidden_states = hsp.data();
        if (!fwd(s, a)) return;
        auto e = expf32(cs, "last_hidden_state");
        t::close(hs[L].data(), e.data(), (int64_t)e.size(), ATOL, RTOL, tag + " last_hidden_state");
        return;
    }
    if (cs.cls == "OPTForSequenceClassification") {
        auto pooled = expi(cs, "pooled_index");
        std::vector<float> out((size_t)B * c.head_size);
        a.head_positions = pooled.data();
        a.head_out = out.data();
        if (!fwd(s, a)) return;
        auto e = expf32(cs, "logits");
        t::close(out.data(), e.data(), (int64_t)e.size(), ATOL, RTOL, tag + " seqcls logits");
        return;
    }
    if (cs.cls == "OPTForQuestionAnswering") {
        std::vector<float> out((size_t)B * S * 2);
        a.head_out = out.data();
        if (!fwd(s, a)) return;
        std::vector<float> st(B * S), en(B * S);
        for (int i = 0; i < B * S; i++) st[i] = out[2 * i], en[i] = out[2 * i + 1];
        auto es = expf32(cs, "start_logits"), ee = expf32(cs, "end_logits");
        t::close(st.data(), es.data(), B * S, ATOL, RTOL, tag + " start_logits");
        t::close(en.data(), ee.data(), B * S, ATOL, RTOL, tag + " end_logits");
        return;
    }

    // causal LM
    const bool has_hs = cs.exp.get("hidden_states.0") != nullptr;
    const bool has_at = cs.exp.get("attentions.0") != nullptr;
    const bool has_past = cs.exp.get("past.0.key") != nullptr;
    logits.resize((size_t)B * S * V);
    a.head_out = logits.data();
    if (has_hs) {
        for (int i = 0; i <= L; i++) {
            hs[i].resize((size_t)B * S * (i == L ? P : H));
            hsp[i] = hs[i].data();
        }
        a.hidden_states = hsp.data();
    }
    if (has_at) {
        for (int i = 0; i < L; i++) {
            at[i].resize((size_t)B * NH * S * S);
            atp[i] = at[i].data();
        }
        a.attentions = atp.data();
    }
    std::vector<float> hm;
    if (cs.exp.get("head_mask")) {
        hm = expf32(cs, "head_mask");
        a.head_mask = hm.data();
    }
    a.use_cache = has_past ? 1 : 0;
    if (!fwd(s, a)) return;
    if (cs.exp.get("logits")) {
        auto e = expf32(cs, "logits");
        t::close(logits.data(), e.data(), (int64_t)e.size(), ATOL, RTOL, tag + " logits");
    }
    if (cs.exp.get("row0_logits")) {
        auto e = expf32(cs, "row0_logits");
        t::close(logits.data(), e.data(), (int64_t)e.size(), ATOL, RTOL, tag + " row0_logits");
        auto li = expi(cs, "last_index");
        auto el = expf32(cs, "last_logits");
        for (int b = 0; b < B; b++)
            t::close(logits.data() + ((size_t)b * S + li[b]) * V, el.data() + (size_t)b * V, V, ATOL, RTOL,
                     tag + " last_logits row " + std::to_string(b));
        // the cheap path: head only at the last real position of each row
        std::vector<float> last((size_t)B * V);
        panopt_forward_args b2 = a;
        b2.head_positions = li.data();
        b2.head_out = last.data();
        if (fwd(s, b2)) t::close(last.data(), el.data(), (int64_t)el.size(), ATOL, RTOL, tag + " last_logits via head_positions");
    }
    for (int i = 0; has_hs && i <= L; i++) {
        auto e = expf32(cs, "hidden_states." + std::to_string(i));
        t::close(hs[i].data(), e.data(), (int64_t)e.size(), ATOL, RTOL, tag + " hidden_states." + std::to_string(i));
    }
    for (int i = 0; has_at && i < L; i++) {
        auto e = expf32(cs, "attentions." + std::to_string(i));
        t::close(at[i].data(), e.data(), (int64_t)e.size(), ATTN_ATOL, 0, tag + " attentions." + std::to_string(i));
    }
    if (has_past) {
        auto read_check = [&](const std::string& prefix, int T) {
            int32_t past = 0, batch = 0;
            panopt_session_cache_info(s, &past, &batch);
            T_CHECK(past == T && batch == B, "%s cache_info %d %d", tag.c_str(), past, batch);
            std::vector<float> buf((size_t)B * NH * T * (H / NH));
            for (int l = 0; l < L; l++)
                for (int w = 0; w < 2; w++) {
                    std::string n = prefix + std::to_string(l) + (w ? ".value" : ".key");
                    panopt_status st = panopt_session_read_cache(s, l, w, buf.data(), (int64_t)buf.size());
                    T_CHECK(st == PANOPT_OK, "read_cache %s", panopt_last_error());
                    auto e = expf32(cs, n);
                    t::close(buf.data(), e.data(), (int64_t)e.size(), ATOL, RTOL, tag + " " + n);
                }
        };
        read_check("past.", S);
        // incremental step with the cache
        auto sid = expi(cs, "step_input_ids");
        auto smask = expi(cs, "step_attention_mask");
        const int S2 = (int)cs.exp.get("step_input_ids")->shape[1];
        // A copy with its rows reordered as beam search does continues like the rows it copied.
        if (B == 3) {
            const int32_t perm[] = {1, 0, 1, 0, 1}; // a cycle (0 1), row 2 dropped, two rows added
            const int B2 = 5;
            Sess s3(model, 64);
            T_CHECK(panopt_session_copy(s, s3.s) == PANOPT_OK, "session_copy: %s", panopt_last_error());
            T_CHECK(panopt_session_reorder(s3.s, perm, B2) == PANOPT_OK, "reorder: %s", panopt_last_error());
            std::vector<int32_t> pid, pmask;
            for (int i = 0; i < B2; i++) {
                pid.insert(pid.end(), sid.begin() + perm[i] * S2, sid.begin() + (perm[i] + 1) * S2);
                pmask.insert(pmask.end(), smask.begin() + perm[i] * (S + S2), smask.begin() + (perm[i] + 1) * (S + S2));
            }
            std::vector<float> pl((size_t)B2 * S2 * V);
            panopt_forward_args r{};
            r.struct_size = sizeof r;
            r.batch = B2;
            r.seq_len = S2;
            r.input_ids = pid.data();
            r.attention_mask = pmask.data();
            r.use_cache = 1;
            r.head_out = pl.data();
            if (fwd(s3.s, r)) {
                auto e = expf32(cs, "step_logits");
                for (int i = 0; i < B2; i++)
                    t::close(pl.data() + (size_t)i * S2 * V, e.data() + (size_t)perm[i] * S2 * V, (int64_t)S2 * V, ATOL,
                             RTOL, tag + " step_logits after reorder, row " + std::to_string(i));
            }
        }
        std::vector<float> sl((size_t)B * S2 * V);
        panopt_forward_args b{};
        b.struct_size = sizeof b;
        b.batch = B;
        b.seq_len = S2;
        b.input_ids = sid.data();
        b.attention_mask = smask.data();
        b.use_cache = 1;
        b.head_out = sl.data();
        if (fwd(s, b)) {
            auto e = expf32(cs, "step_logits");
            t::close(sl.data(), e.data(), (int64_t)e.size(), ATOL, RTOL, tag + " step_logits");
            read_check("step_past.", S + S2);
        }
        // a copy of the session continues identically
        Sess s2(model, 64);
        T_CHECK(panopt_session_copy(s, s2.s) == PANOPT_OK, "session_copy: %s", panopt_last_error());
    }
    if (cs.exp.get("greedy_ids") && (cs.exp.get("greedy_step_logits") || cs.name == "opt125m-shape-f16"))
        check_greedy(cs, s, cs.exp.get("greedy_step_logits") ? "greedy_step_logits" : "");
}

// Quantized weights: the opt125m-shape case with every matrix quantized (by the reference
// quantizer) to each block format computes on every ISA what it computes on the scalar reference.
// A prompt pass computes in f32 on the dequantized weights: every ISA within f32 rounding of the
// f32 model of those weights (but Q4_0 and Q4_K prompts, which take the int8 products on every ISA,
// kernels.h: bounded as the steps). A decode-shaped pass takes the int8 products. Their integer dot
// products are exact everywhere; only f32 sums run in another order, which can move
// an activation across its 8-bit rounding boundary in a later layer (one step of max|x|/127 in that
// element). So the ISAs may differ by at most what quantizing the activations at all changes: the
// bound is the difference between the scalar quantized model and the same weights dequantized to
// f32 (f32 activations), measured here. A wrong kernel is off by the logits' own size.
// The AVX512_VNNI table with the prompt products on AMX tiles run by the software tile model
// (tile_model.cpp): the AMX table's kernels on a CPU without AMX. Only where the CPU has VNNI.
int64_t tile_model_scratch(int64_t K) {
    return std::max(panopt::kernels_for_isa(PANOPT_ISA_AVX512_VNNI)->linear_scratch_floats(K), panopt::tile_model_scratch_floats(K));
}
const panopt::Kernels* tile_model_table() {
    static const panopt::Kernels t = [] {
        panopt::Kernels k = *panopt::kernels_for_isa(PANOPT_ISA_AVX512_VNNI);
        panopt::tile_model_kernels(k.type);
        k.linear_scratch_floats = tile_model_scratch;
        k.name = "tile model";
        return k;
    }();
    return &t;
}

void quantized_across_isas(const Case& cs) {
    const int formats[] = {PANOPT_DTYPE_Q8_0, PANOPT_DTYPE_Q4_0, PANOPT_DTYPE_Q4_1, PANOPT_DTYPE_Q5_0,
                           PANOPT_DTYPE_Q5_1, PANOPT_DTYPE_Q4_K, PANOPT_DTYPE_Q5_K, PANOPT_DTYPE_Q6_K};
    // The ids as one 8-token prompt (a pass over several positions: f32 products with the
    // dequantized weights, kernels.h) and as a batch of 8 one-token rows (a decode-shaped pass: the
    // int8 products).
    const int32_t ids[] = {2, 100, 2000, 31, 7, 50000, 9, 12};
    const int S = 8;
    for (int fmt : formats) {
        std::vector<std::vector<uint8_t>> store; // quantized copies, alive while the models are
        std::vector<float> logits[5], step_logits[5];
        // scalar, best ISA, scalar with the weights dequantized, best ISA with the weights kept as
        // given, and with VNNI the AMX kernels on the tile model (prompt products on tiles)
        const bool model = panopt::isa_has_vnni(panopt_cpu_isa());
        int64_t tiles_prompt = 0, tiles_steps = 0;
        for (int pass = 0; pass < (model ? 5 : 4); pass++) {
            const int isa = pass == 1 || pass == 3 ? panopt_cpu_isa() : pass == 4 ? PANOPT_ISA_AVX512_VNNI : PANOPT_ISA_SCALAR;
            Built b;
            panopt_backend_options bo{};
            bo.struct_size = sizeof bo;
            bo.kind = PANOPT_BACKEND_CPU;
            bo.n_threads = 2;
            bo.isa = isa;
            panopt_config cfg = cs.c;
            cfg.keep_weight_layout = pass == 3;
            if (pass == 4) b.backend = new panopt::CpuBackend(tile_model_table(), 2);
            if ((pass != 4 && panopt_backend_create(&bo, &b.backend)) || panopt_model_create(b.backend, &cfg, &b.model)) {
                T_CHECK(false, "quantized %s: %s", panopt::type_traits(fmt)->name, panopt_last_error());
                return;
            }
            for (auto& kv : cs.w.tensors) {
                int layer, kind = t::weight_kind(kv.first, layer);
                const bool matrix = kv.second.shape.size() == 2;
                const int src = kv.second.dtype == "F16" ? PANOPT_DTYPE_F16 : PANOPT_DTYPE_F32;
                const void* data = kv.second.data;
                int dt = src;
                int64_t nbytes = (int64_t)kv.second.nbytes;
                if (matrix) {
                    std::vector<float> f((size_t)kv.second.numel());
                    panopt::type_traits(src)->to_f32(kv.second.data, f.data(), kv.second.numel());
                    nbytes = panopt::row_bytes(fmt, kv.second.shape[1]) * kv.second.shape[0];
                    store.emplace_back((size_t)nbytes);
                    panopt_quantize(fmt, f.data(), kv.second.shape[0], kv.second.shape[1], store.back().data(), nbytes);
                    data = store.back().data();
                    dt = fmt;
                    if (pass == 2) { // the same values in f32
                        store.emplace_back((size_t)kv.second.numel() * 4);
                        panopt_dequantize(fmt, data, nbytes, kv.second.numel(), reinterpret_cast<float*>(store.back().data()));
                        data = store.back().data();
                        dt = PANOPT_DTYPE_F32;
                        nbytes = kv.second.numel() * 4;
                    }
                }
                panopt_model_set_tensor(b.model, kind, layer, dt, data, nbytes);
                if (kind == PANOPT_T_EMBED_TOKENS) panopt_model_set_tensor(b.model, PANOPT_T_HEAD_WEIGHT, -1, dt, data, nbytes);
            }
            if (panopt_model_finalize(b.model) != PANOPT_OK) {
                T_CHECK(false, "quantized %s finalize: %s", panopt::type_traits(fmt)->name, panopt_last_error());
                return;
            }
            { // the CPU keeps block-format product weights in 8-row groups where its table has the kernels
                const bool grouped = (pass == 1 || pass == 4) && panopt::kernels_for_isa(isa)->type[fmt].linear_range_r8 != nullptr;
                int32_t fc1 = -1, head = -1, embed = -1;
                panopt_model_tensor_borrowed(b.model, PANOPT_T_FC1_WEIGHT, 0, &fc1);
                panopt_model_tensor_borrowed(b.model, PANOPT_T_HEAD_WEIGHT, -1, &head);
                panopt_model_tensor_borrowed(b.model, PANOPT_T_EMBED_TOKENS, -1, &embed);
                const int expect = grouped ? 0 : 1;
                T_CHECK(fc1 == expect && head == expect && embed == expect, "quantized %s pass %d: borrowed: fc1 %d, "
                        "the tied head %d, the embedding %d (expected %d)", panopt::type_traits(fmt)->name, pass, fc1,
                        head, embed, expect);
            }
            Sess sess(b.model, S);
            logits[pass].resize((size_t)S * cs.c.vocab_size);
            panopt_forward_args a{};
            a.struct_size = sizeof a;
            a.batch = 1;
            a.seq_len = S;
            a.input_ids = ids;
            a.head_out = logits[pass].data();
            const int64_t p0 = panopt::tile_model_products();
            T_CHECK(fwd(sess.s, a), "quantized %s forward: %s", panopt::type_traits(fmt)->name, panopt_last_error());
            const int64_t p1 = panopt::tile_model_products();
            Sess step_sess(b.model, 1);
            step_logits[pass].resize((size_t)S * cs.c.vocab_size);
            a.batch = S;
            a.seq_len = 1;
            a.head_out = step_logits[pass].data();
            T_CHECK(fwd(step_sess.s, a), "quantized %s forward (8 rows of 1): %s", panopt::type_traits(fmt)->name,
                    panopt_last_error());
            if (pass == 4) {
                tiles_prompt = p1 - p0;
                tiles_steps = panopt::tile_model_products() - p1;
            }
        }
        if (model) { // the tile kernels ran in the prompt only, with the group kernels' results bit for bit
            const bool has = tile_model_table()->type[fmt].linear_range_tiles_r8 != nullptr;
            T_CHECK(has ? tiles_prompt > 0 && tiles_steps == 0 : tiles_prompt == 0, "quantized %s on the tile model: %lld tile "
                    "products in the prompt, %lld in the steps", panopt::type_traits(fmt)->name, (long long)tiles_prompt,
                    (long long)tiles_steps);
            T_CHECK(logits[4] == logits[1] && step_logits[4] == step_logits[1], "quantized %s: the AMX kernels on the tile "
                    "model differ from isa %d's logits", panopt::type_traits(fmt)->name, panopt_cpu_isa());
        }
        // max over rows of max_v |x[v] - y[v]| / max_v |ref[v]|, for `rows` rows of logits
        auto rel = [&](const std::vector<float>& x, const std::vector<float>& y, const std::vector<float>& ref, int rows) {
            double worst_row = 0;
            for (int r = 0; r < rows; r++) {
                const size_t o = (size_t)r * cs.c.vocab_size;
                float mx = 0, d = 0;
                for (int v = 0; v < cs.c.vocab_size; v++) {
                    mx = std::max(mx, std::fabs(ref[o + v]));
                    d = std::max(d, std::fabs(x[o + v] - y[o + v]));
                }
                worst_row = std::max(worst_row, (double)d / mx);
            }
            return worst_row;
        };
        const double prompt_isa = rel(logits[0], logits[1], logits[2], S);
        const double prompt_dq = rel(logits[0], logits[2], logits[2], S);
        // Q4_0 and Q4_K prompts take the int8 path (kernels.h): bounded as the steps below
        const bool f32_prompt = panopt::prompt_dequantized(fmt);
        const double prompt_bound = f32_prompt ? 1e-5 : std::max(prompt_dq, 1e-5);
        T_CHECK(f32_prompt ? prompt_dq <= 1e-5 : prompt_dq > 1e-4, "quantized %s prompt: scalar vs the dequantized f32 "
                "model %.3g of the row's max (%s)", panopt::type_traits(fmt)->name, prompt_dq,
                f32_prompt ? "f32 products: bound 1e-5" : "int8 products: more than 1e-4");
        T_CHECK(prompt_isa <= prompt_bound, "quantized %s prompt: isa %d vs scalar %.3g of the row's max (bound %.3g)",
                panopt::type_traits(fmt)->name, panopt_cpu_isa(), prompt_isa, prompt_bound);
        const double kept_prompt = rel(logits[0], logits[3], logits[2], S);
        const double kept = rel(step_logits[0], step_logits[3], step_logits[0], S);
        const double worst = rel(step_logits[0], step_logits[1], step_logits[0], S);
        const double act = rel(step_logits[0], step_logits[2], step_logits[0], S);
        T_CHECK(act > 1e-4, "quantized %s steps: the int8 path did not run (%.3g from the f32 model)",
                panopt::type_traits(fmt)->name, act);
        T_CHECK(worst <= std::max(act, 1e-5), "quantized %s: isa %d vs scalar logits differ by %.3g of the row's max, "
                "more than quantizing the activations does (%.3g)", panopt::type_traits(fmt)->name, panopt_cpu_isa(), worst, act);
        T_CHECK(kept_prompt <= prompt_bound && kept <= std::max(act, 1e-5), "quantized %s: isa %d with the weights kept "
                "in row order vs scalar: prompt %.3g (bound %.3g), steps %.3g of the row's max (bound %.3g)",
                panopt::type_traits(fmt)->name, panopt_cpu_isa(), kept_prompt, prompt_bound, kept, std::max(act, 1e-5));
        std::printf("  quantized %-5s isa %d vs scalar: max |dlogit| / max |logit| = %.2g (activation quantization: %.2g)\n",
                    panopt::type_traits(fmt)->name, panopt_cpu_isa(), worst, act);
    }
}

// A session's compute type BF16 (opt-in bf16 products in prompt passes) on the best ISA: the
// prompt's logits differ from the f32 session's where the table has bf16 products (and are
// identical where it has none), within the stated bound; decode-shaped passes (one position per
// row) stay f32 bit for bit. Bound: each product's inputs carry a relative rounding error of at
// most 2^-8 each, i.e. 2^-7 of sum |x w| per output of every linear; through this model's 12 layers
// and the head the logits moved by 0.009 of the row's max on the AVX512_VNNI table (Zen 4; the
// kernel is deterministic, so any CPU with bf16 products gives the same); the bound is 0.03.
void bf16_compute(const Case& cs) {
    const int isa = panopt_cpu_isa();
    const bool has = panopt::kernels_for_isa(isa)->type[PANOPT_DTYPE_F16].linear_range_bf16 != nullptr;
    Built b;
    if (!build(cs, isa, 2, b)) {
        T_CHECK(false, "bf16 compute: could not build the model");
        return;
    }
    const int32_t ids[] = {2, 100, 2000, 31, 7, 50000, 9, 12};
    const int S = 8, V = cs.c.vocab_size;
    std::vector<float> prompt[2], steps[2];
    for (int bf = 0; bf < 2; bf++) {
        Sess ss(b.model, S, bf ? PANOPT_DTYPE_BF16 : PANOPT_DTYPE_F32);
        panopt_forward_args a{};
        a.struct_size = sizeof a;
        a.batch = 1;
        a.seq_len = S;
        a.input_ids = ids;
        prompt[bf].resize((size_t)S * V);
        a.head_out = prompt[bf].data();
        T_CHECK(fwd(ss.s, a), "bf16 compute prompt");
        a.batch = S;
        a.seq_len = 1;
        steps[bf].resize((size_t)S * V);
        a.head_out = steps[bf].data();
        T_CHECK(fwd(ss.s, a), "bf16 compute steps");
    }
    double worst = 0;
    int agree = 0;
    for (int r = 0; r < S; r++) {
        const float* x = prompt[0].data() + (size_t)r * V;
        const float* y = prompt[1].data() + (size_t)r * V;
        float mx = 0, d = 0;
        for (int v = 0; v < V; v++) {
            mx = std::max(mx, std::fabs(x[v]));
            d = std::max(d, std::fabs(x[v] - y[v]));
        }
        worst = std::max(worst, (double)d / mx);
        agree += argmax(x, V) == argmax(y, V);
    }
    if (has)
        T_CHECK(worst > 1e-6 && worst <= 0.03, "bf16 compute prompt: %.3g of the row's max from f32 (bf16 products "
                "ran: > 1e-6; bound 0.03)", worst);
    else
        T_CHECK(worst == 0, "bf16 compute prompt on a table without bf16 products: %.3g from f32 (expected 0)", worst);
    T_CHECK(agree == S, "bf16 compute prompt: top-1 agrees with f32 at %d of %d positions", agree, S);
    T_CHECK(std::equal(steps[0].begin(), steps[0].end(), steps[1].begin()),
            "bf16 compute: a decode-shaped pass (8 rows of 1 position) differs from f32");
    std::printf("  bf16 compute, isa %d (%s): prompt max |dlogit| / max |logit| = %.2g (bound 0.03), top-1 %d/%d\n",
                isa, has ? "bf16 products" : "none: f32", worst, agree, S);
}

} // namespace

int run_forward_tests() {
    std::string root = t::fixtures_dir();
    if (root.empty()) {
        // A run without its reference data must not pass: it would have tested nothing.
        T_CHECK(false, "conformance fixtures not found (set PANOPT_FIXTURES or -DPANOPT_FIXTURES=DIR)");
        return 0;
    }
    const char* names[] = {"preln-tiny",     "postln-proj-tiny", "nobias-noaffine-tiny", "remove-final-ln-tiny",
                           "head-mask",      "inputs-embeds",    "opt125m-shape-f16",    "qa",
                           "seqcls-single",  "seqcls-multi",     "seqcls-regression"};
    for (const char* n : names) {
        Case cs;
        if (!load_case(root, n, cs)) {
            T_CHECK(false, "could not load case %s", n);
            continue;
        }
        for (int isa = PANOPT_ISA_SCALAR; isa <= PANOPT_ISA_NEON; isa++)
            for (int th = 1; th <= 2 && panopt::isa_supported(isa); th++) {
                tag = std::string(n) + " [isa " + std::to_string(isa) + ", " + std::to_string(th) + " thr]";
                int before = t::g_failures;
                Built built;
                if (build(cs, isa, th, built)) run_case(cs, built.model);
                else T_CHECK(false, "%s: could not build the model", tag.c_str());
                std::printf("  %-60s %s\n", tag.c_str(), t::g_failures == before ? "ok" : "FAILED");
            }
        if (std::string(n) == "opt125m-shape-f16") {
            quantized_across_isas(cs);
            bf16_compute(cs);
        }
    }
    return 0;
}
