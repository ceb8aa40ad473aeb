package dev.panopt.tokenizer;

import dev.panopt.tokenizer.ByteLevelBpe.IntBuf;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Text → ids: splits out the added and special tokens written in the text (longest first, honouring
 * {@code lstrip}/{@code rstrip}), runs byte-level BPE on the text between them, and builds single,
 * pair and padded batch encodings. Immutable apart from the BPE's word cache; safe to share.
 */
final class TokenEncoder {
    private final Vocabulary vocabulary;
    private final ByteLevelBpe bpe;
    private final boolean addBos;
    /** The added tokens, longest content first. */
    private final Vocabulary.Added[] added;
    /** Whether some added token starts with this char. */
    private final boolean[] addedFirstChar;

    TokenEncoder(Vocabulary vocabulary, ByteLevelBpe bpe, boolean addBos) {
        this.vocabulary = vocabulary;
        this.bpe = bpe;
        this.addBos = addBos;
        added = vocabulary.addedTokens().stream()
                .sorted(Comparator.comparingInt((Vocabulary.Added a) -> a.content().length()).reversed())
                .toArray(Vocabulary.Added[]::new);
        addedFirstChar = new boolean[65536];
        for (Vocabulary.Added a : added) {
            addedFirstChar[a.content().charAt(0)] = true;
        }
    }

    private boolean prependBos(boolean addSpecialTokens) {
        return addSpecialTokens && addBos && vocabulary.bosId() >= 0;
    }

    int[] encode(String text, boolean addSpecialTokens) {
        requireText(text, "text");
        IntBuf ids = new IntBuf(text.length() / 3 + 8);
        if (prependBos(addSpecialTokens)) {
            ids.add(vocabulary.bosId());
        }
        encodeText(text, ids, null, null);
        return ids.toArray();
    }

    Encoding encodeWithOffsets(String text, boolean addSpecialTokens) {
        requireText(text, "text");
        IntBuf ids = new IntBuf(text.length() / 3 + 8);
        IntBuf starts = new IntBuf(text.length() / 3 + 8);
        IntBuf ends = new IntBuf(text.length() / 3 + 8);
        if (prependBos(addSpecialTokens)) {
            ids.add(vocabulary.bosId());
            starts.add(0);
            ends.add(0);
        }
        encodeText(text, ids, starts, ends);
        int[] idArr = ids.toArray();
        return new Encoding(idArr, tokensOf(idArr), starts.toArray(), ends.toArray());
    }

    PairEncoding encodePair(String first, String second, boolean addSpecialTokens) {
        requireText(first, "first");
        requireText(second, "second");
        return assemblePair(encodeWithOffsets(first, false), encodeWithOffsets(second, false),
                prependBos(addSpecialTokens));
    }

    PairEncoding encodePair(String first, String second, EncodeOptions options) {
        requireText(first, "first");
        requireText(second, "second");
        Objects.requireNonNull(options, "options");
        requireNoPadding(options, "encodePair");
        boolean bos = prependBos(options.addSpecialTokens());
        Encoding[] cut = Truncator.pair(encodeWithOffsets(first, false), encodeWithOffsets(second, false),
                bos ? 2 : 0, options);
        return assemblePair(cut[0], cut[1], bos);
    }

    List<PairEncoding> encodePairWindows(Encoding first, Encoding second, EncodeOptions options) {
        requireConsistent(first, "first");
        requireConsistent(second, "second");
        Objects.requireNonNull(options, "options");
        requireNoPadding(options, "encodePairWindows");
        EncodeOptions.Truncation strategy = options.truncationStrategy();
        if (strategy != EncodeOptions.Truncation.ONLY_FIRST && strategy != EncodeOptions.Truncation.ONLY_SECOND) {
            throw new IllegalArgumentException("windows need ONLY_FIRST or ONLY_SECOND truncation (the text to split), not "
                    + strategy + "; transformers returns no overflowing tokens for LONGEST_FIRST pairs either");
        }
        if (options.maxLength() == 0) {
            throw new IllegalArgumentException("windows need maxLength");
        }
        boolean bos = prependBos(options.addSpecialTokens());
        int specials = bos ? 2 : 0;
        boolean splitFirst = strategy == EncodeOptions.Truncation.ONLY_FIRST;
        Encoding fixed = splitFirst ? second : first;
        int room = options.maxLength() - specials - fixed.length();
        if (room <= 0) {
            throw new IllegalArgumentException("the " + (splitFirst ? "second" : "first") + " text's " + fixed.length()
                    + " tokens and " + specials + " special tokens leave no room for the " + (splitFirst ? "first" : "second")
                    + " text within maxLength " + options.maxLength());
        }
        List<Encoding> parts = Truncator.windows(splitFirst ? first : second, room, options.stride(),
                options.truncationSide());
        List<PairEncoding> out = new java.util.ArrayList<>(parts.size());
        for (Encoding part : parts) {
            out.add(splitFirst ? assemblePair(part, second, bos) : assemblePair(first, part, bos));
        }
        return List.copyOf(out);
    }

    /** {@code [bos] + first + [bos] + second} (or the plain concatenation), with sequence ids. */
    private PairEncoding assemblePair(Encoding first, Encoding second, boolean bos) {
        int specials = bos ? 2 : 0;
        int bosId = vocabulary.bosId();
        String bosToken = bos ? vocabulary.token(bosId) : null;
        int n = first.length() + second.length() + specials;
        int[] ids = new int[n];
        String[] tokens = new String[n];
        int[] starts = new int[n];
        int[] ends = new int[n];
        int[] seq = new int[n];
        int at = 0;
        for (int s = 0; s < 2; s++) {
            Encoding e = s == 0 ? first : second;
            if (bos) {
                ids[at] = bosId;
                tokens[at] = bosToken;
                seq[at] = -1;
                at++;
            }
            int len = e.length();
            System.arraycopy(e.ids(), 0, ids, at, len);
            System.arraycopy(e.tokens(), 0, tokens, at, len);
            System.arraycopy(e.startOffsets(), 0, starts, at, len);
            System.arraycopy(e.endOffsets(), 0, ends, at, len);
            Arrays.fill(seq, at, at + len, s);
            at += len;
        }
        return new PairEncoding(ids, tokens, starts, ends, seq);
    }

    BatchEncoding encodeBatch(List<String> texts, EncodeOptions options) {
        Objects.requireNonNull(texts, "texts");
        Objects.requireNonNull(options, "options");
        int n = texts.size();
        Encoding[] enc = new Encoding[n];
        int longest = 0;
        int maxLen = options.maxLength();
        boolean bos = prependBos(options.addSpecialTokens());
        for (int r = 0; r < n; r++) {
            String t = texts.get(r);
            if (t == null) {
                throw new NullPointerException("texts[" + r + "] is null");
            }
            Encoding e = Truncator.single(encodeWithOffsets(t, false), bos ? 1 : 0, options, "texts[" + r + "]");
            enc[r] = bos ? withBos(e) : e;
            longest = Math.max(longest, enc[r].length());
        }
        int target = switch (options.padding()) {
            case NONE -> -1;
            case LONGEST -> longest;
            case MAX_LENGTH -> maxLen;
        };
        int mult = options.padToMultipleOf();
        if (target >= 0 && mult > 0 && target % mult != 0) {
            target = (target / mult + 1) * mult;
        }
        int padId = vocabulary.padId();
        if (target > 0 && padId < 0) {
            for (Encoding e : enc) {
                if (e.length() < target) {
                    throw new IllegalStateException("padding requested but the tokenizer has no pad token");
                }
            }
        }
        int[][] ids = new int[n][];
        int[][] mask = new int[n][];
        int[][] starts = new int[n][];
        int[][] ends = new int[n][];
        boolean left = options.paddingSide() == PaddingSide.LEFT;
        for (int r = 0; r < n; r++) {
            Encoding e = enc[r];
            int len = e.length();
            int total = Math.max(len, target);
            int off = left ? total - len : 0;
            ids[r] = new int[total];
            mask[r] = new int[total];
            starts[r] = new int[total];
            ends[r] = new int[total];
            if (total > len) {
                Arrays.fill(ids[r], padId);
            }
            System.arraycopy(e.ids(), 0, ids[r], off, len);
            Arrays.fill(mask[r], off, off + len, 1);
            System.arraycopy(e.startOffsets(), 0, starts[r], off, len);
            System.arraycopy(e.endOffsets(), 0, ends[r], off, len);
        }
        return new BatchEncoding(ids, mask, starts, ends);
    }

    /** {@code e} after the BOS, which has the empty span {@code (0, 0)}. */
    private Encoding withBos(Encoding e) {
        int n = e.length() + 1;
        int[] ids = new int[n];
        String[] tokens = new String[n];
        int[] starts = new int[n];
        int[] ends = new int[n];
        ids[0] = vocabulary.bosId();
        tokens[0] = vocabulary.token(ids[0]);
        System.arraycopy(e.ids(), 0, ids, 1, n - 1);
        System.arraycopy(e.tokens(), 0, tokens, 1, n - 1);
        System.arraycopy(e.startOffsets(), 0, starts, 1, n - 1);
        System.arraycopy(e.endOffsets(), 0, ends, 1, n - 1);
        return new Encoding(ids, tokens, starts, ends);
    }

    private static void requireNoPadding(EncodeOptions options, String method) {
        if (options.padding() != EncodeOptions.Padding.NONE) {
            throw new IllegalArgumentException(method + " does not pad (a pair encoding has no attention mask); "
                    + "use Padding.NONE, not " + options.padding());
        }
    }

    /** An encoding given by the caller: its four arrays must be equally long. */
    private static void requireConsistent(Encoding e, String name) {
        Objects.requireNonNull(e, name);
        int n = e.ids().length;
        if (e.tokens().length != n || e.startOffsets().length != n || e.endOffsets().length != n) {
            throw new IllegalArgumentException(name + ": ids, tokens and offsets differ in length (" + n + ", "
                    + e.tokens().length + ", " + e.startOffsets().length + ", " + e.endOffsets().length + ")");
        }
    }

    /** The number of added tokens. */
    int addedCount() {
        return added.length;
    }

    private static void requireText(String text, String name) {
        if (text == null) {
            throw new NullPointerException(name + " must not be null");
        }
    }

    private String[] tokensOf(int[] ids) {
        String[] t = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            t[i] = vocabulary.token(ids[i]);
        }
        return t;
    }

    private void encodeText(String text, IntBuf ids, IntBuf starts, IntBuf ends) {
        int n = text.length();
        if (added.length == 0) {
            bpe.encode(text, 0, n, ids, starts, ends);
            return;
        }
        int segStart = 0;
        int i = 0;
        while (i < n) {
            Vocabulary.Added a = addedFirstChar[text.charAt(i)] ? matchAdded(text, i) : null;
            if (a == null) {
                i++;
                continue;
            }
            int segEnd = i;
            if (a.lstrip()) {
                while (segEnd > segStart && isPySpace(text.charAt(segEnd - 1))) {
                    segEnd--;
                }
            }
            if (segEnd > segStart) {
                bpe.encode(text, segStart, segEnd, ids, starts, ends);
            }
            ids.add(a.id());
            if (starts != null) {
                starts.add(i);
                ends.add(i + a.content().length());
            }
            i += a.content().length();
            if (a.rstrip()) {
                while (i < n && isPySpace(text.charAt(i))) {
                    i++;
                }
            }
            segStart = i;
        }
        if (segStart < n) {
            bpe.encode(text, segStart, n, ids, starts, ends);
        }
    }

    private Vocabulary.Added matchAdded(String text, int i) {
        for (Vocabulary.Added a : added) {
            if (text.startsWith(a.content(), i)) {
                return a;
            }
        }
        return null;
    }

    /** Python's {@code str.isspace} (what {@code str.strip()} removes). */
    private static boolean isPySpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }
}
