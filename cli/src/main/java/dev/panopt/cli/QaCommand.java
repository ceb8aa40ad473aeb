package dev.panopt.cli;

import dev.panopt.Answer;
import dev.panopt.OptForQuestionAnswering;
import dev.panopt.QuestionAnsweringOptions;
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
            description = "The text the answer is extracted from (a span of it), of any length.")
    String context;

    @Option(names = {"--max-answer-len", "--max-answer-tokens"}, paramLabel = "N",
            description = "Longest answer in tokens (default: ${DEFAULT-VALUE}).")
    int maxAnswerLen = 15;

    @Option(names = "--max-seq-len", paramLabel = "N",
            description = "Tokens per window: BOS, question, BOS and a part of the context; a longer context is read"
                    + " in overlapping windows (default: 384, or the model's positions when fewer).")
    Integer maxSeqLen;

    @Option(names = "--doc-stride", paramLabel = "N",
            description = "Context tokens consecutive windows share (default: half of --max-seq-len, at most 128).")
    Integer docStride;

    @Option(names = "--max-question-len", paramLabel = "N",
            description = "Question tokens kept, the rest cut (default: ${DEFAULT-VALUE}).")
    int maxQuestionLen = 64;

    @Option(names = "--span-score", paramLabel = "SCORE",
            description = "How spans of different windows compare: probability (p(start)*p(end) in its window, as"
                    + " transformers' pipeline) or logit-sum (start + end logit) (default: ${DEFAULT-VALUE}).")
    String spanScore = "probability";

    QuestionAnsweringOptions options() {
        QuestionAnsweringOptions.Builder b = QuestionAnsweringOptions.builder().maxAnswerLen(maxAnswerLen)
                .maxQuestionLen(maxQuestionLen);
        if (maxSeqLen != null) {
            b.maxSeqLen(maxSeqLen);
        }
        if (docStride != null) {
            b.docStride(docStride);
        }
        switch (spanScore.toLowerCase(Locale.ROOT)) {
            case "probability" -> b.spanScore(QuestionAnsweringOptions.SpanScore.PROBABILITY);
            case "logit-sum" -> b.spanScore(QuestionAnsweringOptions.SpanScore.LOGIT_SUM);
            default -> throw new IllegalArgumentException("--span-score must be probability or logit-sum, not '"
                    + spanScore + "'");
        }
        return b.build();
    }

    @Override
    public Integer call() throws Exception {
        QuestionAnsweringOptions options = options();
        try (OptForQuestionAnswering m = OptForQuestionAnswering.fromPretrained(common.modelDir(), common.loadOptions())) {
            OptTokenizer tok = common.tokenizer();
            common.checkTokenizerMatches(tok, m.config());
            Answer a = m.answer(tok, question, context, options);
            spec.commandLine().getOut().printf(Locale.ROOT, "%s\t[%d, %d)\tscore %.4f%n", a.text(), a.start(), a.end(),
                    a.score());
        }
        return 0;
    }
}
