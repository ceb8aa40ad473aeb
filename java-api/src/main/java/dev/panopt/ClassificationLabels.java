package dev.panopt;

/**
 * Labels of {@link OptForSequenceClassification}, in the three forms HF accepts. Which loss they
 * give follows HF: {@code problem_type} from the config when set, else regression for
 * num_labels == 1, single-label for integer labels, multi-label for float labels. Immutable; equality
 * is by value.
 */
public sealed interface ClassificationLabels {
    /** Class ids [batch] in [0, num_labels) or -100 (ignored): single-label cross-entropy. */
    static ClassificationLabels classIds(int... ids) {
        return new ClassIds(ids.clone());
    }

    /** One target value per row [batch]: regression with num_labels == 1 (MSE). */
    static ClassificationLabels values(float... values) {
        return new Values(values.clone());
    }

    /** [batch][num_labels] floats: multi-hot targets (BCE with logits) or regression targets (MSE). */
    static ClassificationLabels matrix(float[][] rows) {
        return new Matrix(rows);
    }

    /** Integer class ids. */
    record ClassIds(int[] ids) implements ClassificationLabels {
        public ClassIds {
            ids = ids.clone();
        }

        @Override
        public int[] ids() {
            return ids.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ClassIds c && java.util.Arrays.equals(ids, c.ids);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(ids);
        }

        @Override
        public String toString() {
            return "ClassIds" + java.util.Arrays.toString(ids);
        }
    }

    /** One float per row. */
    record Values(float[] values) implements ClassificationLabels {
        public Values {
            values = values.clone();
        }

        @Override
        public float[] values() {
            return values.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Values v && java.util.Arrays.equals(values, v.values);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return "Values" + java.util.Arrays.toString(values);
        }
    }

    /** A float row per example. */
    record Matrix(float[][] rows) implements ClassificationLabels {
        public Matrix {
            float[][] c = new float[rows.length][];
            for (int i = 0; i < rows.length; i++) {
                if (rows[i] == null) {
                    throw new IllegalArgumentException("labels row " + i + " is null");
                }
                c[i] = rows[i].clone();
            }
            rows = c;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Matrix m && java.util.Arrays.deepEquals(rows, m.rows);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.deepHashCode(rows);
        }

        @Override
        public String toString() {
            return "Matrix" + java.util.Arrays.deepToString(rows);
        }

        @Override
        public float[][] rows() {
            float[][] c = new float[rows.length][];
            for (int i = 0; i < rows.length; i++) {
                c[i] = rows[i].clone();
            }
            return c;
        }
    }
}
