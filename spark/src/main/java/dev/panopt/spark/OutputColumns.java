package dev.panopt.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * The columns a task adds (the same fields make the struct a SQL function returns): the task's
 * outputs, then {@code error} — null for a row that ran, the reason for one that could not (its
 * outputs are then null).
 */
final class OutputColumns {
    private OutputColumns() {}

    /** {@return the added fields, named with {@code outputPrefix} before each} */
    static List<StructField> fields(TaskOptions o) {
        List<StructField> f = new ArrayList<>();
        for (StructField s : o.task.outputFields()) {
            f.add(DataTypes.createStructField(o.outputPrefix + s.name(), s.dataType(), true));
        }
        f.add(DataTypes.createStructField(o.outputPrefix + "error", DataTypes.StringType, true));
        return f;
    }

    /** {@return one row's values of the added fields} */
    static Object[] values(TaskOptions o, RowProcessor.Outcome outcome) {
        int n = o.task.outputFields().size();
        Object[] v = new Object[n + 1];
        if (outcome.values() != null) {
            System.arraycopy(outcome.values(), 0, v, 0, n);
        }
        v[n] = outcome.error();
        return v;
    }
}
