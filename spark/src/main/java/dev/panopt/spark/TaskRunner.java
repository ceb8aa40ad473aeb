package dev.panopt.spark;

import java.util.List;

/** How a task runs a batch of rows through the Java API on an executor. */
@FunctionalInterface
interface TaskRunner {
    /**
     * Runs one batch through the Java API.
     *
     * @param batch the rows' inputs, in {@link TaskOptions#inputColumns} order, none null
     * @return one array of output values per row, in {@link Task#outputFields()} order
     * @throws IllegalArgumentException if a row's input is not acceptable to the model
     *     ({@link dev.panopt.InputTooLongException} naming the row when it is too long)
     */
    List<Object[]> run(LoadedModel model, List<String[]> batch, TaskOptions options);

    /** {@return the first input of every row} */
    static List<String> first(List<String[]> batch) {
        return batch.stream().map(r -> r[0]).toList();
    }

    /** {@return the second input of every row} */
    static List<String> second(List<String[]> batch) {
        return batch.stream().map(r -> r[1]).toList();
    }
}
