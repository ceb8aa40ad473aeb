package dev.panopt.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict RFC 8259 JSON parser and writer, so that Panopt needs no third-party dependency
 * to read {@code config.json}, safetensors headers and tokenizer files.
 *
 * <p>Value mapping: object → {@link LinkedHashMap}{@code <String,Object>} (document order),
 * array → {@link ArrayList}{@code <Object>}, string → {@link String}, number without fraction or
 * exponent that fits a {@code long} → {@link Long}, any other number → {@link Double},
 * {@code true}/{@code false} → {@link Boolean}, {@code null} → Java {@code null}.
 *
 * <p>Strictness: exactly one value surrounded by optional whitespace; no comments, trailing commas,
 * single quotes, leading zeros, NaN/Infinity (nor numbers beyond a double's range, such as
 * {@code 1e400}), or unescaped control characters. Duplicate object keys
 * are <em>rejected</em> (Python's last-wins would let two readers of the same file disagree about a
 * tensor's offsets). Nesting deeper than {@link #MAX_DEPTH} is rejected so hostile input cannot
 * overflow the stack. Lone surrogate escapes ({@code \ud800}) are accepted, as Python writes them.
 *
 * <p>Thread-safety: stateless static methods; safe from any thread. Returned collections are
 * mutable and owned by the caller.
 */
public final class Json {
    /** Maximum nesting depth of arrays and objects. */
    public static final int MAX_DEPTH = 512;

    private Json() {}

    /** Malformed JSON: the message gives the problem and the character offset, line and column. */
    public static final class ParseException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int offset;

        ParseException(String message, int offset) {
            super(message);
            this.offset = offset;
        }

        /** Character offset (0-based) in the input where the problem was found. */
        public int offset() {
            return offset;
        }
    }

    /**
     * Parses one JSON document.
     *
     * @throws ParseException if {@code text} is not exactly one valid JSON value
     */
    public static Object parse(String text) {
        Parser p = new Parser(text);
        p.skipWs();
        Object v = p.value(0);
        p.skipWs();
        if (p.pos != text.length()) {
            throw p.error("unexpected trailing content");
        }
        return v;
    }

    private static final class Parser {
        final String s;
        final int n;
        int pos;

        Parser(String s) {
            this.s = s;
            this.n = s.length();
        }

        ParseException error(String what) {
            return error(what, pos);
        }

        ParseException error(String what, int at) {
            int line = 1, col = 1;
            for (int i = 0; i < at && i < n; i++) {
                if (s.charAt(i) == '\n') {
                    line++;
                    col = 1;
                } else {
                    col++;
                }
            }
            String near = at < n ? " near '" + printable(s.substring(at, Math.min(n, at + 20))) + "'" : " at end of input";
            return new ParseException("invalid JSON: " + what + " at offset " + at + " (line " + line + ", column " + col
                    + ")" + near, at);
        }

        void skipWs() {
            while (pos < n) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    pos++;
                } else {
                    break;
                }
            }
        }

        Object value(int depth) {
            if (pos >= n) {
                throw error("expected a value");
            }
            char c = s.charAt(pos);
            switch (c) {
                case '{':
                    return object(depth + 1);
                case '[':
                    return array(depth + 1);
                case '"':
                    return string();
                case 't':
                    literal("true");
                    return Boolean.TRUE;
                case 'f':
                    literal("false");
                    return Boolean.FALSE;
                case 'n':
                    literal("null");
                    return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw error("unexpected character");
            }
        }

        void literal(String word) {
            if (!s.startsWith(word, pos)) {
                throw error("invalid literal");
            }
            pos += word.length();
        }

        Map<String, Object> object(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH);
            }
            pos++; // '{'
            LinkedHashMap<String, Object> map = new LinkedHashMap<>();
            skipWs();
            if (pos < n && s.charAt(pos) == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipWs();
                if (pos >= n || s.charAt(pos) != '"') {
                    throw error("expected a string key");
                }
                int keyAt = pos;
                String key = string();
                skipWs();
                if (pos >= n || s.charAt(pos) != ':') {
                    throw error("expected ':'");
                }
                pos++;
                skipWs();
                Object v = value(depth);
                if (map.containsKey(key)) {
                    throw error("duplicate key \"" + printable(key) + "\"", keyAt);
                }
                map.put(key, v);
                skipWs();
                if (pos >= n) {
                    throw error("unterminated object");
                }
                char c = s.charAt(pos++);
                if (c == '}') {
                    return map;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or '}'");
                }
            }
        }

        List<Object> array(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH);
            }
            pos++; // '['
            ArrayList<Object> list = new ArrayList<>();
            skipWs();
            if (pos < n && s.charAt(pos) == ']') {
                pos++;
                return list;
            }
            while (true) {
                skipWs();
                list.add(value(depth));
                skipWs();
                if (pos >= n) {
                    throw error("unterminated array");
                }
                char c = s.charAt(pos++);
                if (c == ']') {
                    return list;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or ']'");
                }
            }
        }

        String string() {
            int start = ++pos; // after '"'
            // Fast path: no escapes (the common case, e.g. every vocab.json key without \\u).
            while (pos < n) {
                char c = s.charAt(pos);
                if (c == '"') {
                    return s.substring(start, pos++);
                }
                if (c == '\\') {
                    break;
                }
                if (c < 0x20) {
                    throw error("unescaped control character in string");
                }
                pos++;
            }
            StringBuilder sb = new StringBuilder(pos - start + 16);
            sb.append(s, start, pos);
            while (pos < n) {
                char c = s.charAt(pos);
                if (c == '"') {
                    pos++;
                    return sb.toString();
                }
                if (c < 0x20) {
                    throw error("unescaped control character in string");
                }
                if (c != '\\') {
                    sb.append(c);
                    pos++;
                    continue;
                }
                if (pos + 1 >= n) {
                    break;
                }
                char e = s.charAt(pos + 1);
                pos += 2;
                switch (e) {
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    case '/' -> sb.append('/');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (pos + 4 > n) {
                            throw error("truncated \\u escape");
                        }
                        int cp = 0;
                        for (int i = 0; i < 4; i++) {
                            int d = Character.digit(s.charAt(pos + i), 16);
                            if (d < 0) {
                                throw error("invalid \\u escape", pos - 2);
                            }
                            cp = cp * 16 + d;
                        }
                        pos += 4;
                        sb.append((char) cp);
                    }
                    default -> throw error("invalid escape '\\" + e + "'", pos - 2);
                }
            }
            throw error("unterminated string", start - 1);
        }

        Object number() {
            int start = pos;
            if (s.charAt(pos) == '-') {
                pos++;
            }
            if (pos >= n) {
                throw error("invalid number", start);
            }
            char c = s.charAt(pos);
            if (c == '0') {
                pos++;
                if (pos < n && isDigit(s.charAt(pos))) {
                    throw error("leading zero in number", start);
                }
            } else if (isDigit(c)) {
                while (pos < n && isDigit(s.charAt(pos))) {
                    pos++;
                }
            } else {
                throw error("invalid number", start);
            }
            boolean integral = true;
            if (pos < n && s.charAt(pos) == '.') {
                integral = false;
                pos++;
                int digits = pos;
                while (pos < n && isDigit(s.charAt(pos))) {
                    pos++;
                }
                if (pos == digits) {
                    throw error("expected digits after '.'", start);
                }
            }
            if (pos < n && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
                integral = false;
                pos++;
                if (pos < n && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                    pos++;
                }
                int digits = pos;
                while (pos < n && isDigit(s.charAt(pos))) {
                    pos++;
                }
                if (pos == digits) {
                    throw error("expected digits in exponent", start);
                }
            }
            String text = s.substring(start, pos);
            if (integral && pos - start <= 20) {
                try {
                    return Long.parseLong(text);
                } catch (NumberFormatException tooBig) {
                    // falls through to Double, as Python would give a big int we cannot hold exactly
                }
            }
            double d = Double.parseDouble(text);
            if (Double.isInfinite(d)) {
                // Python would read inf, which no JSON writer (ours included) can write back.
                throw error("number out of range", start);
            }
            return d;
        }

        static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- writer

    /** Writes {@code value} as compact JSON (see {@link #write(Object, boolean)}). */
    public static String write(Object value) {
        return write(value, false);
    }

    /**
     * Writes a value built from the types {@link #parse} returns (also any {@link Map} with
     * string keys, any {@link Iterable}, {@link Integer}/{@link Short}/{@link Byte}/{@link Float}).
     * Non-ASCII characters are written as-is (UTF-8 when encoded); control characters are escaped.
     *
     * @param pretty two-space indentation as Python's {@code json.dumps(indent=2)}
     * @throws IllegalArgumentException for unsupported types, non-string keys, NaN or infinities
     */
    public static String write(Object value, boolean pretty) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, pretty, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, boolean pretty, int indent) {
        if (indent > MAX_DEPTH) {
            throw new IllegalArgumentException("JSON value nested deeper than " + MAX_DEPTH + " (cyclic?)");
        }
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String str) {
            writeString(sb, str);
        } else if (v instanceof Boolean b) {
            sb.append(b.booleanValue());
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            sb.append(((Number) v).longValue());
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (!Double.isFinite(d)) {
                throw new IllegalArgumentException("JSON cannot represent " + d);
            }
            sb.append(v instanceof Float f ? Float.toString(f) : Double.toString(d));
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new IllegalArgumentException("JSON object keys must be strings, got " + e.getKey());
                }
                if (!first) {
                    sb.append(',');
                }
                first = false;
                newline(sb, pretty, indent + 1);
                writeString(sb, key);
                sb.append(pretty ? ": " : ":");
                write(sb, e.getValue(), pretty, indent + 1);
            }
            newline(sb, pretty, indent);
            sb.append('}');
        } else if (v instanceof Iterable<?> it) {
            if (!it.iterator().hasNext()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            boolean first = true;
            for (Object o : it) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                newline(sb, pretty, indent + 1);
                write(sb, o, pretty, indent + 1);
            }
            newline(sb, pretty, indent);
            sb.append(']');
        } else if (v instanceof long[] arr) {
            List<Object> l = new ArrayList<>(arr.length);
            for (long x : arr) {
                l.add(x);
            }
            write(sb, l, pretty, indent);
        } else {
            throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
        }
    }

    private static void newline(StringBuilder sb, boolean pretty, int indent) {
        if (pretty) {
            sb.append('\n');
            sb.repeat(' ', 2 * indent);
        }
    }

    private static void writeString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    // Escape controls and lone surrogates (which UTF-8 cannot encode) so output is valid.
                    if (c < 0x20 || (Character.isSurrogate(c) && !validPair(s, i))) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    private static boolean validPair(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    // ---------------------------------------------------------------- typed helpers

    /** Describes a parsed value's JSON type for error messages ("string", "integer", ...). */
    public static String typeName(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof String) {
            return "string";
        }
        if (v instanceof Long) {
            return "integer";
        }
        if (v instanceof Double) {
            return "number";
        }
        if (v instanceof Boolean) {
            return "boolean";
        }
        if (v instanceof Map) {
            return "object";
        }
        if (v instanceof List) {
            return "array";
        }
        return v.getClass().getSimpleName();
    }

    /** Casts a parsed value to an object, or throws with {@code what} in the message. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> asObject(Object v, String what) {
        if (v instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw new IllegalArgumentException(what + " must be a JSON object, got " + typeName(v));
    }

    /** Casts a parsed value to an array, or throws with {@code what} in the message. */
    @SuppressWarnings("unchecked")
    public static List<Object> asArray(Object v, String what) {
        if (v instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw new IllegalArgumentException(what + " must be a JSON array, got " + typeName(v));
    }

    /** Casts a parsed value to a string, or throws with {@code what} in the message. */
    public static String asString(Object v, String what) {
        if (v instanceof String str) {
            return str;
        }
        throw new IllegalArgumentException(what + " must be a JSON string, got " + typeName(v));
    }

    /** Casts a parsed value to an integer ({@code long}), or throws with {@code what} in the message. */
    public static long asLong(Object v, String what) {
        if (v instanceof Long l) {
            return l;
        }
        throw new IllegalArgumentException(what + " must be an integer, got " + typeName(v)
                + (v == null ? "" : " " + write(v)));
    }
}
