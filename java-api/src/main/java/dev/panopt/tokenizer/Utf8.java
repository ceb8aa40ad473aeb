package dev.panopt.tokenizer;

/**
 * UTF-8 helpers with Python's semantics: decoding replaces each maximal invalid subsequence (the
 * "maximal subpart" of Unicode's U+FFFD substitution practice, which CPython's
 * {@code bytes.decode("utf-8", "replace")} follows) by one U+FFFD; encoding writes an unpaired
 * surrogate as U+FFFD. Stateless; thread-safe.
 */
final class Utf8 {
    private Utf8() {}

    /** Encodes the code point at {@code s[i]} (a pair counts as one) into {@code out[n..]}; returns the new n. */
    public static int encodeChar(String s, int i, byte[] out, int n) {
        char c = s.charAt(i);
        int cp = c;
        if (Character.isSurrogate(c)) {
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                cp = Character.toCodePoint(c, s.charAt(i + 1));
            } else {
                cp = 0xFFFD;
            }
        }
        if (cp < 0x80) {
            out[n++] = (byte) cp;
        } else if (cp < 0x800) {
            out[n++] = (byte) (0xC0 | (cp >> 6));
            out[n++] = (byte) (0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out[n++] = (byte) (0xE0 | (cp >> 12));
            out[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
            out[n++] = (byte) (0x80 | (cp & 0x3F));
        } else {
            out[n++] = (byte) (0xF0 | (cp >> 18));
            out[n++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
            out[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
            out[n++] = (byte) (0x80 | (cp & 0x3F));
        }
        return n;
    }

    /** UTF-8 byte length of the code point at {@code s[i]} (pairs must lie before {@code to}). */
    public static int length(String s, int i, int to) {
        char c = s.charAt(i);
        if (c < 0x80) {
            return 1;
        }
        if (c < 0x800) {
            return 2;
        }
        if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(s.charAt(i + 1))) {
            return 4;
        }
        return 3;
    }

    /** Decodes {@code b[off, off+len)} into {@code out}, replacing invalid sequences as Python does. */
    public static void decode(byte[] b, int off, int len, StringBuilder out) {
        int end = off + len;
        int i = off;
        outer:
        while (i < end) {
            int x = b[i] & 0xff;
            if (x < 0x80) {
                out.append((char) x);
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            int cp;
            if (x >= 0xC2 && x <= 0xDF) {
                need = 1;
                cp = x & 0x1F;
            } else if (x >= 0xE0 && x <= 0xEF) {
                need = 2;
                cp = x & 0x0F;
                if (x == 0xE0) {
                    lo = 0xA0;
                } else if (x == 0xED) {
                    hi = 0x9F;
                }
            } else if (x >= 0xF0 && x <= 0xF4) {
                need = 3;
                cp = x & 0x07;
                if (x == 0xF0) {
                    lo = 0x90;
                } else if (x == 0xF4) {
                    hi = 0x8F;
                }
            } else {
                out.append('\uFFFD');
                i++;
                continue;
            }
            int j = i + 1;
            for (int k = 0; k < need; k++, j++) {
                if (j >= end) {
                    out.append('\uFFFD');
                    i = j;
                    continue outer;
                }
                int y = b[j] & 0xff;
                if (y < lo || y > hi) {
                    out.append('\uFFFD');
                    i = j;
                    continue outer;
                }
                cp = (cp << 6) | (y & 0x3F);
                lo = 0x80;
                hi = 0xBF;
            }
            out.appendCodePoint(cp);
            i = j;
        }
    }

    /**
     * Length of the trailing bytes of {@code b[0, n)} that form a valid but incomplete UTF-8 sequence
     * (0..3): bytes that more input could still complete, so a streaming decoder must hold them back.
     */
    public static int incompleteTail(byte[] b, int n) {
        for (int back = 1; back <= 3 && back <= n; back++) {
            int x = b[n - back] & 0xff;
            if (x < 0x80) {
                return 0;
            }
            if (x >= 0xC0) {
                int need;
                int lo = 0x80;
                int hi = 0xBF;
                if (x >= 0xC2 && x <= 0xDF) {
                    need = 1;
                } else if (x >= 0xE0 && x <= 0xEF) {
                    need = 2;
                    if (x == 0xE0) {
                        lo = 0xA0;
                    } else if (x == 0xED) {
                        hi = 0x9F;
                    }
                } else if (x >= 0xF0 && x <= 0xF4) {
                    need = 3;
                    if (x == 0xF0) {
                        lo = 0x90;
                    } else if (x == 0xF4) {
                        hi = 0x8F;
                    }
                } else {
                    return 0;
                }
                if (back - 1 >= need) {
                    return 0; // complete (or over-long run of continuations: decodable now)
                }
                for (int k = 1; k < back; k++) {
                    int y = b[n - back + k] & 0xff;
                    if (y < lo || y > hi) {
                        return 0;
                    }
                    lo = 0x80;
                    hi = 0xBF;
                }
                return back;
            }
        }
        return 0;
    }
}
