package dev.panopt.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts encodings (without special tokens) to a maximum length as transformers' slow tokenizer does
 * ({@code truncate_sequences}), and splits one into overlapping windows as Hugging Face tokenizers'
 * {@code Encoding::truncate} does for overflowing tokens. Errors are {@link IllegalArgumentException}s
 * where transformers logs and leaves the input uncut. Stateless.
 */
final class Truncator {
    private Truncator() {}

    /** {@code e}'s tokens {@code [from, to)}. */
    static Encoding slice(Encoding e, int from, int to) {
        return new Encoding(Arrays.copyOfRange(e.ids(), from, to), Arrays.copyOfRange(e.tokens(), from, to),
                Arrays.copyOfRange(e.startOffsets(), from, to), Arrays.copyOfRange(e.endOffsets(), from, to));
    }

    /** {@code e} without {@code n} tokens at {@code side}. */
    private static Encoding remove(Encoding e, int n, TruncationSide side) {
        if (n <= 0) {
            return e;
        }
        return side == TruncationSide.RIGHT ? slice(e, 0, e.length() - n) : slice(e, n, e.length());
    }

    private static int maxLength(EncodeOptions o) {
        if (o.maxLength() == 0) {
            throw new IllegalArgumentException("truncation " + o.truncationStrategy()
                    + " needs maxLength (a tokenizer alone knows no model length; the task helpers use the model's)");
        }
        return o.maxLength();
    }

    /**
     * One text's tokens cut so that they and {@code specials} inserted tokens fit {@code maxLength}.
     *
     * @param what names the text in errors
     */
    static Encoding single(Encoding text, int specials, EncodeOptions o, String what) {
        switch (o.truncationStrategy()) {
            case NONE -> {
                return text;
            }
            case ONLY_SECOND -> throw new IllegalArgumentException(
                    "ONLY_SECOND truncation needs a text pair; " + what + " is a single text (use LONGEST_FIRST or ONLY_FIRST)");
            default -> { }
        }
        int max = maxLength(o);
        int excess = text.length() + specials - max;
        if (excess <= 0) {
            return text;
        }
        if (text.length() <= excess) {
            throw new IllegalArgumentException(what + " has " + text.length() + " tokens and " + specials
                    + " special token(s): maxLength " + max + " leaves no room for any of its tokens");
        }
        return remove(text, excess, o.truncationSide());
    }

    /** A pair's tokens cut so that both and {@code specials} inserted tokens fit {@code maxLength}. */
    static Encoding[] pair(Encoding first, Encoding second, int specials, EncodeOptions o) {
        if (o.truncationStrategy() == EncodeOptions.Truncation.NONE) {
            return new Encoding[] {first, second};
        }
        int max = maxLength(o);
        int a = first.length();
        int b = second.length();
        int excess = a + b + specials - max;
        if (excess <= 0) {
            return new Encoding[] {first, second};
        }
        TruncationSide side = o.truncationSide();
        switch (o.truncationStrategy()) {
            case LONGEST_FIRST -> {
                if (excess > a + b) {
                    throw new IllegalArgumentException("maxLength " + max + " is less than the " + specials
                            + " special tokens of a pair");
                }
                // The longer text gives tokens until both are equally long; then each gives half, the
                // second text the odd one (transformers' rule).
                int unequal = Math.min(Math.abs(a - b), excess);
                int even = excess - unequal;
                int fromFirst = a > b ? unequal + even / 2 : even / 2;
                int fromSecond = a > b ? even - even / 2 : unequal + even - even / 2;
                return new Encoding[] {remove(first, fromFirst, side), remove(second, fromSecond, side)};
            }
            case ONLY_FIRST, ONLY_SECOND -> {
                boolean cutFirst = o.truncationStrategy() == EncodeOptions.Truncation.ONLY_FIRST;
                Encoding target = cutFirst ? first : second;
                if (target.length() <= excess) {
                    throw new IllegalArgumentException(tooShort(cutFirst, target.length(), excess, max));
                }
                Encoding cut = remove(target, excess, side);
                return cutFirst ? new Encoding[] {cut, second} : new Encoding[] {first, cut};
            }
            default -> throw new AssertionError(o.truncationStrategy());
        }
    }

    private static String tooShort(boolean first, int length, int excess, int max) {
        return "maxLength " + max + " needs " + excess + " tokens removed, but the " + (first ? "first" : "second")
                + " text has only " + length + " (truncate " + (first ? "ONLY_SECOND" : "ONLY_FIRST")
                + " or LONGEST_FIRST instead, or raise maxLength)";
    }

    /**
     * The windows HF tokenizers make of {@code target} when it must fit {@code room} tokens: from the
     * truncation side's far end, each {@code room} long (the last one shorter), each starting
     * {@code room - stride} tokens after the previous one, until one reaches the other end; so
     * consecutive windows share {@code stride} tokens. A target that fits is one window.
     */
    static List<Encoding> windows(Encoding target, int room, int stride, TruncationSide side) {
        int n = target.length();
        if (n <= room) {
            return List.of(target);
        }
        if (stride >= room) {
            throw new IllegalArgumentException("stride " + stride + " must be less than the " + room
                    + " tokens a window holds");
        }
        int step = room - stride;
        List<Encoding> out = new ArrayList<>();
        if (side == TruncationSide.RIGHT) {
            for (int start = 0; ; start += step) {
                int stop = Math.min(start + room, n);
                out.add(slice(target, start, stop));
                if (stop == n) {
                    break;
                }
            }
        } else {
            for (int stop = n; ; stop -= step) {
                int start = Math.max(0, stop - room);
                out.add(slice(target, start, stop));
                if (start == 0) {
                    break;
                }
            }
        }
        return out;
    }
}
