package dev.panopt.spark;

import dev.panopt.OptConfig;
import dev.panopt.tokenizer.OptTokenizer;
import java.util.List;
import org.apache.spark.sql.types.StructField;

/**
 * What one task does on an executor: its output columns, how long its inputs may be, and how it
 * runs a batch of rows through the Java API. Implementations are stateless singletons.
 */
interface TaskRunner {
    /** {@return the model class the task loads} */
    ModelKind modelKind();

    /** {@return the task's output columns (before the prefix), without the error and truncation columns} */
    List<StructField> outputFields();

    /**
     * The most tokens the Java API accepts for one row of this task, as {@link #encodedLength}
     * counts them.
     */
    int tokenLimit(OptConfig config, TaskOptions options);

    /** {@return how many tokens the Java API makes of a row's inputs} */
    int encodedLength(OptTokenizer tokenizer, String[] inputs, TaskOptions options);

    /** {@return the index of the input that truncation cuts} */
    int truncatedInput();

    /** {@return the end of that input that truncation cuts, given the task's options} */
    default TaskOptions.Side truncationSide(TaskOptions options) {
        return options.truncationSide;
    }

    /**
     * Runs one batch through the Java API.
     *
     * @return one array of output values per row, in {@link #outputFields()} order
     * @throws IllegalArgumentException if a row's input is not acceptable to the model
     */
    List<Object[]> run(LoadedModel model, List<RowInput> batch, TaskOptions options);
}
