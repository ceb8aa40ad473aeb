package dev.panopt.spark;

import dev.panopt.tokenizer.Encoding;
import dev.panopt.tokenizer.OptTokenizer;

/**
 * Truncation of {@code scoreContinuations}' pairs, which the Java API does not cut: like
 * lm-evaluation-harness, a pair longer than the model takes keeps its continuation and the end of
 * its context. The context is cut at a token boundary of its own text, and the pair is measured
 * again as {@link dev.panopt.OptForCausalLM#scoreContinuations} encodes it, so the cut pair fits.
 */
final class ContextTruncation {
    private ContextTruncation() {}

    /**
     * The longest end of {@code context} with which the pair has at most {@code limit} tokens.
     *
     * @throws IllegalArgumentException if even an empty context leaves the pair too long
     */
    static String fit(OptTokenizer tokenizer, String context, String continuation, boolean addSpecialTokens, int limit) {
        int n = length(tokenizer, context, continuation, addSpecialTokens);
        if (n <= limit) {
            return context;
        }
        Encoding enc = tokenizer.encodeWithOffsets(context, false);
        // Drop the excess from the start, then one more token at a time while the cut text encodes longer.
        for (int drop = n - limit; drop < enc.length(); drop++) {
            String tail = context.substring(startOfToken(context, enc, drop));
            if (length(tokenizer, tail, continuation, addSpecialTokens) <= limit) {
                return tail;
            }
        }
        throw new IllegalArgumentException("the continuation is too long for the model: " + n + " tokens with its "
                + "context, more than " + limit + ", and cutting the context cannot make it fit");
    }

    /**
     * The pair's ids are the context's followed by the rest of {@code context + continuation}'s, so
     * together they are that text's encoding; an empty context is the BOS, one more id without special tokens.
     */
    private static int length(OptTokenizer tokenizer, String context, String continuation, boolean addSpecialTokens) {
        int n = tokenizer.encode(context + continuation, addSpecialTokens).length;
        return context.isEmpty() && !addSpecialTokens ? n + 1 : n;
    }

    /** The character offset where token {@code i} starts, moved off the middle of a surrogate pair. */
    private static int startOfToken(String text, Encoding enc, int i) {
        int at = enc.startOffsets()[i];
        return at > 0 && at < text.length() && Character.isLowSurrogate(text.charAt(at)) ? at + 1 : at;
    }
}
