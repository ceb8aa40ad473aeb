package dev.panopt.tokenizer;

/**
 * Token string → id, an open-addressing table that can also be asked about a piece of a larger
 * string, or the concatenation of two pieces, without building that string: loading a tokenizer looks
 * up both halves of every merge and their concatenation (150 000 lookups for GPT-2's merges), which
 * with a {@code HashMap} means as many substrings and boxed ids. Hashes equal {@link String#hashCode()}.
 *
 * <p>Not thread-safe while it is filled; immutable (and safe to share) once the tokenizer is built.
 */
final class TokenTable {
    private String[] keys;
    /** Each slot's key hash, so that a probe touches a key only when the hash matches. */
    private int[] hashes;
    private int[] values;
    private int shift;
    private int size;
    private int maxValue = -1;

    TokenTable(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new String[cap];
        hashes = new int[cap];
        values = new int[cap];
        shift = 32 - Integer.numberOfTrailingZeros(cap);
    }

    /** A copy, with room for {@code extra} more entries. */
    TokenTable copy(int extra) {
        TokenTable t = new TokenTable(size + extra);
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != null) {
                t.put(keys[i], values[i]);
            }
        }
        return t;
    }

    int size() {
        return size;
    }

    /** The largest id in the table, -1 when it is empty. */
    int maxValue() {
        return maxValue;
    }

    /**
     * Maps {@code key} to {@code value}.
     *
     * @return the previous id of the key, or -1
     */
    int put(String key, int value) {
        if (2 * (size + 1) > keys.length) {
            grow();
        }
        int mask = keys.length - 1;
        int h = key.hashCode();
        int i = slot(h);
        while (keys[i] != null) {
            if (hashes[i] == h && keys[i].equals(key)) {
                int old = values[i];
                values[i] = value;
                maxValue = Math.max(maxValue, value);
                return old;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        hashes[i] = h;
        values[i] = value;
        size++;
        maxValue = Math.max(maxValue, value);
        return -1;
    }

    /** The id of {@code key}, or -1. */
    int get(String key) {
        int mask = keys.length - 1;
        int h = key.hashCode();
        int i = slot(h);
        String k;
        while ((k = keys[i]) != null) {
            if (hashes[i] == h && k.equals(key)) {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    /** The id of {@code s[from, to)}, or -1. */
    int get(String s, int from, int to) {
        return get(hash(s, from, to), s, from, to, to, to);
    }

    /** {@link String#hashCode()} of {@code s[from, to)}. */
    static int hash(String s, int from, int to) {
        int h = 0;
        for (int k = from; k < to; k++) {
            h = 31 * h + s.charAt(k);
        }
        return h;
    }

    /** {@link String#hashCode()} of the concatenation of a string of hash {@code h1} and one of {@code h2}, {@code len2} long. */
    static int concatHash(int h1, int h2, int len2) {
        int p = 1;
        int base = 31;
        for (int e = len2; e > 0; e >>= 1) {  // 31^len2 by squaring
            if ((e & 1) != 0) {
                p *= base;
            }
            base *= base;
        }
        return h1 * p + h2;
    }

    /** The id of the concatenation {@code s[a, b) + s[c, d)}, whose hash is {@code h}; or -1. */
    int get(int h, String s, int a, int b, int c, int d) {
        int len = (b - a) + (d - c);
        int i = slot(h);
        int mask = keys.length - 1;
        String key;
        while ((key = keys[i]) != null) {
            if (hashes[i] == h && key.length() == len && key.regionMatches(0, s, a, b - a)
                    && key.regionMatches(b - a, s, c, d - c)) {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    /** Every id, in no particular order. */
    int[] values() {
        int[] out = new int[size];
        int n = 0;
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != null) {
                out[n++] = values[i];
            }
        }
        return out;
    }

    /** Calls {@code f} with every key and its id, in no particular order. */
    void forEach(java.util.function.ObjIntConsumer<String> f) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != null) {
                f.accept(keys[i], values[i]);
            }
        }
    }

    private void grow() {
        String[] oldKeys = keys;
        int[] oldValues = values;
        keys = new String[oldKeys.length * 2];
        hashes = new int[oldKeys.length * 2];
        values = new int[oldKeys.length * 2];
        shift--;
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != null) {
                put(oldKeys[i], oldValues[i]);
            }
        }
    }

    /** Fibonacci hashing: the top bits of the product, which depend on every bit of the hash. */
    private int slot(int h) {
        return (h * 0x9E3779B9) >>> shift;
    }

    @Override
    public String toString() {
        return "TokenTable[" + size + " tokens, ids up to " + maxValue + "]";
    }
}
