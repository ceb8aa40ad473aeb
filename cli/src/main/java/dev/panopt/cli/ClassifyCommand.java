package dev.panopt.cli;

import dev.panopt.ClassificationResult;
import dev.panopt.InputTooLongException;
import dev.panopt.OptForSequenceClassification;
import dev.panopt.tokenizer.EncodeOptions;
import dev.panopt.tokenizer.OptTokenizer;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code panopt classify TEXT...} with an OPTForSequenceClassification checkpoint. */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Classify texts with a sequence-classification checkpoint (score head, id2label).")
final class ClassifyCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Mixin
    TruncationOptions truncation;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "TEXT", description = "Text(s) to classify; several are run as one batch.")
    List<String> texts;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        EncodeOptions options = truncation.encodeOptions();
        try (OptForSequenceClassification m = OptForSequenceClassification.fromPretrained(common.modelDir(),
                common.loadOptions())) {
            OptTokenizer tok = common.tokenizer();
            common.checkTokenizerMatches(tok, m.config());
            List<ClassificationResult> rs;
            try {
                rs = m.classify(tok, texts, options);
            } catch (InputTooLongException e) {
                throw TruncationOptions.explain(e, "text");
            }
            for (int i = 0; i < texts.size(); i++) {
                ClassificationResult r = rs.get(i);
                out.printf(Locale.ROOT, "%s\t%.4f\t%s%n", r.label(), r.score(), texts.get(i));
            }
        }
        return 0;
    }
}
