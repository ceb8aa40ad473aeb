package dev.panopt.spark;

import java.io.Serializable;
import java.util.Objects;

/**
 * One load of a model by an executor, as reported to a {@link ModelLoadsAccumulator}: an executor
 * loads each model once and shares it between its tasks, so a job reports one load per executor
 * that ran its tasks (and none for executors that held the model from an earlier job).
 *
 * @param executorId  the executor's id ({@code "driver"} in local mode)
 * @param host        the executor's host
 * @param model       the model location as given in the options
 * @param modelClass  the Panopt class loaded, e.g. {@code OptForSequenceClassification}
 * @param threads     the native threads of the model's backend
 * @param copiedBytes bytes copied to the executor's disk first (0 when read in place)
 * @param copyMillis  milliseconds spent copying
 * @param loadMillis  milliseconds spent loading the checkpoint and tokenizer (after any copy)
 */
public record ModelLoad(String executorId, String host, String model, String modelClass, int threads, long copiedBytes,
                        long copyMillis, long loadMillis) implements Serializable {
    /**
     * Checks the fields.
     *
     * @param executorId  the executor's id
     * @param host        the executor's host
     * @param model       the model location
     * @param modelClass  the Panopt class loaded
     * @param threads     the backend's native threads
     * @param copiedBytes bytes copied first
     * @param copyMillis  milliseconds copying
     * @param loadMillis  milliseconds loading
     */
    public ModelLoad {
        Objects.requireNonNull(executorId, "executorId");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(modelClass, "modelClass");
    }
}
