package dev.panopt.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panopt.tokenizer.EncodeOptions.Truncation;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Truncation strategies, sides and windows against transformers' rules, worked out by hand on texts
 * of one-token words ("w0 w1 ..." with OPT's vocabulary: "w" then "Ġw" words are one token each here).
 */
class TruncationTest {
    static OptTokenizer tok;

    @BeforeAll
    static void load() throws IOException {
        tok = OptTokenizer.fromPretrained(OptTokenizerTest.DIR);
    }

    /** n words, each a single token: "a b c ..." */
    static String words(int n) {
        return IntStream.range(0, n).mapToObj(i -> String.valueOf((char) ('a' + i % 26))).collect(Collectors.joining(" "));
    }

    static int[] content(int[] ids) {
        return Arrays.stream(ids).filter(i -> i != 2).toArray();
    }

    static EncodeOptions.Builder opts(Truncation t, int max) {
        return EncodeOptions.builder().truncation(t).maxLength(max);
    }

    @Test
    void wordsAreOneTokenEach() {
        assertEquals(31, tok.encode(words(30)).length);
    }

    @Test
    void aSingleTextKeepsItsBosAndLosesTokensFromTheChosenSide() {
        int[] all = tok.encode(words(10));
        BatchEncoding right = tok.encodeBatch(List.of(words(10)), opts(Truncation.LONGEST_FIRST, 6).build());
        assertArrayEquals(Arrays.copyOf(all, 6), right.inputIds()[0]);
        BatchEncoding left = tok.encodeBatch(List.of(words(10)),
                opts(Truncation.ONLY_FIRST, 6).truncationSide(TruncationSide.LEFT).build());
        int[] expected = new int[6];
        expected[0] = 2;
        System.arraycopy(all, 6, expected, 1, 5);
        assertArrayEquals(expected, left.inputIds()[0]);
        // offsets travel with their tokens: the first kept token is word 5, " f" at character 9
        assertEquals(9, left.startOffsets()[0][1]);
        assertEquals(0, left.startOffsets()[0][0]);
        // short rows are untouched
        assertArrayEquals(tok.encode("a b"), tok.encodeBatch(List.of("a b"), opts(Truncation.LONGEST_FIRST, 6).build())
                .inputIds()[0]);
    }

    @Test
    void truncationThatCannotBeDoneIsAnErrorNamingTheRow() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tok.encodeBatch(List.of("a", words(4)), opts(Truncation.LONGEST_FIRST, 1).build()));
        assertTrue(e.getMessage().contains("texts[0]") && e.getMessage().contains("maxLength 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> tok.encodeBatch(List.of("a"), opts(Truncation.ONLY_SECOND, 4).build()));
        assertTrue(e.getMessage().contains("pair"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> tok.encodeBatch(List.of("a"), EncodeOptions.builder().truncation(true).build()));
        assertTrue(e.getMessage().contains("maxLength"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EncodeOptions.builder().stride(-1));
    }

    @Test
    void longestFirstCutsTheLongerTextThenBothWithTheOddTokenFromTheSecond() {
        // transformers' slow rule: first 5, second 8, max 10 with 2 BOS: 5 to remove, 3 from the
        // longer (second) to even them, then 1 each: 4 + 4.
        PairEncoding p = tok.encodePair(words(5), words(8), opts(Truncation.LONGEST_FIRST, 10).build());
        assertEquals(10, p.length());
        assertEquals(4, count(p.sequenceIds(), 0));
        assertEquals(4, count(p.sequenceIds(), 1));
        // first 9, second 4, max 9: 6 to remove: 5 from the first (to 4), then 1: the second's (odd) -> 4 + 3
        p = tok.encodePair(words(9), words(4), opts(Truncation.LONGEST_FIRST, 9).build());
        assertEquals(4, count(p.sequenceIds(), 0));
        assertEquals(3, count(p.sequenceIds(), 1));
        // first 6, second 6, max 9: 5 to remove: 2 from the first, 3 from the second
        p = tok.encodePair(words(6), words(6), opts(Truncation.LONGEST_FIRST, 9).truncationSide(TruncationSide.LEFT)
                .build());
        assertEquals(4, count(p.sequenceIds(), 0));
        assertEquals(3, count(p.sequenceIds(), 1));
        // left side: the first text keeps its last words (" c d e f": its space at character 3)
        assertEquals(3, p.startOffsets()[1]);
        assertArrayEquals(new int[] {-1, 0, 0, 0, 0, -1, 1, 1, 1}, p.sequenceIds());
        assertEquals(2, p.ids()[0]);
        assertEquals(2, p.ids()[5]);
    }

    @Test
    void onlyFirstAndOnlySecondCutOneTextOrSayWhyNot() {
        PairEncoding p = tok.encodePair(words(3), words(10), opts(Truncation.ONLY_SECOND, 9).build());
        assertArrayEquals(new int[] {-1, 0, 0, 0, -1, 1, 1, 1, 1}, p.sequenceIds());
        assertArrayEquals(Arrays.copyOf(tok.encode(words(10), false), 4), Arrays.copyOfRange(p.ids(), 5, 9));
        p = tok.encodePair(words(10), words(3), opts(Truncation.ONLY_FIRST, 9).build());
        assertArrayEquals(new int[] {-1, 0, 0, 0, 0, -1, 1, 1, 1}, p.sequenceIds());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tok.encodePair(words(10), words(3), opts(Truncation.ONLY_SECOND, 9).build()));
        assertTrue(e.getMessage().contains("second text has only 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.encodePair("a", "b",
                EncodeOptions.builder().padding(EncodeOptions.Padding.LONGEST).build()));
        // no truncation: the pair as encodePair(first, second) gives it
        assertEquals(tok.encodePair(words(10), words(3)), tok.encodePair(words(10), words(3), EncodeOptions.defaults()));
    }

    @Test
    void windowsOverlapByTheStrideAndCoverTheSplitText() {
        String question = words(3);
        String context = words(20);
        int[] ctx = tok.encode(context, false);
        // room = 13 - 2 BOS - 3 = 8 context tokens per window; step 8 - 3 = 5: [0,8) [5,13) [10,18) [15,20)
        List<PairEncoding> right = tok.encodePairWindows(question, context,
                opts(Truncation.ONLY_SECOND, 13).stride(3).build());
        assertEquals(List.of(0, 5, 10, 15), starts(right, context));
        for (PairEncoding w : right) {
            assertArrayEquals(new int[] {-1, 0, 0, 0, -1}, Arrays.copyOf(w.sequenceIds(), 5));
            assertTrue(w.length() <= 13);
        }
        assertEquals(10, right.get(3).length());  // the last window is shorter
        assertArrayEquals(Arrays.copyOfRange(ctx, 15, 20), Arrays.copyOfRange(right.get(3).ids(), 5, 10));
        // from the end: [12,20) [7,15) [2,10) [0,5)
        List<PairEncoding> left = tok.encodePairWindows(question, context,
                opts(Truncation.ONLY_SECOND, 13).stride(3).truncationSide(TruncationSide.LEFT).build());
        assertEquals(List.of(12, 7, 2, 0), starts(left, context));
        assertEquals(10, left.get(3).length());
        // a pair that fits is one window, equal to the plain pair encoding
        assertEquals(List.of(tok.encodePair(question, words(5))),
                tok.encodePairWindows(question, words(5), opts(Truncation.ONLY_SECOND, 13).stride(3).build()));
        // the first text can be the split one
        List<PairEncoding> first = tok.encodePairWindows(context, question,
                opts(Truncation.ONLY_FIRST, 13).stride(3).build());
        assertEquals(4, first.size());
        assertArrayEquals(new int[] {-1, 1, 1, 1}, Arrays.copyOfRange(first.get(1).sequenceIds(), 9, 13));
    }

    @Test
    void windowsRejectWhatTheyCannotDo() {
        String q = words(3);
        String c = words(20);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tok.encodePairWindows(q, c, opts(Truncation.ONLY_SECOND, 13).stride(8).build()));
        assertTrue(e.getMessage().contains("stride 8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> tok.encodePairWindows(q, c, opts(Truncation.LONGEST_FIRST, 13).build()));
        assertTrue(e.getMessage().contains("ONLY_SECOND"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> tok.encodePairWindows(q, c, opts(Truncation.ONLY_SECOND, 5).build()));
        assertTrue(e.getMessage().contains("no room"), e.getMessage());
        Encoding bad = new Encoding(new int[] {5}, new String[0], new int[] {0}, new int[] {1});
        assertThrows(IllegalArgumentException.class,
                () -> tok.encodePairWindows(bad, bad, opts(Truncation.ONLY_SECOND, 13).build()));
    }

    /** Tokens 0..n-1 (ids = offsets = index), as a stand-in encoding. */
    static Encoding fake(int n, int base) {
        int[] ids = IntStream.range(base, base + n).toArray();
        return new Encoding(ids, new String[n], ids.clone(), ids.clone());
    }

    @Test
    void longestFirstEqualsTakingOneTokenAtATimeFromTheLongerSecondOnTies() {
        for (int a = 0; a <= 12; a++) {
            for (int b = 0; b <= 12; b++) {
                for (int max = 2; max <= a + b + 2; max++) {
                    Encoding[] cut = Truncator.pair(fake(a, 0), fake(b, 100), 2, opts(Truncation.LONGEST_FIRST, max).build());
                    int ra = a;
                    int rb = b;
                    while (ra + rb + 2 > max) {   // the plain rule, one token at a time
                        if (ra > rb) {
                            ra--;
                        } else {
                            rb--;
                        }
                    }
                    String at = a + "+" + b + " to " + max;
                    assertEquals(ra, cut[0].length(), at);
                    assertEquals(rb, cut[1].length(), at);
                    assertArrayEquals(IntStream.range(0, ra).toArray(), cut[0].ids(), at);   // right side: prefixes
                    assertArrayEquals(IntStream.range(100, 100 + rb).toArray(), cut[1].ids(), at);
                }
            }
        }
    }

    @Test
    void windowsCoverTheTextInOrderEachOverlappingTheNextByTheStride() {
        for (int n = 1; n <= 30; n++) {
            for (int room = 1; room <= 10; room++) {
                for (int stride = 0; stride < room; stride++) {
                    for (TruncationSide side : TruncationSide.values()) {
                        List<Encoding> w = Truncator.windows(fake(n, 0), room, stride, side);
                        String at = n + " in " + room + " stride " + stride + " " + side;
                        boolean right = side == TruncationSide.RIGHT;
                        Encoding first = w.get(0);
                        Encoding last = w.get(w.size() - 1);
                        assertEquals(right ? 0 : n - 1, right ? first.ids()[0] : first.ids()[first.length() - 1], at);
                        assertEquals(right ? n - 1 : 0, right ? last.ids()[last.length() - 1] : last.ids()[0], at);
                        for (int k = 0; k < w.size(); k++) {
                            Encoding e = w.get(k);
                            assertTrue(e.length() <= room && e.length() > 0, at);
                            for (int i = 1; i < e.length(); i++) {
                                assertEquals(e.ids()[i - 1] + 1, e.ids()[i], at);   // contiguous
                            }
                            if (k > 0 && n > room) {
                                Encoding prev = w.get(k - 1);
                                int overlap = right ? prev.ids()[prev.length() - 1] - e.ids()[0] + 1
                                        : e.ids()[e.length() - 1] - prev.ids()[0] + 1;
                                assertEquals(stride, overlap, at);
                                assertEquals(room, prev.length(), at);
                            }
                        }
                        if (n <= room) {
                            assertEquals(1, w.size(), at);
                        }
                    }
                }
            }
        }
    }

    /** Each window's first context token's character start, as a word index (2 characters per word). */
    static List<Integer> starts(List<PairEncoding> windows, String context) {
        return windows.stream().map(w -> {
            int i = 0;
            while (w.sequenceIds()[i] != 1) {
                i++;
            }
            return w.startOffsets()[i] == 0 ? 0 : (w.startOffsets()[i] + 1) / 2;
        }).toList();
    }

    static int count(int[] a, int v) {
        return (int) Arrays.stream(a).filter(x -> x == v).count();
    }
}
