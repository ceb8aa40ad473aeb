package dev.panopt.cli;

import dev.panopt.tokenizer.Encoding;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code panopt tokenize TEXT}: ids, tokens and character offsets; {@code --decode} goes back. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Show how OPT's tokenizer splits a text.")
final class TokenizeCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "TEXT", description = "Text to encode, or comma-separated ids with --decode.")
    String text;

    @Option(names = "--decode", description = "Decode comma-separated ids instead.")
    boolean decode;

    @Option(names = "--no-special", description = "Do not add BOS (or, with --decode, drop special tokens).")
    boolean noSpecial;

    @Override
    public Integer call() throws Exception {
        OptTokenizer tok = common.tokenizer();
        PrintWriter out = spec.commandLine().getOut();
        if (decode) {
            int[] ids;
            try {
                ids = java.util.Arrays.stream(text.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--decode needs comma-separated token ids, got '" + text + "'");
            }
            out.println(tok.decode(ids, noSpecial, false));
            return 0;
        }
        Encoding e = tok.encodeWithOffsets(text, !noSpecial);
        out.println("ids: " + java.util.Arrays.toString(e.ids()));
        for (int i = 0; i < e.ids().length; i++) {
            out.printf("%6d  %-20s [%d, %d)%n", e.ids()[i], e.tokens()[i], e.startOffsets()[i], e.endOffsets()[i]);
        }
        return 0;
    }
}
