#include "session.h"

#include <string>

#include "backend.h"
#include "error.h"

namespace panopt {

void session_init(panopt_session* s, const panopt_model* m, const panopt_session_options& o) {
    const panopt_config& c = m->cfg;
    if (o.reserved != 0) fail(PANOPT_ERR_INVALID_ARGUMENT, "reserved must be 0");
    if (o.max_batch < 1) fail(PANOPT_ERR_INVALID_ARGUMENT, "max_batch must be >= 1");
    if (o.max_seq_len < 1 || o.max_seq_len > c.max_position_embeddings)
        fail(PANOPT_ERR_INVALID_ARGUMENT, "max_seq_len must be in 1..max_position_embeddings (" +
                                              std::to_string(c.max_position_embeddings) + ")");
    s->model = m;
    s->max_batch = o.max_batch;
    s->max_seq_len = o.max_seq_len;
    s->exec = m->backend->new_executor(*m, o.max_batch, o.max_seq_len);
}

} // namespace panopt
