package dev.panopt.spark;

import dev.panopt.Answer;
import dev.panopt.OptConfig;
import dev.panopt.OptForQuestionAnswering;
import dev.panopt.tokenizer.OptTokenizer;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * {@code answer}: question + context → the answer span, by {@link OptForQuestionAnswering#answer},
 * which takes one pair per forward; the batch's rows run one after another.
 */
final class AnswerRunner implements TaskRunner {
    static final AnswerRunner INSTANCE = new AnswerRunner();

    private AnswerRunner() {}

    @Override
    public ModelKind modelKind() {
        return ModelKind.QUESTION_ANSWERING;
    }

    @Override
    public List<StructField> outputFields() {
        return List.of(
                DataTypes.createStructField("answer", DataTypes.StringType, true),
                DataTypes.createStructField("start", DataTypes.IntegerType, true),
                DataTypes.createStructField("end", DataTypes.IntegerType, true),
                DataTypes.createStructField("score", DataTypes.DoubleType, true));
    }

    @Override
    public int tokenLimit(OptConfig config, TaskOptions options) {
        return config.maxPositionEmbeddings();
    }

    @Override
    public int encodedLength(OptTokenizer tokenizer, String[] inputs, TaskOptions options) {
        return tokenizer.encodePair(inputs[0], inputs[1]).ids().length;
    }

    /** The context is cut, never the question. */
    @Override
    public int truncatedInput() {
        return 1;
    }

    @Override
    public List<Object[]> run(LoadedModel model, List<RowInput> batch, TaskOptions options) {
        OptForQuestionAnswering qa = model.as(OptForQuestionAnswering.class);
        List<Object[]> out = new ArrayList<>(batch.size());
        for (RowInput r : batch) {
            String q = r.values()[0];
            String c = r.values()[1];
            Answer a = options.maxAnswerTokens > 0 ? qa.answer(model.tokenizer, q, c, options.maxAnswerTokens)
                    : qa.answer(model.tokenizer, q, c);
            // Offsets in the row's own context: a left cut removed cutPrefix characters before it.
            out.add(new Object[] {a.text(), a.start() + r.cutPrefix(), a.end() + r.cutPrefix(), a.score()});
        }
        return out;
    }
}
