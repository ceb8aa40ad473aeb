package dev.panopt.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.panopt.tokenizer.Encoding;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Fuzzes OPT's real tokenizer (the fixture vocabulary) on arbitrary text and ids. The first input byte
 * picks the mode; the rest is the text (as UTF-8, or as raw UTF-16 units, lone surrogates included) or
 * the ids (two bytes each, many beyond the vocabulary).
 *
 * <p>Invariants (OptTokenizer's Javadoc): {@code encode} takes any string and never throws;
 * {@code decode(encode(text, false))} is the text with unpaired surrogates as U+FFFD;
 * {@code encode(text, true)} is the BOS plus that; offsets are ordered spans inside the text;
 * {@code decode} throws only {@link IllegalArgumentException}, only for an id the tokenizer does not
 * have; the stream decoder's pieces concatenate to {@code decode}.
 */
class TokenizerCodecFuzzTest {
    private static final OptTokenizer TOK = load();

    private static OptTokenizer load() {
        try {
            return OptTokenizer.fromPretrained(Path.of(System.getProperty("panopt.fixtures", "../conformance/fixtures"))
                    .resolve("tokenizer"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest
    void codec(byte[] data) {
        if (data.length == 0) {
            return;
        }
        int mode = data[0] & 3;
        byte[] rest = Arrays.copyOfRange(data, 1, data.length);
        Fuzz.expect(data.length, () -> {
            switch (mode) {
                case 0 -> text(new String(rest, StandardCharsets.UTF_8));
                case 1 -> {
                    char[] cs = new char[rest.length / 2];
                    for (int i = 0; i < cs.length; i++) {
                        cs[i] = (char) (((rest[2 * i] & 0xff) << 8) | (rest[2 * i + 1] & 0xff));
                    }
                    text(new String(cs));
                }
                default -> ids(rest, (data[0] & 4) != 0, (data[0] & 8) != 0);
            }
        });
    }

    private static void text(String text) {
        int[] ids = TOK.encode(text, false);
        String back = TOK.decode(ids);
        String expected = wellFormed(text);
        if (!back.equals(expected)) {
            throw new AssertionError("decode(encode(t)) != t: " + escape(expected) + " -> " + Arrays.toString(ids)
                    + " -> " + escape(back));
        }
        int[] withBos = TOK.encode(text);
        if (withBos.length != ids.length + 1 || withBos[0] != TOK.bosTokenId()
                || !Arrays.equals(withBos, 1, withBos.length, ids, 0, ids.length)) {
            throw new AssertionError("encode(t, true) is not BOS + encode(t, false)");
        }
        Encoding e = TOK.encodeWithOffsets(text, true);
        if (!Arrays.equals(e.ids(), withBos) || e.tokens().length != e.ids().length) {
            throw new AssertionError("encodeWithOffsets ids differ from encode");
        }
        int prevStart = 0;
        for (int i = 0; i < e.length(); i++) {
            int s = e.startOffsets()[i], end = e.endOffsets()[i];
            if (s < 0 || end < s || end > text.length() || s < prevStart) {
                throw new AssertionError("bad span " + i + " [" + s + ", " + end + ") of " + text.length());
            }
            prevStart = s;
        }
        streamMatches(ids, false);
        streamMatches(withBos, true);
    }

    private static void ids(byte[] b, boolean skip, boolean cleanUp) {
        int[] ids = new int[b.length / 2];
        boolean known = true;
        for (int i = 0; i < ids.length; i++) {
            ids[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
            known &= TOK.idToToken(ids[i]).isPresent();
        }
        try {
            TOK.decode(ids, skip, cleanUp);
            if (!known) {
                throw new AssertionError("decode accepted an unknown id in " + Arrays.toString(ids));
            }
        } catch (IllegalArgumentException e) {
            if (known) {
                throw e;
            }
            return;
        }
        streamMatches(ids, skip);
    }

    private static void streamMatches(int[] ids, boolean skip) {
        OptTokenizer.StreamDecoder sd = TOK.newStreamDecoder(skip);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(sd.push(id));
        }
        sb.append(sd.finish());
        String whole = TOK.decode(ids, skip, false);
        if (!sb.toString().equals(whole)) {
            throw new AssertionError("stream " + escape(sb.toString()) + " != decode " + escape(whole));
        }
    }

    /** The text with every unpaired surrogate replaced by U+FFFD. */
    private static String wellFormed(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else {
                b.append(Character.isSurrogate(c) ? '\ufffd' : c);
            }
        }
        return b.toString();
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(cp -> b.append(cp >= 0x20 && cp < 0x7f ? Character.toString(cp)
                : String.format("\\u{%x}", cp)));
        return b.append('"').toString();
    }
}
