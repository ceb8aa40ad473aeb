package dev.panopt.tokenizer;

import java.util.Arrays;
import java.util.Objects;

/**
 * Ids → text as transformers' slow tokenizer decodes: the tokens' bytes joined and decoded as UTF-8
 * with Python's {@code errors="replace"}, legacy added tokens as whole words between spaces, special
 * tokens optionally dropped, and optional clean-up. Immutable; safe to share.
 */
final class TokenDecoder {
    private final Vocabulary vocabulary;

    TokenDecoder(Vocabulary vocabulary) {
        this.vocabulary = vocabulary;
    }

    String decode(int[] ids, boolean skipSpecialTokens, boolean cleanUpTokenizationSpaces) {
        Objects.requireNonNull(ids, "ids");
        StringBuilder out = new StringBuilder(ids.length * 4);
        byte[] buf = new byte[Math.max(16, ids.length * 4)];
        int n = 0;
        boolean anySub = false;
        for (int id : ids) {
            vocabulary.checkId(id);
            if (skipSpecialTokens && vocabulary.isSpecial(id)) {
                continue;
            }
            if (vocabulary.isLegacyAdded(id)) {
                if (n > 0) {
                    if (anySub) {
                        out.append(' ');
                    }
                    Utf8.decode(buf, 0, n, out);
                    n = 0;
                    anySub = true;
                }
                if (anySub) {
                    out.append(' ');
                }
                out.append(vocabulary.token(id));
                anySub = true;
                continue;
            }
            byte[] b = vocabulary.tokenBytes(id);
            if (n + b.length > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, n + b.length));
            }
            System.arraycopy(b, 0, buf, n, b.length);
            n += b.length;
        }
        if (n > 0) {
            if (anySub) {
                out.append(' ');
            }
            Utf8.decode(buf, 0, n, out);
        }
        String text = out.toString();
        return cleanUpTokenizationSpaces ? cleanUpTokenization(text) : text;
    }

    /** transformers' {@code clean_up_tokenization}, replacement by replacement in its order. */
    static String cleanUpTokenization(String text) {
        return text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }
}
