package dev.panopt.spark;

import dev.panopt.Backend;
import dev.panopt.OptPreTrainedModel;
import dev.panopt.tokenizer.OptTokenizer;

/**
 * A model held by an executor: the model on its own backend (sized to the executor's task cores)
 * and its tokenizer. Owned by {@link ExecutorModels}, which closes it when the executor stops.
 * Thread-safe: the model and tokenizer are, and every task of the executor shares them.
 */
final class LoadedModel implements AutoCloseable {
    final OptPreTrainedModel model;
    final OptTokenizer tokenizer;
    private final Backend backend;

    LoadedModel(OptPreTrainedModel model, OptTokenizer tokenizer, Backend backend) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.backend = backend;
    }

    /** {@return the model as the class a runner needs} */
    <M extends OptPreTrainedModel> M as(Class<M> type) {
        return type.cast(model);
    }

    /** Closes the model, then its backend. */
    @Override
    public void close() {
        try {
            model.close();
        } finally {
            backend.close();
        }
    }
}
