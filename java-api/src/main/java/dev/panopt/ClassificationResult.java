package dev.panopt;

import java.util.Map;

/**
 * One text's classification by {@link OptForSequenceClassification#classify}: the best label with
 * its score, and the score of every label ({@code id2label} names). Immutable.
 *
 * @param label   the best label's name
 * @param labelId its id
 * @param score   its probability (softmax for single-label models, sigmoid for multi-label and
 *                one-output models, as HF's text-classification pipeline does)
 * @param scores  every label's score, in id order
 */
public record ClassificationResult(String label, int labelId, double score, Map<String, Double> scores) {
    /**
     * Copies {@code scores} into an unmodifiable map that keeps its iteration order.
     *
     * @param label   the best label's name
     * @param labelId its id
     * @param score   its probability
     * @param scores  every label's score, in id order
     */
    public ClassificationResult {
        java.util.Objects.requireNonNull(label, "label");
        scores = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(scores));
    }
}
