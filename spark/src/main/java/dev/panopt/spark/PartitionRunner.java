package dev.panopt.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * The function {@link PanoptTransformer#transform} maps over each partition: it reads the
 * partition in windows of {@code sortWindow} rows, runs each window through {@link RowProcessor}
 * on the executor's shared model, and gives every input row back in its order with the task's
 * columns appended. Nothing is loaded for an empty partition.
 */
final class PartitionRunner implements MapPartitionsFunction<Row, Row>, Serializable {
    private static final long serialVersionUID = 1L;

    private final TaskOptions options;
    private final HadoopConf hadoop;
    private final ModelLoadsAccumulator loads;
    /** The positions of the input columns in the input rows, in {@link TaskOptions#inputColumns} order. */
    private final int[] inputIndexes;

    PartitionRunner(TaskOptions options, HadoopConf hadoop, ModelLoadsAccumulator loads, int[] inputIndexes) {
        this.options = options;
        this.hadoop = hadoop;
        this.loads = loads;
        this.inputIndexes = inputIndexes.clone();
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        return new Iterator<>() {
            private final List<Row> ready = new ArrayList<>();
            private int next;

            @Override
            public boolean hasNext() {
                if (next < ready.size()) {
                    return true;
                }
                ready.clear();
                next = 0;
                if (!rows.hasNext()) {
                    return false;
                }
                runWindow();
                return true;
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.get(next++);
            }

            private void runWindow() {
                List<Row> window = new ArrayList<>(options.sortWindow);
                while (window.size() < options.sortWindow && rows.hasNext()) {
                    window.add(rows.next());
                }
                List<String[]> inputs = new ArrayList<>(window.size());
                for (Row r : window) {
                    String[] in = new String[inputIndexes.length];
                    for (int j = 0; j < in.length; j++) {
                        in[j] = r.isNullAt(inputIndexes[j]) ? null : r.getString(inputIndexes[j]);
                    }
                    inputs.add(in);
                }
                LoadedModel model = ExecutorModels.acquire(options, hadoop, loads);
                List<RowProcessor.Outcome> outcomes = RowProcessor.process(model, options, inputs);
                for (int i = 0; i < window.size(); i++) {
                    ready.add(append(window.get(i), outcomes.get(i)));
                }
            }
        };
    }

    /** The input row followed by the task's values (nulls on error) and the error. */
    private Row append(Row in, RowProcessor.Outcome o) {
        Object[] extra = OutputColumns.values(options, o);
        Object[] all = new Object[in.size() + extra.length];
        for (int i = 0; i < in.size(); i++) {
            all[i] = in.get(i);
        }
        System.arraycopy(extra, 0, all, in.size(), extra.length);
        return RowFactory.create(all);
    }
}
