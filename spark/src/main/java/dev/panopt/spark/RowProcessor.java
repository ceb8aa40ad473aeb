package dev.panopt.spark;

import dev.panopt.InputTooLongException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Runs a group of rows through a task: sorts the rows by length and cuts them into batches of
 * {@code batchSize} (so a batch holds rows of similar length and little padding), runs each batch,
 * and gives the outcomes back in the rows' order. A row the model rejects gets an error instead of
 * failing the others: a row the Java API names as too long ({@link InputTooLongException}) leaves the
 * batch, which runs again without it; a batch rejected otherwise ({@link IllegalArgumentException})
 * runs again one row at a time, to find out which rows are bad. Any other exception (a closed model,
 * a native failure) is not a bad row and fails the task.
 */
final class RowProcessor {
    private RowProcessor() {}

    /**
     * One row's result: the task's output values, or the error that replaced them.
     *
     * @param values the output values in {@link Task#outputFields()} order, or null with an error
     * @param error  why the row has no output, or null
     */
    record Outcome(Object[] values, String error) {
        static Outcome failed(String error) {
            return new Outcome(null, error);
        }
    }

    /**
     * Processes rows of input strings (in {@link TaskOptions#inputColumns} order; a null is a null column value).
     *
     * @return one outcome per row, in order
     */
    static List<Outcome> process(LoadedModel model, TaskOptions options, List<String[]> rows) {
        TaskRunner runner = options.task.runner();
        Outcome[] out = new Outcome[rows.size()];
        List<Integer> runnable = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            String nullColumn = null;
            for (int j = 0; j < rows.get(i).length && nullColumn == null; j++) {
                nullColumn = rows.get(i)[j] == null ? options.inputColumns.get(j) : null;
            }
            if (nullColumn != null) {
                out[i] = Outcome.failed("column " + nullColumn + " is null");
            } else {
                runnable.add(i);
            }
        }
        runnable.sort(Comparator.comparingInt(i -> length(rows.get(i))));
        for (int from = 0; from < runnable.size(); from += options.batchSize) {
            List<Integer> batch = new ArrayList<>(runnable.subList(from, Math.min(runnable.size(), from + options.batchSize)));
            runBatch(runner, model, options, batch, rows, out);
        }
        return Arrays.asList(out);
    }

    private static void runBatch(TaskRunner runner, LoadedModel model, TaskOptions options, List<Integer> batch,
                                 List<String[]> rows, Outcome[] out) {
        while (!batch.isEmpty()) {
            List<String[]> inputs = new ArrayList<>(batch.size());
            for (int i : batch) {
                inputs.add(rows.get(i));
            }
            try {
                List<Object[]> values = runner.run(model, inputs, options);
                for (int k = 0; k < batch.size(); k++) {
                    out[batch.get(k)] = new Outcome(values.get(k), null);
                }
                return;
            } catch (InputTooLongException e) {
                out[batch.remove(e.index())] = Outcome.failed(tooLong(e, options));
            } catch (IllegalArgumentException e) {
                if (batch.size() == 1) {
                    out[batch.get(0)] = Outcome.failed(e.getMessage() != null ? e.getMessage() : e.toString());
                } else {
                    for (int i : batch) {
                        runBatch(runner, model, options, new ArrayList<>(List.of(i)), rows, out);
                    }
                }
                return;
            }
        }
    }

    /** The Java API's reason, without its index into the batch (which the row's user never saw). */
    private static String tooLong(InputTooLongException e, TaskOptions options) {
        return "the input has " + e.length() + " tokens, more than the " + e.limit() + " the model takes"
                + (options.task.ownOptions().contains("truncation") ? "; .option(\"truncation\", true) cuts it" : "");
    }

    private static int length(String[] row) {
        int n = 0;
        for (String s : row) {
            n += s.length();
        }
        return n;
    }
}
