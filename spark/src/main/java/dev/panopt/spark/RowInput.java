package dev.panopt.spark;

/**
 * One row's inputs as a task's runner takes them (in {@link TaskOptions#inputColumns} order),
 * after any truncation.
 *
 * @param values     the input strings, none null
 * @param cutPrefix  how many characters were cut from the start of the truncated input (left
 *                   truncation), so that offsets into it can be given in the original text
 * @param truncated  whether an input was cut to fit the model
 */
record RowInput(String[] values, int cutPrefix, boolean truncated) {
    /** {@return the summed length of the inputs, the proxy by which rows are sorted into batches} */
    int length() {
        int n = 0;
        for (String v : values) {
            n += v.length();
        }
        return n;
    }
}
