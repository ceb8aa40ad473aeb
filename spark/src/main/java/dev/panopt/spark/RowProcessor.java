package dev.panopt.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Runs a group of rows through a task: fits each row to the model ({@link Truncation}), sorts the
 * rows that can run by length and cuts them into batches of {@code batchSize} (so a batch holds
 * rows of similar length and little padding), runs each batch, and gives the outcomes back in the
 * rows' order. A row the model rejects gets an error instead of failing the others: a batch the
 * Java API rejects with {@link IllegalArgumentException} runs again one row at a time, to find out
 * which rows are bad. Any other exception (a closed model, a native failure) is not a bad row and
 * fails the task.
 */
final class RowProcessor {
    private RowProcessor() {}

    /**
     * One row's result: the task's output values, or the error that replaced them.
     *
     * @param values    the output values in {@link TaskRunner#outputFields()} order, or null with an error
     * @param truncated whether an input was cut to fit
     * @param error     why the row has no output, or null
     */
    record Outcome(Object[] values, boolean truncated, String error) {
        static Outcome failed(String error) {
            return new Outcome(null, false, error);
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
        RowInput[] fitted = new RowInput[rows.size()];
        List<Integer> runnable = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            String[] in = rows.get(i);
            String nullColumn = null;
            for (int j = 0; j < in.length && nullColumn == null; j++) {
                nullColumn = in[j] == null ? options.inputColumns.get(j) : null;
            }
            if (nullColumn != null) {
                out[i] = Outcome.failed("column " + nullColumn + " is null");
                continue;
            }
            Truncation.Fit fit = Truncation.fit(runner, model.tokenizer, model.model.config(), options, in);
            if (fit.error() != null) {
                out[i] = Outcome.failed(fit.error());
            } else {
                fitted[i] = fit.input();
                runnable.add(i);
            }
        }
        runnable.sort(Comparator.comparingInt(i -> fitted[i].length()));
        for (int from = 0; from < runnable.size(); from += options.batchSize) {
            List<Integer> batch = runnable.subList(from, Math.min(runnable.size(), from + options.batchSize));
            runBatch(runner, model, options, batch, fitted, out);
        }
        return Arrays.asList(out);
    }

    private static void runBatch(TaskRunner runner, LoadedModel model, TaskOptions options, List<Integer> batch,
                                 RowInput[] fitted, Outcome[] out) {
        List<RowInput> inputs = new ArrayList<>(batch.size());
        for (int i : batch) {
            inputs.add(fitted[i]);
        }
        try {
            List<Object[]> values = runner.run(model, inputs, options);
            for (int k = 0; k < batch.size(); k++) {
                out[batch.get(k)] = new Outcome(values.get(k), fitted[batch.get(k)].truncated(), null);
            }
        } catch (IllegalArgumentException e) {
            if (batch.size() == 1) {
                out[batch.get(0)] = Outcome.failed(message(e));
                return;
            }
            for (int i : batch) {
                runBatch(runner, model, options, List.of(i), fitted, out);
            }
        }
    }

    private static String message(Exception e) {
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }
}
