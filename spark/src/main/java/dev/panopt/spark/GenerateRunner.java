package dev.panopt.spark;

import dev.panopt.GenerationResult;
import dev.panopt.OptConfig;
import dev.panopt.OptForCausalLM;
import dev.panopt.tokenizer.OptTokenizer;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/** {@code generate}: prompt → generated text, by {@link OptForCausalLM#generate} (one batch per call, left-padded). */
final class GenerateRunner implements TaskRunner {
    static final GenerateRunner INSTANCE = new GenerateRunner();

    private GenerateRunner() {}

    @Override
    public ModelKind modelKind() {
        return ModelKind.CAUSAL_LM;
    }

    @Override
    public List<StructField> outputFields() {
        return List.of(
                DataTypes.createStructField("generated_text", DataTypes.StringType, true),
                DataTypes.createStructField("finish_reason", DataTypes.StringType, true),
                DataTypes.createStructField("num_generated_tokens", DataTypes.IntegerType, true));
    }

    /** The prompt and the new tokens share the model's positions. */
    @Override
    public int tokenLimit(OptConfig config, TaskOptions options) {
        return config.maxPositionEmbeddings() - options.generationConfig().maxNewTokens();
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
        List<String> prompts = new ArrayList<>(batch.size());
        for (RowInput r : batch) {
            prompts.add(r.values()[0]);
        }
        GenerationResult g = model.as(OptForCausalLM.class).generate(model.tokenizer, prompts, options.generationConfig());
        List<Object[]> out = new ArrayList<>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) {
            out.add(new Object[] {g.text(i), g.reason(i).name(), g.tokens(i).length});
        }
        return out;
    }
}
