#include "session.h"

#include <string>

#include "backend.h"
#include "dtype.h"
#include "error.h"

namespace panopt {

void session_init(panopt_session* s, const panopt_model* m, const panopt_session_options& o) {
    const panopt_config& c = m->cfg;
    if (o.cache_dtype != PANOPT_DTYPE_F32 && o.cache_dtype != PANOPT_DTYPE_F16 && o.cache_dtype != PANOPT_DTYPE_Q8_0)
        fail(PANOPT_ERR_UNSUPPORTED, "cache_dtype must be PANOPT_DTYPE_F32, F16 or Q8_0, got " +
                                         std::to_string(o.cache_dtype));
    const int64_t head_dim = c.hidden_size / c.num_attention_heads;
    if (row_bytes(o.cache_dtype, head_dim) < 0)
        fail(PANOPT_ERR_UNSUPPORTED, "a " + std::string(type_traits(o.cache_dtype)->name) + " cache needs head_dim (" +
                                         std::to_string(head_dim) + ") to be a multiple of " +
                                         std::to_string(type_traits(o.cache_dtype)->block_elems));
    if (!type_traits(o.cache_dtype)->from_f32)
        fail(PANOPT_ERR_UNSUPPORTED, std::string("no ") + type_traits(o.cache_dtype)->name + " conversion in this build");
    if (o.max_batch < 1) fail(PANOPT_ERR_INVALID_ARGUMENT, "max_batch must be >= 1");
    if (o.max_seq_len < 1 || o.max_seq_len > c.max_position_embeddings)
        fail(PANOPT_ERR_INVALID_ARGUMENT, "max_seq_len must be in 1..max_position_embeddings (" +
                                              std::to_string(c.max_position_embeddings) + ")");
    s->model = m;
    s->max_batch = o.max_batch;
    s->max_seq_len = o.max_seq_len;
    s->exec = m->backend->new_executor(*m, o.max_batch, o.max_seq_len, o.cache_dtype);
}

} // namespace panopt
