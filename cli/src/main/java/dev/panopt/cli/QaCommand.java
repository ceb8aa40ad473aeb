package dev.panopt.cli;

import dev.panopt.Answer;
import dev.panopt.OptForQuestionAnswering;
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

    @Option(names = {"-q", "--question"}, required = true)
    String question;

    @Option(names = {"-c", "--context"}, required = true)
    String context;

    @Option(names = "--max-answer-tokens", description = "Longest answer in tokens (default: ${DEFAULT-VALUE}).")
    int maxAnswerTokens = 15;

    @Override
    public Integer call() throws Exception {
        try (OptForQuestionAnswering m = OptForQuestionAnswering.fromPretrained(common.modelDir(), common.loadOptions())) {
            Answer a = m.answer(common.tokenizer(), question, context, maxAnswerTokens);
            spec.commandLine().getOut().printf(Locale.ROOT, "%s\t[%d, %d)\tscore %.4f%n", a.text(), a.start(), a.end(),
                    a.score());
        }
        return 0;
    }
}
