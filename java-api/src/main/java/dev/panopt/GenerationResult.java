package dev.panopt;

import java.util.List;

/**
 * Everything {@link OptForCausalLM#generate} produced, per prompt row. Immutable; equality is by
 * value (the ids, texts and reasons of every row).
 *
 * @param tokens  the new token ids of each row (rows may differ in length; {@link #tokens(int)} gives a copy)
 * @param texts   the decoded new text of each row (empty strings without a tokenizer)
 * @param reasons why each row ended ({@link FinishReason#UNFINISHED} for a row cut short by closing a
 *                {@link TokenStream} early)
 */
public record GenerationResult(List<int[]> tokens, List<String> texts, List<FinishReason> reasons) {
    public GenerationResult {
        tokens = tokens.stream().map(int[]::clone).toList();
        texts = List.copyOf(texts);
        reasons = List.copyOf(reasons);
    }

    /**
     * @return the new ids of every row (copies)
     */
    @Override
    public List<int[]> tokens() {
        return tokens.stream().map(int[]::clone).toList();
    }

    /**
     * @param row the prompt index
     * @return the new ids of that row (a copy)
     */
    public int[] tokens(int row) {
        return tokens.get(row).clone();
    }

    /**
     * @param row the prompt index
     * @return the new text of that row
     */
    public String text(int row) {
        return texts.get(row);
    }

    /**
     * The new text of a one-prompt call.
     *
     * @return the only row's new text
     * @throws IllegalStateException when the call had several prompts (use {@link #text(int)})
     */
    public String text() {
        if (texts.size() != 1) {
            throw new IllegalStateException("this result has " + texts.size() + " rows: use text(row)");
        }
        return texts.get(0);
    }

    /**
     * @param row the prompt index
     * @return why that row ended ({@link FinishReason#UNFINISHED} if it was cut short)
     */
    public FinishReason reason(int row) {
        return reasons.get(row);
    }

    /** Value equality: the same ids, texts and reasons in every row. */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof GenerationResult r) || r.tokens.size() != tokens.size()) {
            return false;
        }
        for (int i = 0; i < tokens.size(); i++) {
            if (!java.util.Arrays.equals(tokens.get(i), r.tokens.get(i))) {
                return false;
            }
        }
        return texts.equals(r.texts) && reasons.equals(r.reasons);
    }

    @Override
    public int hashCode() {
        int h = 1;
        for (int[] t : tokens) {
            h = 31 * h + java.util.Arrays.hashCode(t);
        }
        return 31 * (31 * h + texts.hashCode()) + reasons.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("GenerationResult[");
        for (int i = 0; i < tokens.size(); i++) {
            b.append(i == 0 ? "" : ", ").append("row ").append(i).append(": tokens=")
                    .append(java.util.Arrays.toString(tokens.get(i))).append(", text=")
                    .append(dev.panopt.internal.Json.write(texts.get(i))).append(", reason=").append(reasons.get(i));
        }
        return b.append(']').toString();
    }
}
