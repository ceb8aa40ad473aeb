package dev.panopt.spark;

import dev.panopt.ContinuationScore;
import dev.panopt.OptConfig;
import dev.panopt.OptForCausalLM;
import dev.panopt.tokenizer.OptTokenizer;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * {@code scoreContinuations}: context + continuation → log-likelihood of the continuation and
 * whether greedy decoding gives it, by {@link OptForCausalLM#scoreContinuations} (lm-evaluation-harness's
 * {@code loglikelihood}).
 */
final class ContinuationRunner implements TaskRunner {
    static final ContinuationRunner INSTANCE = new ContinuationRunner();

    private ContinuationRunner() {}

    @Override
    public ModelKind modelKind() {
        return ModelKind.CAUSAL_LM;
    }

    @Override
    public List<StructField> outputFields() {
        return List.of(
                DataTypes.createStructField("log_likelihood", DataTypes.DoubleType, true),
                DataTypes.createStructField("is_greedy", DataTypes.BooleanType, true),
                DataTypes.createStructField("num_tokens", DataTypes.IntegerType, true));
    }

    @Override
    public int tokenLimit(OptConfig config, TaskOptions options) {
        return config.maxPositionEmbeddings() + 1;
    }

    /**
     * The pair's ids are the context's followed by the rest of {@code context + continuation}'s, so
     * together they are that text's encoding; an empty context is the BOS, which without special
     * tokens is one more id.
     */
    @Override
    public int encodedLength(OptTokenizer tokenizer, String[] inputs, TaskOptions options) {
        int n = tokenizer.encode(inputs[0] + inputs[1], options.addSpecialTokens).length;
        return inputs[0].isEmpty() && !options.addSpecialTokens ? n + 1 : n;
    }

    @Override
    public int truncatedInput() {
        return 0;
    }

    /** The context loses its start, as lm-evaluation-harness cuts it: the continuation must follow its end. */
    @Override
    public TaskOptions.Side truncationSide(TaskOptions options) {
        return TaskOptions.Side.LEFT;
    }

    @Override
    public List<Object[]> run(LoadedModel model, List<RowInput> batch, TaskOptions options) {
        List<String> contexts = new ArrayList<>(batch.size());
        List<String> continuations = new ArrayList<>(batch.size());
        for (RowInput r : batch) {
            contexts.add(r.values()[0]);
            continuations.add(r.values()[1]);
        }
        List<ContinuationScore> scores = model.as(OptForCausalLM.class).scoreContinuations(model.tokenizer, contexts,
                continuations, ScoreRunner.scoreOptions(batch, options));
        List<Object[]> out = new ArrayList<>(scores.size());
        for (ContinuationScore s : scores) {
            out.add(new Object[] {s.logLikelihood(), s.isGreedy(), s.continuationIds().length});
        }
        return out;
    }
}
