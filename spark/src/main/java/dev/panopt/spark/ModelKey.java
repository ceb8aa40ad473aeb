package dev.panopt.spark;

import dev.panopt.Isa;

/**
 * What makes two tasks share one loaded model on an executor: the same files read the same way,
 * as the same model class in the same weight formats, on a backend of the same threads and kernels.
 */
record ModelKey(String model, String tokenizer, TaskOptions.ModelCopy modelCopy, ModelKind kind, String quantization,
                int threads, Isa isa) {
    static ModelKey of(TaskOptions o, int threads) {
        return new ModelKey(o.model, o.tokenizer, o.modelCopy, o.task.modelKind(), o.quantization, threads, o.isa);
    }
}
