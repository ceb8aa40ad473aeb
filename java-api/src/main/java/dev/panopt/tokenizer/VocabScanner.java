package dev.panopt.tokenizer;

/**
 * A fast reader for what {@code vocab.json} is in practice: one flat JSON object of string keys and
 * small non-negative integer ids. It builds the {@link TokenTable} directly, without the general
 * parser's maps and boxed numbers, which dominate the time to load a tokenizer.
 *
 * <p>It accepts only input the strict parser ({@link dev.panopt.internal.Json}) would accept with the
 * same result: anything else — malformed JSON, a duplicate key, an empty key, a number with a sign,
 * fraction, exponent or leading zero, an id above {@code 10_000_000}, an empty object — makes
 * {@link #scan} return null, and the caller reads the file with the strict parser, which gives the
 * error (or, for merely unusual input, the same table). Stateless; thread-safe.
 */
final class VocabScanner {
    /** Largest id a vocabulary may give a token (as the strict reader checks). */
    private static final int MAX_ID = 10_000_000;

    private VocabScanner() {}

    /** The vocabulary in {@code text}, or null when the strict reader must decide. */
    static TokenTable scan(String text) {
        int n = text.length();
        TokenTable table = new TokenTable(Math.max(16, n / 16));
        int i = skipWs(text, 0);
        if (i >= n || text.charAt(i) != '{') {
            return null;
        }
        i = skipWs(text, i + 1);
        if (i < n && text.charAt(i) == '}') {
            return null;  // empty: the strict reader reports it
        }
        StringBuilder sb = null;
        while (true) {
            if (i >= n || text.charAt(i) != '"') {
                return null;
            }
            // key
            int start = i + 1;
            int j = start;
            String key;
            while (j < n) {
                char c = text.charAt(j);
                if (c == '"' || c == '\\' || c < 0x20) {
                    break;
                }
                j++;
            }
            if (j >= n) {
                return null;
            }
            if (text.charAt(j) == '"') {
                key = text.substring(start, j);
                i = j + 1;
            } else if (text.charAt(j) == '\\') {
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.setLength(0);
                sb.append(text, start, j);
                i = unescape(text, j, sb);
                if (i < 0) {
                    return null;
                }
                key = sb.toString();
            } else {
                return null;  // a control character
            }
            if (key.isEmpty()) {
                return null;
            }
            i = skipWs(text, i);
            if (i >= n || text.charAt(i) != ':') {
                return null;
            }
            i = skipWs(text, i + 1);
            // id: 0 or [1-9][0-9]*, at most MAX_ID
            if (i >= n) {
                return null;
            }
            char d = text.charAt(i);
            if (d < '0' || d > '9') {
                return null;
            }
            long id = d - '0';
            i++;
            if (d == '0' && i < n && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
                return null;  // leading zero
            }
            while (i < n && (d = text.charAt(i)) >= '0' && d <= '9') {
                id = id * 10 + (d - '0');
                if (id > MAX_ID) {
                    return null;
                }
                i++;
            }
            if (i < n && (text.charAt(i) == '.' || text.charAt(i) == 'e' || text.charAt(i) == 'E')) {
                return null;
            }
            if (table.put(key, (int) id) >= 0) {
                return null;  // duplicate key
            }
            i = skipWs(text, i);
            if (i >= n) {
                return null;
            }
            char sep = text.charAt(i);
            if (sep == ',') {
                i = skipWs(text, i + 1);
            } else if (sep == '}') {
                return skipWs(text, i + 1) == n ? table : null;
            } else {
                return null;
            }
        }
    }

    private static int skipWs(String s, int i) {
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                break;
            }
            i++;
        }
        return i;
    }

    /**
     * Decodes the rest of a string from the backslash at {@code i} into {@code sb}; returns the index
     * after the closing quote, or -1 for anything the strict parser would reject.
     */
    private static int unescape(String s, int i, StringBuilder sb) {
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c == '"') {
                return i + 1;
            }
            if (c < 0x20) {
                return -1;
            }
            if (c != '\\') {
                sb.append(c);
                i++;
                continue;
            }
            if (i + 1 >= n) {
                return -1;
            }
            char e = s.charAt(i + 1);
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    if (i + 6 > n) {
                        return -1;
                    }
                    int v = 0;
                    for (int k = i + 2; k < i + 6; k++) {
                        char x = s.charAt(k);
                        int h = x >= '0' && x <= '9' ? x - '0' : x >= 'a' && x <= 'f' ? x - 'a' + 10
                                : x >= 'A' && x <= 'F' ? x - 'A' + 10 : -1;
                        if (h < 0) {
                            return -1;
                        }
                        v = v * 16 + h;
                    }
                    sb.append((char) v);
                    i += 4;
                }
                default -> {
                    return -1;
                }
            }
            i += 2;
        }
        return -1;
    }
}
