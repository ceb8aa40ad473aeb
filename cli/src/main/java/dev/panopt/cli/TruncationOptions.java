package dev.panopt.cli;

import dev.panopt.InputTooLongException;
import dev.panopt.tokenizer.EncodeOptions;
import dev.panopt.tokenizer.TruncationSide;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * {@code --truncation SIDE} and {@code --max-length N} of the commands that encode whole texts
 * (classify, generate): the API's truncation options. Without either, an input longer than the model
 * takes is an error that names these options.
 */
final class TruncationOptions {
    @Option(names = "--truncation", paramLabel = "SIDE",
            description = "Cut inputs longer than the model takes (or --max-length) from this side: right keeps "
                    + "the start, left keeps the end. Default: no truncation (a too-long input is an error).")
    String side;

    @Option(names = "--max-length", paramLabel = "N",
            description = "Most tokens per input, the BOS included; truncates (from the right unless --truncation "
                    + "left). Default: the model's positions (less the new tokens when generating).")
    Integer maxLength;

    /** The encode options these flags ask for (padding is the API helper's). */
    EncodeOptions encodeOptions() {
        EncodeOptions.Builder b = EncodeOptions.builder();
        if (side == null && maxLength == null) {
            return b.build();
        }
        b.truncation(true);
        if (side != null) {
            try {
                b.truncationSide(TruncationSide.valueOf(side.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--truncation must be left or right, not '" + side + "'");
            }
        }
        if (maxLength != null) {
            if (maxLength < 1) {
                throw new IllegalArgumentException("--max-length must be >= 1, got " + maxLength);
            }
            b.maxLength(maxLength);
        }
        return b.build();
    }

    /** The API's too-long error in the command line's terms. */
    static IllegalArgumentException explain(InputTooLongException e, String noun) {
        return new IllegalArgumentException(noun + " " + (e.index() + 1) + " has " + e.length() + " tokens, more than the "
                + e.limit() + " the model takes for it; pass --truncation right (keep its start) or left (keep its end),"
                + " and --max-length N for a shorter limit", e);
    }
}
