package dev.panopt.spark;

import dev.panopt.Answer;
import dev.panopt.OptForQuestionAnswering;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code answer}: question + context → the answer span, by
 * {@link OptForQuestionAnswering#answer(dev.panopt.tokenizer.OptTokenizer, String, String, dev.panopt.QuestionAnsweringOptions)}:
 * HF's pipeline, which reads a context of any length in overlapping windows. It takes one pair per
 * call; the batch's pairs run one after another.
 */
final class AnswerRunner {
    private AnswerRunner() {}

    static List<Object[]> run(LoadedModel model, List<String[]> batch, TaskOptions options) {
        OptForQuestionAnswering qa = model.as(OptForQuestionAnswering.class);
        List<Object[]> out = new ArrayList<>(batch.size());
        for (String[] r : batch) {
            Answer a = qa.answer(model.tokenizer, r[0], r[1], options.questionAnsweringOptions());
            out.add(new Object[] {a.text(), a.start(), a.end(), a.score()});
        }
        return out;
    }
}
