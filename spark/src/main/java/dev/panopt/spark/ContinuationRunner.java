package dev.panopt.spark;

import dev.panopt.ContinuationScore;
import dev.panopt.OptForCausalLM;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code scoreContinuations}: context + continuation → log-likelihood of the continuation and
 * whether greedy decoding gives it, by {@link OptForCausalLM#scoreContinuations} (lm-evaluation-harness's
 * {@code loglikelihood}). With truncation a context too long for the model loses its start
 * ({@link ContextTruncation}), as the harness cuts it.
 */
final class ContinuationRunner {
    private ContinuationRunner() {}

    static List<Object[]> run(LoadedModel model, List<String[]> batch, TaskOptions options) {
        OptForCausalLM lm = model.as(OptForCausalLM.class);
        List<String> contexts = TaskRunner.first(batch);
        List<String> continuations = TaskRunner.second(batch);
        if (options.truncation) {
            int limit = options.maxLength > 0 ? options.maxLength : lm.config().maxPositionEmbeddings() + 1;
            List<String> cut = new ArrayList<>(contexts.size());
            for (int i = 0; i < contexts.size(); i++) {
                cut.add(ContextTruncation.fit(model.tokenizer, contexts.get(i), continuations.get(i),
                        options.addSpecialTokens, limit));
            }
            contexts = cut;
        }
        List<ContinuationScore> scores = lm.scoreContinuations(model.tokenizer, contexts, continuations,
                ScoreRunner.scoreOptions(batch, options));
        List<Object[]> out = new ArrayList<>(scores.size());
        for (ContinuationScore s : scores) {
            out.add(new Object[] {s.logLikelihood(), s.isGreedy(), s.continuationIds().length});
        }
        return out;
    }
}
