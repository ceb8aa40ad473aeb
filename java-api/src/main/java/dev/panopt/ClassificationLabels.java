package dev.panopt;

/**
 * Labels of {@link OptForSequenceClassification}, in the three forms HF accepts. Which loss they
 * give follows HF: {@code problem_type} from the config when set, else regression for
 * num_labels == 1, single-label for integer labels, multi-label for float labels. Immutable; equality
 * is by value.
 */
public sealed interface ClassificationLabels {
    /**
     * Class ids [batch] in [0, num_labels) or -100 (ignored): single-label cross-entropy.
     *
     * @param ids one class id per row (copied)
     * @return the labels
     */
    static ClassificationLabels classIds(int... ids) {
        return new ClassIds(ids.clone());
    }

    /**
     * One target value per row [batch]: regression with num_labels == 1 (MSE).
     *
     * @param values one target per row (copied)
     * @return the labels
     */
    static ClassificationLabels values(float... values) {
        return new Values(values.clone());
    }

    /**
     * [batch][num_labels] floats: multi-hot targets (BCE with logits) or regression targets (MSE).
     *
     * @param rows one row of num_labels targets per example (copied)
     * @return the labels
     * @throws IllegalArgumentException if a row is null
     */
    static ClassificationLabels matrix(float[][] rows) {
        return new Matrix(rows);
    }

    /**
     * Integer class ids.
     *
     * @param ids one class id per row, in [0, num_labels) or -100 (ignored)
     */
    record ClassIds(int[] ids) implements ClassificationLabels {
        /**
         * Copies {@code ids}.
         *
         * @param ids one class id per row, in [0, num_labels) or -100 (ignored)
         */
        public ClassIds {
            ids = ids.clone();
        }

        /**
         * The class ids.
         *
         * @return a copy of the ids
         */
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

    /**
     * One float per row.
     *
     * @param values one regression target per row
     */
    record Values(float[] values) implements ClassificationLabels {
        /**
         * Copies {@code values}.
         *
         * @param values one regression target per row
         */
        public Values {
            values = values.clone();
        }

        /**
         * The targets.
         *
         * @return a copy of the values
         */
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

    /**
     * A float row per example.
     *
     * @param rows [batch][num_labels] targets: multi-hot or regression
     */
    record Matrix(float[][] rows) implements ClassificationLabels {
        /**
         * Copies every row.
         *
         * @param rows [batch][num_labels] targets: multi-hot or regression
         * @throws IllegalArgumentException if a row is null
         */
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

        /**
         * The targets.
         *
         * @return a deep copy of the rows
         */
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
