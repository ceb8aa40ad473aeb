package dev.panopt.tokenizer;

import java.util.Arrays;

/**
 * The algorithmic core of GPT-2's byte-level BPE as transformers' slow {@code GPT2Tokenizer} runs it:
 * the pre-tokenizer regex {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}
 * (Python {@code regex} semantics) as a hand-written scanner, the byte-to-unicode alphabet and the merge
 * loop ({@link Utf8} has the UTF-8 rules).
 *
 * <p>Scanner classes: {@code \p{L}} = general categories Lu, Ll, Lt, Lm, Lo; {@code \p{N}} = Nd, Nl, No;
 * {@code \s} = the Unicode White_Space property (U+0009..U+000D, U+0020, U+0085, U+00A0, U+1680,
 * U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), exactly the set the {@code regex} module
 * matches. Code points are read as surrogate pairs; an unpaired surrogate is "other" and is encoded as
 * U+FFFD's UTF-8 bytes (Python cannot encode it at all).
 *
 * <p>Thread-safety: immutable after construction except for the word cache, a fixed-size direct-mapped
 * array of immutable entries (all fields final, so a racing reader sees either a complete entry or
 * another one; a lost write only costs a recomputation). Safe for concurrent use.
 */
final class ByteLevelBpe {
    /** GPT-2's bytes_to_unicode: byte value → printable character. */
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Inverse of {@link #BYTE_TO_CHAR}: character → byte value, -1 where none. */
    private static final short[] CHAR_TO_BYTE = new short[324];

    static {
        Arrays.fill(CHAR_TO_BYTE, (short) -1);
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) {
            printable[b] = true;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            printable[b] = true;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            printable[b] = true;
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            char c = printable[b] ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = (short) b;
        }
    }

    private static final byte OTHER = 0;
    private static final byte LETTER = 1;
    private static final byte NUMBER = 2;
    private static final byte SPACE = 3;
    private static final byte[] ASCII_CLASS = new byte[128];

    static {
        for (int c = 0; c < 128; c++) {
            ASCII_CLASS[c] = classOfSlow(c);
        }
    }

    private static final int CACHE_BITS = 17;
    private static final int MAX_CACHED_WORD = 128;

    /** One cached word: its text, token ids and the UTF-8 byte length of each token. */
    private record Entry(String word, int[] ids, int[] byteLens) {}

    private final int[] byteSymbol = new int[256];
    private final int extraBase;
    private final int unkId;
    /** Open addressing: key (left << 32 | right) → (rank << 32 | merged symbol). */
    private final long[] mergeKeys;
    private final long[] mergeVals;
    private final int mergeMask;
    private final Entry[] cache = new Entry[1 << CACHE_BITS];

    /**
     * @param vocab token string → id
     * @param merges merge pairs in rank order (a later duplicate overrides an earlier one, as the slow
     *     tokenizer's dict does)
     * @param unkId the id for a BPE result that is not in the vocabulary
     */
    ByteLevelBpe(TokenTable vocab, TokenizerFiles.Merges merges, int unkId) {
        this.unkId = unkId;
        extraBase = vocab.maxValue() + 1;
        Symbols sym = new Symbols(vocab, extraBase);
        for (int b = 0; b < 256; b++) {
            String c = String.valueOf(BYTE_TO_CHAR[b]);
            byteSymbol[b] = sym.of(c.hashCode(), c, 0, 1, 1, 1);
        }
        int cap = Integer.highestOneBit(Math.max(16, merges.size() * 2 + 1)) << 1;
        mergeKeys = new long[cap];
        mergeVals = new long[cap];
        Arrays.fill(mergeKeys, -1L);
        mergeMask = cap - 1;
        String t = merges.text();
        int[] first = merges.first();
        int[] firstEnd = merges.firstEnd();
        int[] end = merges.end();
        for (int rank = 0; rank < first.length; rank++) {
            int a0 = first[rank];
            int a1 = firstEnd[rank];
            int b0 = a1 + 1;
            int b1 = end[rank];
            int ha = TokenTable.hash(t, a0, a1);
            int hb = TokenTable.hash(t, b0, b1);
            int a = sym.of(ha, t, a0, a1, a1, a1);
            int b = sym.of(hb, t, b0, b1, b1, b1);
            int merged = sym.of(TokenTable.concatHash(ha, hb, b1 - b0), t, a0, a1, b0, b1);
            long key = ((long) a << 32) | (b & 0xffffffffL);
            int slot = slot(key);
            while (mergeKeys[slot] != -1L && mergeKeys[slot] != key) {
                slot = (slot + 1) & mergeMask;
            }
            mergeKeys[slot] = key;
            mergeVals[slot] = ((long) rank << 32) | (merged & 0xffffffffL);
        }
    }

    /**
     * Symbol ids of strings: the vocabulary's id, or for a string the vocabulary lacks (a merge part
     * that is no token of its own) the next id from {@code extraBase} on, which decodes as the unknown token.
     */
    private static final class Symbols {
        private final TokenTable vocab;
        private final java.util.Map<String, Integer> extra = new java.util.HashMap<>();
        private int next;

        Symbols(TokenTable vocab, int extraBase) {
            this.vocab = vocab;
            this.next = extraBase;
        }

        /** The symbol of {@code s[a, b) + s[c, d)}, whose {@link String#hashCode()} is {@code h}. */
        int of(int h, String s, int a, int b, int c, int d) {
            int id = vocab.get(h, s, a, b, c, d);
            if (id >= 0) {
                return id;
            }
            String key = s.substring(a, b) + s.substring(c, d);
            return extra.computeIfAbsent(key, k -> next++);
        }
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mergeMask;
    }

    private long mergeOf(int a, int b) {
        long key = ((long) a << 32) | (b & 0xffffffffL);
        int slot = slot(key);
        while (true) {
            long k = mergeKeys[slot];
            if (k == key) {
                return mergeVals[slot];
            }
            if (k == -1L) {
                return -1L;
            }
            slot = (slot + 1) & mergeMask;
        }
    }

    /** The byte-level character of a byte (GPT-2's bytes_to_unicode). */
    public static char byteToChar(int b) {
        return BYTE_TO_CHAR[b & 0xff];
    }

    /** The byte a byte-level character stands for, or -1 when it is not in the alphabet. */
    public static int charToByte(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /**
     * The bytes a token string stands for: each byte-level character → its byte; a character outside
     * the alphabet (possible only in added tokens) → its own UTF-8 bytes.
     */
    public static byte[] tokenBytes(String token) {
        byte[] out = new byte[token.length() * 3];
        int n = 0;
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            int b = charToByte(c);
            if (b >= 0) {
                out[n++] = (byte) b;
            } else {
                if (out.length < n + 4) {
                    out = Arrays.copyOf(out, out.length * 2 + 4);
                }
                n = Utf8.encodeChar(token, i, out, n);
                if (Character.isHighSurrogate(c) && i + 1 < token.length()
                        && Character.isLowSurrogate(token.charAt(i + 1))) {
                    i++;
                }
            }
        }
        return Arrays.copyOf(out, n);
    }

    // ---------------------------------------------------------------- pre-tokenizer

    private static byte classOfSlow(int cp) {
        switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                    Character.MODIFIER_LETTER, Character.OTHER_LETTER:
                return LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER:
                return NUMBER;
            default:
                return isWhiteSpace(cp) ? SPACE : OTHER;
        }
    }

    /** Unicode White_Space (what {@code \s} matches in Python's {@code regex} module). */
    public static boolean isWhiteSpace(int cp) {
        if (cp <= 0x20) {
            return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
        }
        if (cp < 0x85) {
            return false;
        }
        return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028
                || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    private static byte classAt(String s, int i, int to) {
        char c = s.charAt(i);
        if (c < 128) {
            return ASCII_CLASS[c];
        }
        if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(s.charAt(i + 1))) {
            return classOfSlow(Character.toCodePoint(c, s.charAt(i + 1)));
        }
        return classOfSlow(c);
    }

    private static int charCountAt(String s, int i, int to) {
        return Character.isHighSurrogate(s.charAt(i)) && i + 1 < to && Character.isLowSurrogate(s.charAt(i + 1))
                ? 2 : 1;
    }

    /** End of the run of class {@code cls} starting at {@code i}. */
    private static int run(String s, int i, int to, byte cls) {
        while (i < to) {
            char c = s.charAt(i);
            if (c < 128) {
                if (ASCII_CLASS[c] != cls) {
                    return i;
                }
                i++;
            } else {
                if (classAt(s, i, to) != cls) {
                    return i;
                }
                i += charCountAt(s, i, to);
            }
        }
        return i;
    }

    /** End (exclusive) of the pre-token that starts at {@code i} in {@code s[.., to)}. */
    static int preTokenEnd(String s, int i, int to) {
        char c = s.charAt(i);
        if (c == '\'' && i + 1 < to) {
            char c1 = s.charAt(i + 1);
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                return i + 2;
            }
            if (i + 2 < to) {
                char c2 = s.charAt(i + 2);
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
                    return i + 3;
                }
            }
        }
        byte cls = classAt(s, i, to);
        if (c == ' ' && i + 1 < to) {
            byte next = classAt(s, i + 1, to);
            if (next != SPACE) {
                return run(s, i + 1, to, next);
            }
        }
        if (cls != SPACE) {
            return run(s, i, to, cls);
        }
        // \s+(?!\S) | \s+ (every White_Space character is in the BMP)
        int k = i + 1;
        while (k < to && isWhiteSpace(s.charAt(k))) {
            k++;
        }
        if (k == to || k - i == 1) {
            return k;
        }
        return k - 1;
    }

    // ---------------------------------------------------------------- encoding

    /**
     * Appends the ids of {@code text[from, to)} (a stretch without added tokens) to {@code ids}; when
     * {@code starts} is not null also each token's character span (see {@link Encoding}'s offset rule).
     */
    public void encode(String text, int from, int to, IntBuf ids, IntBuf starts, IntBuf ends) {
        int i = from;
        while (i < to) {
            int j = preTokenEnd(text, i, to);
            Entry e = word(text, i, j);
            ids.addAll(e.ids);
            if (starts != null) {
                offsets(text, i, j, e.byteLens, starts, ends);
            }
            i = j;
        }
    }

    private Entry word(String text, int a, int b) {
        int len = b - a;
        if (len > MAX_CACHED_WORD) {
            return bpe(text, a, b);
        }
        int h = 0;
        for (int k = a; k < b; k++) {
            h = 31 * h + text.charAt(k);
        }
        int mixed = h * 0x9E3779B9;
        int idx = (mixed >>> (32 - CACHE_BITS)) & ~1;
        Entry e = cache[idx];
        if (e != null && e.word.length() == len && e.word.regionMatches(0, text, a, len)) {
            return e;
        }
        Entry e2 = cache[idx + 1];
        if (e2 != null && e2.word.length() == len && e2.word.regionMatches(0, text, a, len)) {
            return e2;
        }
        e = bpe(text, a, b);
        // two-way set: fill an empty way, else move way 0 to way 1 (a cheap LRU of two)
        if (cache[idx] != null) {
            cache[idx + 1] = cache[idx];
        }
        cache[idx] = e;
        return e;
    }

    private Entry bpe(String text, int a, int b) {
        byte[] bytes = new byte[(b - a) * 3];
        int n = 0;
        for (int k = a; k < b; k++) {
            char c = text.charAt(k);
            if (c < 0x80) {
                bytes[n++] = (byte) c;
            } else {
                n = Utf8.encodeChar(text, k, bytes, n);
                if (Character.isHighSurrogate(c) && k + 1 < b && Character.isLowSurrogate(text.charAt(k + 1))) {
                    k++;
                }
            }
        }
        int[] sym = new int[n];
        int[] lens = new int[n];
        for (int k = 0; k < n; k++) {
            sym[k] = byteSymbol[bytes[k] & 0xff];
            lens[k] = 1;
        }
        while (n > 1) {
            long best = Long.MAX_VALUE;
            int first = -1;
            int second = -1;
            for (int k = 0; k + 1 < n; k++) {
                long m = mergeOf(sym[k], sym[k + 1]);
                if (m != -1L && m < best) {
                    best = m;
                    first = sym[k];
                    second = sym[k + 1];
                }
            }
            if (best == Long.MAX_VALUE) {
                break;
            }
            int merged = (int) best;
            int w = 0;
            for (int k = 0; k < n; ) {
                if (k + 1 < n && sym[k] == first && sym[k + 1] == second) {
                    sym[w] = merged;
                    lens[w++] = lens[k] + lens[k + 1];
                    k += 2;
                } else {
                    sym[w] = sym[k];
                    lens[w++] = lens[k++];
                }
            }
            n = w;
        }
        int[] ids = new int[n];
        for (int k = 0; k < n; k++) {
            ids[k] = sym[k] < extraBase ? sym[k] : unkId;
        }
        return new Entry(text.substring(a, b), ids, Arrays.copyOf(lens, n));
    }

    /**
     * Character spans of the tokens of the word {@code text[a, b)}: a token starts at the character
     * holding its first byte and ends after the character holding its last byte.
     */
    private static void offsets(String text, int a, int b, int[] byteLens, IntBuf starts, IntBuf ends) {
        int p = a;
        int q = 0;
        int cc = charCountAt(text, p, b);
        int cl = Utf8.length(text, p, b);
        for (int len : byteLens) {
            int start = p;
            int end = p + cc;
            int remaining = len;
            while (remaining > 0) {
                int take = Math.min(remaining, cl - q);
                q += take;
                remaining -= take;
                end = p + cc;
                if (q == cl) {
                    p += cc;
                    q = 0;
                    if (p < b) {
                        cc = charCountAt(text, p, b);
                        cl = Utf8.length(text, p, b);
                    }
                }
            }
            starts.add(start);
            ends.add(end);
        }
    }

    /** A growable int array. Not thread-safe; meant to be confined to one call. */
    public static final class IntBuf {
        private int[] a;
        private int n;

        public IntBuf(int capacity) {
            a = new int[Math.max(4, capacity)];
        }

        public void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, a.length * 2);
            }
            a[n++] = v;
        }

        public void addAll(int[] v) {
            if (n + v.length > a.length) {
                a = Arrays.copyOf(a, Math.max(a.length * 2, n + v.length));
            }
            System.arraycopy(v, 0, a, n, v.length);
            n += v.length;
        }

        public int size() {
            return n;
        }

        public int get(int i) {
            return a[i];
        }

        public int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
