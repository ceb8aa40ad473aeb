package dev.panopt.spark;

import dev.panopt.OptForCausalLM;
import dev.panopt.ScoreOptions;
import dev.panopt.SequenceScore;
import dev.panopt.tokenizer.EncodeOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code score}: text → log-likelihood, mean log-probability, perplexity, by
 * {@link OptForCausalLM#score}. With truncation the texts are encoded with HF's truncation
 * arguments, to at most {@code max_position_embeddings + 1} tokens by default (the last token is
 * only a target), and their ids scored as given.
 */
final class ScoreRunner {
    private ScoreRunner() {}

    static List<Object[]> run(LoadedModel model, List<String[]> batch, TaskOptions options) {
        OptForCausalLM lm = model.as(OptForCausalLM.class);
        List<String> texts = TaskRunner.first(batch);
        List<SequenceScore> scores;
        if (options.truncation) {
            EncodeOptions e = options.encodeOptions();
            if (options.maxLength == 0) {
                e = e.toBuilder().maxLength(lm.config().maxPositionEmbeddings() + 1).build();
            }
            scores = lm.score(model.tokenizer.encodeBatch(texts, e).inputIds(), scoreOptions(batch, options));
        } else {
            scores = lm.score(model.tokenizer, texts, scoreOptions(batch, options));
        }
        List<Object[]> out = new ArrayList<>(scores.size());
        for (SequenceScore s : scores) {
            out.add(new Object[] {s.sum(), s.mean(), s.perplexity(), s.numScoredTokens()});
        }
        return out;
    }

    /** The batch runs as one forward: it is already one of the partition's length-sorted batches. */
    static ScoreOptions scoreOptions(List<String[]> batch, TaskOptions options) {
        return ScoreOptions.builder().batchSize(batch.size()).addSpecialTokens(options.addSpecialTokens).build();
    }
}
