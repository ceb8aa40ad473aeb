package dev.panopt.tokenizer;

import java.util.Arrays;

/**
 * The state and rules of {@link OptTokenizer.StreamDecoder}: ids pushed one at a time, the completed text
 * returned at once, a trailing UTF-8 sequence that later bytes could still complete held back. Mutable
 * and not thread-safe.
 */
final class IncrementalDecoder {
    private final Vocabulary vocabulary;
    private final boolean skipSpecialTokens;
    private byte[] pending = new byte[16];
    private int pendingLength;
    /** Some sub-text (byte run or legacy added token) has been started: the next one needs a space. */
    private boolean anySubText;
    /** The current sub-text is a run of byte-level tokens. */
    private boolean inByteRun;

    IncrementalDecoder(Vocabulary vocabulary, boolean skipSpecialTokens) {
        this.vocabulary = vocabulary;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    String push(int id) {
        vocabulary.checkId(id);
        if (skipSpecialTokens && vocabulary.isSpecial(id)) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        if (vocabulary.isLegacyAdded(id)) {
            flushAll(out);
            if (anySubText) {
                out.append(' ');
            }
            out.append(vocabulary.token(id));
            anySubText = true;
            inByteRun = false;
            return out.toString();
        }
        byte[] b = vocabulary.tokenBytes(id);
        if (!inByteRun) {
            if (anySubText) {
                out.append(' ');
            }
            anySubText = true;
            inByteRun = true;
        }
        if (pendingLength + b.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + b.length));
        }
        System.arraycopy(b, 0, pending, pendingLength, b.length);
        pendingLength += b.length;
        int tail = Utf8.incompleteTail(pending, pendingLength);
        int ready = pendingLength - tail;
        Utf8.decode(pending, 0, ready, out);
        System.arraycopy(pending, ready, pending, 0, tail);
        pendingLength = tail;
        return out.toString();
    }

    String finish() {
        StringBuilder out = new StringBuilder();
        flushAll(out);
        anySubText = false;
        inByteRun = false;
        return out.toString();
    }

    private void flushAll(StringBuilder out) {
        Utf8.decode(pending, 0, pendingLength, out);
        pendingLength = 0;
    }
}
