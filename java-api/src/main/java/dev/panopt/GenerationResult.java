package dev.panopt;

import java.util.List;

/**
 * Everything {@link OptForCausalLM#generate} produced, per prompt row. Immutable.
 *
 * @param tokens  the new token ids of each row (rows may differ in length)
 * @param texts   the decoded new text of each row (empty strings without a tokenizer)
 * @param reasons why each row ended
 */
public record GenerationResult(List<int[]> tokens, List<String> texts, List<FinishReason> reasons) {
    public GenerationResult {
        tokens = tokens.stream().map(int[]::clone).toList();
        texts = List.copyOf(texts);
        reasons = List.copyOf(reasons);
    }

    /** The new ids of row {@code row} (a copy). */
    public int[] tokens(int row) {
        return tokens.get(row).clone();
    }

    /** The new text of row {@code row}. */
    public String text(int row) {
        return texts.get(row);
    }
}
