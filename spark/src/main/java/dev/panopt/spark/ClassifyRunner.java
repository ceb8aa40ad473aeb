package dev.panopt.spark;

import dev.panopt.ClassificationResult;
import dev.panopt.OptForSequenceClassification;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code classify}: text → label, label id, score and every label's score, by
 * {@link OptForSequenceClassification#classify} (truncating as HF's pipeline does when asked).
 */
final class ClassifyRunner {
    private ClassifyRunner() {}

    static List<Object[]> run(LoadedModel model, List<String[]> batch, TaskOptions options) {
        List<ClassificationResult> results = model.as(OptForSequenceClassification.class)
                .classify(model.tokenizer, TaskRunner.first(batch), options.encodeOptions());
        List<Object[]> out = new ArrayList<>(results.size());
        for (ClassificationResult c : results) {
            out.add(new Object[] {c.label(), c.labelId(), c.score(), SparkValues.map(c.scores())});
        }
        return out;
    }
}
