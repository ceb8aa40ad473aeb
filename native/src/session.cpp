#include "session.h"

#include "error.h"

namespace panopt {

void session_init(panopt_session* s, const panopt_model* m, const panopt_session_options& o) {
    const panopt_config& c = m->cfg;
    if (o.max_batch < 1) fail(PANOPT_ERR_INVALID_ARGUMENT, "max_batch must be >= 1");
    if (o.max_seq_len < 1 || o.max_seq_len > c.max_position_embeddings)
        fail(PANOPT_ERR_INVALID_ARGUMENT, "max_seq_len must be in 1..max_position_embeddings (" +
                                              std::to_string(c.max_position_embeddings) + ")");
    if (o.n_threads < 0 || o.n_threads > 1024) fail(PANOPT_ERR_INVALID_ARGUMENT, "n_threads must be in 0..1024");
    if (o.isa < PANOPT_ISA_AUTO || o.isa > PANOPT_ISA_AVX512) fail(PANOPT_ERR_INVALID_ARGUMENT, "unknown isa");
    const Kernels* kt = kernels_for_isa(o.isa);
    if (!kt) fail(PANOPT_ERR_UNSUPPORTED, "requested ISA level is not supported by this CPU");
    s->model = m;
    s->opt = o;
    s->kt = kt;
    int nt = o.n_threads == 0 ? online_cpus() : o.n_threads;
    s->opt.n_threads = nt;
    const size_t n = (size_t)c.num_hidden_layers * o.max_batch * c.hidden_size * (size_t)o.max_seq_len;
    s->kcache.reserve(n);
    s->vcache.reserve(n);
    s->lin_scratch = std::vector<FloatBuf>(nt);
    s->pool.reset(new ThreadPool(nt));
}

} // namespace panopt
