package dev.panopt.spark;

import dev.panopt.OptConfig;
import dev.panopt.OptForCausalLM;
import dev.panopt.ScoreOptions;
import dev.panopt.SequenceScore;
import dev.panopt.tokenizer.OptTokenizer;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/** {@code score}: text → log-likelihood, mean log-probability, perplexity, by {@link OptForCausalLM#score}. */
final class ScoreRunner implements TaskRunner {
    static final ScoreRunner INSTANCE = new ScoreRunner();

    private ScoreRunner() {}

    @Override
    public ModelKind modelKind() {
        return ModelKind.CAUSAL_LM;
    }

    @Override
    public List<StructField> outputFields() {
        return List.of(
                DataTypes.createStructField("log_likelihood", DataTypes.DoubleType, true),
                DataTypes.createStructField("mean_logprob", DataTypes.DoubleType, true),
                DataTypes.createStructField("perplexity", DataTypes.DoubleType, true),
                DataTypes.createStructField("num_tokens", DataTypes.IntegerType, true));
    }

    /** {@link OptForCausalLM#score}: the last token is only a target, so a row may be one longer than the context. */
    @Override
    public int tokenLimit(OptConfig config, TaskOptions options) {
        return config.maxPositionEmbeddings() + 1;
    }

    @Override
    public int encodedLength(OptTokenizer tokenizer, String[] inputs, TaskOptions options) {
        return tokenizer.encode(inputs[0], options.addSpecialTokens).length;
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
        List<SequenceScore> scores = model.as(OptForCausalLM.class).score(model.tokenizer, texts, scoreOptions(batch, options));
        List<Object[]> out = new ArrayList<>(scores.size());
        for (SequenceScore s : scores) {
            out.add(new Object[] {s.sum(), s.mean(), s.perplexity(), s.numScoredTokens()});
        }
        return out;
    }

    /** The batch runs as one forward: it is already one of the partition's length-sorted batches. */
    static ScoreOptions scoreOptions(List<RowInput> batch, TaskOptions options) {
        return ScoreOptions.builder().batchSize(batch.size()).addSpecialTokens(options.addSpecialTokens).build();
    }
}
