package dev.panopt.cli;

import dev.panopt.Answer;
import dev.panopt.OptForQuestionAnswering;
import dev.panopt.tokenizer.OptTokenizer;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code panopt qa --question Q --context C} with an OPTForQuestionAnswering checkpoint. */
@Command(name = "qa", mixinStandardHelpOptions = true,
        description = "Extract the answer span of a question from a context (qa_outputs head).")
final class QaCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = {"-q", "--question"}, required = true, paramLabel = "QUESTION", description = "The question.")
    String question;

    @Option(names = {"-c", "--context"}, required = true, paramLabel = "CONTEXT",
            description = "The text the answer is extracted from (a span of it).")
    String context;

    @Option(names = "--max-answer-tokens", paramLabel = "N", description = "Longest answer in tokens (default: ${DEFAULT-VALUE}).")
    int maxAnswerTokens = 15;

    @Override
    public Integer call() throws Exception {
        try (OptForQuestionAnswering m = OptForQuestionAnswering.fromPretrained(common.modelDir(), common.loadOptions())) {
            OptTokenizer tok = common.tokenizer();
            common.checkTokenizerMatches(tok, m.config());
            Answer a = m.answer(tok, question, context, maxAnswerTokens);
            spec.commandLine().getOut().printf(Locale.ROOT, "%s\t[%d, %d)\tscore %.4f%n", a.text(), a.start(), a.end(),
                    a.score());
        }
        return 0;
    }
}
