package dev.panopt.cli;

import dev.panopt.ContinuationScore;
import dev.panopt.OptForCausalLM;
import dev.panopt.ScoreOptions;
import dev.panopt.SequenceScore;
import dev.panopt.tokenizer.OptTokenizer;
import dev.panopt.tokenizer.PaddingSide;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code panopt score}: texts (arguments, or JSON lines from a file or stdin) in, one JSON line per
 * text out with its per-token log-probabilities, sum, mean and perplexity; with {@code --context}
 * or {@code context}/{@code continuation} lines, lm-evaluation-harness's log-likelihood and greedy
 * flag of each continuation. Input lines are read and scored in blocks, so output streams.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Score texts with a causal LM: each token's log-probability given the tokens before it, their sum "
                + "and mean, and the perplexity, one JSON line per text.",
            "With --context (or context/continuation lines), the log-likelihood of each continuation after its context "
                + "and whether it is the greedy one, as lm-evaluation-harness computes them for multiple choice."})
final class ScoreCommand implements Callable<Integer> {
    /** Input lines scored per block (a few batches; bounds memory on long files). */
    static final int BLOCK = 256;

    @Mixin
    Common common;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Text(s) to score; with --context, continuations.")
    List<String> texts = new ArrayList<>();

    @Option(names = {"-i", "--input"}, paramLabel = "FILE",
            description = "JSON lines to score ('-' = stdin), each {\"text\": ...} or {\"context\": ..., \"continuation\": "
                    + "...}; other fields are copied to the output line.")
    String input;

    @Option(names = "--context", paramLabel = "CONTEXT", description = "Score each TEXT as a continuation of this context.")
    String context;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", description = "Texts per forward call (default: ${DEFAULT-VALUE}).")
    int batchSize = ScoreOptions.DEFAULT.batchSize();

    @Option(names = "--padding-side", paramLabel = "SIDE",
            description = "left or right (default: right); results do not depend on it.")
    String paddingSide = "right";

    @Option(names = "--no-special", description = "Do not put the BOS </s> first: a text's first token is then not scored "
            + "(lm-evaluation-harness's default encoding for OPT).")
    boolean noSpecial;

    private static final Pattern INDEXED = Pattern.compile("^(texts|continuations)\\[(\\d+)\\] (.*)$", Pattern.DOTALL);

    @Override
    public Integer call() throws Exception {
        ScoreOptions options = options();
        if (texts.isEmpty() == (input == null)) {
            throw new IllegalArgumentException("give TEXT arguments or --input FILE (one of them)");
        }
        if (context != null && input != null) {
            throw new IllegalArgumentException("--context goes with TEXT arguments; JSON lines carry their own \"context\"");
        }
        PrintWriter out = spec.commandLine().getOut();
        // The input opens before the model loads, so a missing file fails at once.
        try (BufferedReader in = input == null ? null : open(input);
             OptForCausalLM lm = OptForCausalLM.fromPretrained(common.modelDir(), common.loadOptions())) {
            OptTokenizer tok = common.tokenizer();
            common.checkTokenizerMatches(tok, lm.config());
            if (in == null) {
                List<ScoreRecords.Request> reqs = new ArrayList<>();
                List<String> where = new ArrayList<>();
                for (int i = 0; i < texts.size(); i++) {
                    var o = ScoreRecords.JSON.createObjectNode();
                    if (context == null) {
                        reqs.add(new ScoreRecords.Request(o.put("text", texts.get(i)), texts.get(i), null, null));
                    } else {
                        o.put("context", context).put("continuation", texts.get(i));
                        reqs.add(new ScoreRecords.Request(o, null, context, texts.get(i)));
                    }
                    where.add("TEXT " + (i + 1));
                }
                score(lm, tok, reqs, where, options, out);
                return 0;
            }
            String name = input.equals("-") ? "stdin" : input;
            List<ScoreRecords.Request> reqs = new ArrayList<>();
            List<String> where = new ArrayList<>();
            int lineNo = 0;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                where.add(name + ":" + lineNo);
                reqs.add(ScoreRecords.parse(line, where.getLast()));
                if (reqs.size() == BLOCK) {
                    score(lm, tok, reqs, where, options, out);
                    reqs.clear();
                    where.clear();
                }
            }
            score(lm, tok, reqs, where, options, out);
        }
        return 0;
    }

    private ScoreOptions options() {
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
        }
        PaddingSide side = switch (paddingSide.toLowerCase(Locale.ROOT)) {
            case "left" -> PaddingSide.LEFT;
            case "right" -> PaddingSide.RIGHT;
            default -> throw new IllegalArgumentException("--padding-side must be left or right, not '" + paddingSide + "'");
        };
        return ScoreOptions.builder().batchSize(batchSize).paddingSide(side).addSpecialTokens(!noSpecial).build();
    }

    private static BufferedReader open(String file) throws IOException {
        return file.equals("-") ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
                : Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8);
    }

    /** Scores one block (texts in one call, pairs in another) and writes it in input order. */
    private static void score(OptForCausalLM lm, OptTokenizer tok, List<ScoreRecords.Request> reqs, List<String> where,
                              ScoreOptions options, PrintWriter out) {
        List<String> texts = new ArrayList<>();
        List<String> contexts = new ArrayList<>();
        List<String> continuations = new ArrayList<>();
        List<Integer> textAt = new ArrayList<>();
        List<Integer> pairAt = new ArrayList<>();
        for (int i = 0; i < reqs.size(); i++) {
            ScoreRecords.Request r = reqs.get(i);
            if (r.isPair()) {
                contexts.add(r.context());
                continuations.add(r.continuation());
                pairAt.add(i);
            } else {
                texts.add(r.text());
                textAt.add(i);
            }
        }
        List<SequenceScore> s = texts.isEmpty() ? List.of() : located(() -> lm.score(tok, texts, options), textAt, where);
        List<ContinuationScore> c = contexts.isEmpty() ? List.of()
                : located(() -> lm.scoreContinuations(tok, contexts, continuations, options), pairAt, where);
        int ti = 0;
        int ci = 0;
        for (ScoreRecords.Request r : reqs) {
            out.println(r.isPair() ? ScoreRecords.write(r.fields(), c.get(ci++)) : ScoreRecords.write(r.fields(), s.get(ti++)));
        }
        out.flush();
    }

    /**
     * Runs a scoring call; an error about one of its texts ({@code texts[i] ...} in the API's words)
     * is re-worded to name the input line or argument it came from.
     */
    private static <T> T located(java.util.function.Supplier<T> call, List<Integer> at, List<String> where) {
        try {
            return call.get();
        } catch (IllegalArgumentException e) {
            Matcher m = INDEXED.matcher(String.valueOf(e.getMessage()));
            if (!m.matches()) {
                throw e;
            }
            int i = Integer.parseInt(m.group(2));
            String what = m.group(1).equals("texts") ? "the text " : "the continuation ";
            throw new IllegalArgumentException(where.get(at.get(i)) + ": " + what + m.group(3), e);
        }
    }
}
