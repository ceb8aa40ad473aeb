package dev.panopt;

import java.util.List;

/**
 * Everything {@link OptForCausalLM#generate} produced, per result row: one row per prompt, or with
 * {@link GenerationConfig#numReturnSequences()} n, rows {@code p * n} to {@code p * n + n - 1} for
 * prompt p (beam search: best first). Immutable; equality is by value (the ids, texts, reasons and
 * scores of every row).
 *
 * @param tokens  the new token ids of each row (rows may differ in length; {@link #tokens(int)} gives a copy)
 * @param texts   the decoded new text of each row (empty strings without a tokenizer)
 * @param reasons why each row ended ({@link FinishReason#UNFINISHED} for a row cut short by closing a
 *                {@link TokenStream} early)
 * @param scores  what was measured about each row's tokens (log-probabilities, processed scores, logits,
 *                beam score; see {@link SequenceScores})
 */
public record GenerationResult(List<int[]> tokens, List<String> texts, List<FinishReason> reasons,
                               List<SequenceScores> scores) {
    /**
     * Copies every row's ids and the lists.
     *
     * @param tokens  the new token ids of each row
     * @param texts   the decoded new text of each row
     * @param reasons why each row ended
     * @param scores  what was measured about each row's tokens
     * @throws NullPointerException     if a list or an element is null
     * @throws IllegalArgumentException if the lists differ in length
     */
    public GenerationResult {
        tokens = tokens.stream().map(int[]::clone).toList();
        texts = List.copyOf(texts);
        reasons = List.copyOf(reasons);
        scores = List.copyOf(scores);
        if (texts.size() != tokens.size() || reasons.size() != tokens.size() || scores.size() != tokens.size()) {
            throw new IllegalArgumentException("rows differ: " + tokens.size() + " token rows, " + texts.size()
                    + " texts, " + reasons.size() + " reasons, " + scores.size() + " scores");
        }
    }

    /**
     * A result without scores ({@link SequenceScores#none()} for every row).
     *
     * @param tokens  the new token ids of each row
     * @param texts   the decoded new text of each row
     * @param reasons why each row ended
     * @throws NullPointerException if a list or an element is null
     */
    public GenerationResult(List<int[]> tokens, List<String> texts, List<FinishReason> reasons) {
        this(tokens, texts, reasons, java.util.Collections.nCopies(tokens.size(), SequenceScores.none()));
    }

    /** {@return the new ids of every row (copies)} */
    @Override
    public List<int[]> tokens() {
        return tokens.stream().map(int[]::clone).toList();
    }

    /**
     * {@return the new ids of that row (a copy)}
     *
     * @param row the result row
     */
    public int[] tokens(int row) {
        return tokens.get(row).clone();
    }

    /**
     * {@return the new text of that row}
     *
     * @param row the result row
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
     * {@return why that row ended ({@link FinishReason#UNFINISHED} if it was cut short)}
     *
     * @param row the result row
     */
    public FinishReason reason(int row) {
        return reasons.get(row);
    }

    /**
     * {@return what was measured about that row's tokens}
     *
     * @param row the result row
     */
    public SequenceScores scores(int row) {
        return scores.get(row);
    }

    /**
     * {@return each new token's log-probability in that row (a copy; empty unless
     * {@link GenerationConfig#logprobs()} or beam search)}
     *
     * @param row the result row
     */
    public double[] logprobs(int row) {
        return scores.get(row).logprobs();
    }

    /**
     * {@return beam search's score of that row (HF {@code sequences_scores}); empty for greedy search and sampling}
     *
     * @param row the result row
     */
    public java.util.OptionalDouble sequenceScore(int row) {
        return scores.get(row).sequenceScore();
    }

    /** Value equality: the same ids, texts, reasons and scores in every row. */
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
        return texts.equals(r.texts) && reasons.equals(r.reasons) && scores.equals(r.scores);
    }

    @Override
    public int hashCode() {
        int h = 1;
        for (int[] t : tokens) {
            h = 31 * h + java.util.Arrays.hashCode(t);
        }
        return 31 * (31 * (31 * h + texts.hashCode()) + reasons.hashCode()) + scores.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("GenerationResult[");
        for (int i = 0; i < tokens.size(); i++) {
            b.append(i == 0 ? "" : ", ").append("row ").append(i).append(": tokens=")
                    .append(java.util.Arrays.toString(tokens.get(i))).append(", text=")
                    .append(dev.panopt.internal.Json.write(texts.get(i))).append(", reason=").append(reasons.get(i));
            scores.get(i).sequenceScore().ifPresent(v -> b.append(", score=").append(v));
        }
        return b.append(']').toString();
    }
}
