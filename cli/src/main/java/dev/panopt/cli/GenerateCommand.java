package dev.panopt.cli;

import dev.panopt.GenerationConfig;
import dev.panopt.GenerationResult;
import dev.panopt.InputTooLongException;
import dev.panopt.OptForCausalLM;
import dev.panopt.TokenStream;
import dev.panopt.tokenizer.EncodeOptions;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code panopt generate PROMPT...}: continues each prompt; one prompt is streamed as it is made. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue text prompts (greedy by default; --sample for sampling).")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Mixin
    TruncationOptions truncation;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "PROMPT", description = "Prompt text(s); several are generated as one batch.")
    List<String> prompts;

    @Option(names = {"-n", "--max-new-tokens"}, description = "Most new tokens per prompt (default: ${DEFAULT-VALUE}).")
    int maxNewTokens = 32;

    @Option(names = "--min-new-tokens", description = "EOS is banned before this many new tokens.")
    int minNewTokens = 0;

    @Option(names = "--sample", description = "Sample instead of greedy decoding.")
    boolean sample;

    @Option(names = "--temperature", description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
    double temperature = 1.0;

    @Option(names = "--top-k", description = "Sample among the k best tokens; 0 = off (default: ${DEFAULT-VALUE}).")
    int topK = 50;

    @Option(names = "--top-p", description = "Nucleus sampling mass (default: ${DEFAULT-VALUE}).")
    double topP = 1.0;

    @Option(names = "--repetition-penalty", description = "HF repetition penalty (default: ${DEFAULT-VALUE}).")
    double repetitionPenalty = 1.0;

    @Option(names = "--no-repeat-ngram-size", description = "Ban repeating n-grams of this size.")
    int noRepeatNgramSize = 0;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop a prompt's continuation at this text (repeatable).")
    List<String> stop = List.of();

    @Option(names = "--seed", description = "Sampling seed, for reproducible output.")
    Long seed;

    /** Options that only sampling reads. */
    static final List<String> SAMPLING_ONLY = List.of("--temperature", "--top-k", "--top-p", "--seed");

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (!sample) {
            // As HF's generate warns: these flags are only used in sample-based generation modes.
            List<String> ignored = SAMPLING_ONLY.stream()
                    .filter(o -> spec.commandLine().getParseResult().hasMatchedOption(o)).toList();
            if (!ignored.isEmpty()) {
                err.println("panopt: warning: " + String.join(", ", ignored) + (ignored.size() == 1 ? " is" : " are")
                        + " only used when sampling; add --sample, or greedy decoding ignores "
                        + (ignored.size() == 1 ? "it" : "them"));
            }
        }
        GenerationConfig.Builder g = GenerationConfig.builder().maxNewTokens(maxNewTokens).minNewTokens(minNewTokens)
                .doSample(sample).temperature(temperature).topK(topK).topP(topP)
                .repetitionPenalty(repetitionPenalty).noRepeatNgramSize(noRepeatNgramSize)
                .stopStrings(stop.toArray(String[]::new));
        if (seed != null) {
            g.seed(seed);
        }
        GenerationConfig config = g.build();
        EncodeOptions promptOptions = truncation.encodeOptions();
        PrintWriter out = spec.commandLine().getOut();
        OptTokenizer tok = common.tokenizer();
        try (OptForCausalLM lm = OptForCausalLM.fromPretrained(common.modelDir(), common.loadOptions())) {
            common.checkTokenizerMatches(tok, lm.config());
            if (common.bundledModel()) {
                err.println("(bundled checkpoint: random weights, so the text is meaningless;"
                        + " use --model DIR for a real facebook/opt-* directory)");
            }
            long t0 = System.nanoTime();
            GenerationResult r;
            if (prompts.size() == 1) {
                // The stream validates the request (lengths, ids) before anything is printed.
                try (TokenStream tokens = stream(lm, tok, config, promptOptions)) {
                    out.print(prompts.get(0));
                    out.flush();
                    while (tokens.hasNext()) {
                        out.print(tokens.next().text());
                        out.flush();
                    }
                    out.println();
                    r = tokens.result();
                }
            } else {
                try {
                    r = lm.generate(tok, prompts, config, promptOptions, t -> { });
                } catch (InputTooLongException e) {
                    throw TruncationOptions.explain(e, "prompt");
                }
                for (int i = 0; i < prompts.size(); i++) {
                    out.println("[" + i + "] " + prompts.get(i) + r.text(i));
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            int total = r.tokens().stream().mapToInt(a -> a.length).sum();
            err.printf(Locale.ROOT, "%d tokens in %.2f s (%.1f tokens/s), finished: %s%n", total, secs, total / secs,
                    r.reasons());
        }
        return 0;
    }

    private TokenStream stream(OptForCausalLM lm, OptTokenizer tok, GenerationConfig config, EncodeOptions options) {
        try {
            return lm.stream(tok, prompts, config, options);
        } catch (InputTooLongException e) {
            throw TruncationOptions.explain(e, "prompt");
        }
    }
}
