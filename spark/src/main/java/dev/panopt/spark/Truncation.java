package dev.panopt.spark;

import dev.panopt.OptConfig;
import dev.panopt.tokenizer.Encoding;
import dev.panopt.tokenizer.OptTokenizer;

/**
 * Fits a row to the model before it runs: an input longer than the task takes becomes the row's
 * error ({@code overflow=error}) or loses tokens from one end of one input ({@code overflow=truncate}).
 * The cut is made at a token boundary of the text itself, and the shortened row is measured again
 * as the Java API will encode it, so the row that runs always fits.
 */
final class Truncation {
    /**
     * Byte-level BPE makes at most one token per UTF-8 byte; a row adds at most this many special
     * tokens (BOS, separators). A row whose bytes plus this fit needs no tokenizing here.
     */
    private static final int SPECIAL_TOKEN_ALLOWANCE = 4;

    private Truncation() {}

    /** A row ready to run, or why it cannot. */
    record Fit(RowInput input, String error) {}

    static Fit fit(TaskRunner runner, OptTokenizer tokenizer, OptConfig config, TaskOptions options, String[] inputs) {
        int limit = runner.tokenLimit(config, options);
        if (utf8Length(inputs) + SPECIAL_TOKEN_ALLOWANCE <= limit) {
            return new Fit(new RowInput(inputs, 0, false), null);
        }
        int n = runner.encodedLength(tokenizer, inputs, options);
        if (n <= limit) {
            return new Fit(new RowInput(inputs, 0, false), null);
        }
        String why = "the input is " + n + " tokens, more than the " + Math.max(limit, 0) + " that " + options.task
                + " takes with this model (max_position_embeddings " + config.maxPositionEmbeddings()
                + (options.task == Task.GENERATE ? ", less maxNewTokens " + options.generationConfig().maxNewTokens() : "")
                + ")";
        if (options.overflow == TaskOptions.Overflow.ERROR) {
            return new Fit(null, why + "; .option(\"overflow\", \"truncate\") cuts such inputs instead");
        }
        int index = runner.truncatedInput();
        boolean left = runner.truncationSide(options) == TaskOptions.Side.LEFT;
        String text = inputs[index];
        Encoding enc = tokenizer.encodeWithOffsets(text, false);
        // Drop the excess, then one more token at a time while re-encoding the cut text gives more.
        for (int drop = n - limit; drop < enc.length(); drop++) {
            int cut = left ? startOfToken(text, enc, drop) : endOfToken(text, enc, enc.length() - drop - 1);
            String[] shorter = inputs.clone();
            shorter[index] = left ? text.substring(cut) : text.substring(0, cut);
            if (runner.encodedLength(tokenizer, shorter, options) <= limit) {
                return new Fit(new RowInput(shorter, left ? cut : 0, true), null);
            }
        }
        return new Fit(null, why + ", and cutting column " + options.inputColumns.get(index) + " cannot make it fit");
    }

    /** The character offset where token {@code i} starts, moved off the middle of a surrogate pair. */
    private static int startOfToken(String text, Encoding enc, int i) {
        int at = enc.startOffsets()[i];
        return at > 0 && at < text.length() && Character.isLowSurrogate(text.charAt(at)) ? at + 1 : at;
    }

    /** The character offset where token {@code i} ends, moved off the middle of a surrogate pair. */
    private static int endOfToken(String text, Encoding enc, int i) {
        int at = enc.endOffsets()[i];
        return at > 0 && at < text.length() && Character.isHighSurrogate(text.charAt(at - 1)) ? at - 1 : at;
    }

    private static long utf8Length(String[] inputs) {
        long n = 0;
        for (String s : inputs) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                // An upper bound: a surrogate pair is 4 bytes for its 2 units, a lone one 3 (U+FFFD).
                n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
            }
        }
        return n;
    }
}
