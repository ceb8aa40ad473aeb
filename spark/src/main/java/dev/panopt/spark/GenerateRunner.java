package dev.panopt.spark;

import dev.panopt.GenerationResult;
import dev.panopt.OptForCausalLM;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code generate}: prompt → generated text, by {@link OptForCausalLM#generate} (one left-padded
 * batch per call; prompts truncated, from the left by default, when asked).
 */
final class GenerateRunner {
    private GenerateRunner() {}

    static List<Object[]> run(LoadedModel model, List<String[]> batch, TaskOptions options) {
        GenerationResult g = model.as(OptForCausalLM.class).generate(model.tokenizer, TaskRunner.first(batch),
                options.generationConfig(), options.encodeOptions(), t -> {});
        List<Object[]> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            out.add(new Object[] {g.text(i), g.reason(i).name(), g.tokens(i).length});
        }
        return out;
    }
}
