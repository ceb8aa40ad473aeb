package dev.panopt.spark;

import dev.panopt.ClassificationResult;
import dev.panopt.OptConfig;
import dev.panopt.OptForSequenceClassification;
import dev.panopt.tokenizer.OptTokenizer;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/** {@code classify}: text → label, label id, score and every label's score, by {@link OptForSequenceClassification#classify}. */
final class ClassifyRunner implements TaskRunner {
    static final ClassifyRunner INSTANCE = new ClassifyRunner();

    private ClassifyRunner() {}

    @Override
    public ModelKind modelKind() {
        return ModelKind.SEQUENCE_CLASSIFICATION;
    }

    @Override
    public List<StructField> outputFields() {
        return List.of(
                DataTypes.createStructField("label", DataTypes.StringType, true),
                DataTypes.createStructField("label_id", DataTypes.IntegerType, true),
                DataTypes.createStructField("score", DataTypes.DoubleType, true),
                DataTypes.createStructField("scores",
                        DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType, false), true));
    }

    @Override
    public int tokenLimit(OptConfig config, TaskOptions options) {
        return config.maxPositionEmbeddings();
    }

    @Override
    public int encodedLength(OptTokenizer tokenizer, String[] inputs, TaskOptions options) {
        return tokenizer.encode(inputs[0]).length;
    }

    @Override
    public int truncatedInput() {
        return 0;
    }

    @Override
    public List<Object[]> run(LoadedModel model, List<RowInput> batch, TaskOptions options) {
        List<String> texts = new ArrayList<>(batch.size());
        for (RowInput r : batch) {
            texts.add(r.values()[0]);
        }
        List<ClassificationResult> results = model.as(OptForSequenceClassification.class).classify(model.tokenizer, texts);
        List<Object[]> out = new ArrayList<>(results.size());
        for (ClassificationResult c : results) {
            out.add(new Object[] {c.label(), c.labelId(), c.score(), SparkValues.map(c.scores())});
        }
        return out;
    }
}
