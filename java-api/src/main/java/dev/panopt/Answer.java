package dev.panopt;

/**
 * An extractive answer from {@link OptForQuestionAnswering#answer}: a span of the context.
 *
 * @param text  {@code context.substring(start, end)}
 * @param start first character of the span in the context (UTF-16 index)
 * @param end   one past its last character
 * @param score p(start) · p(end) under the softmax of the start and end logits over context tokens
 */
public record Answer(String text, int start, int end, double score) {
    /**
     * Checks the text.
     *
     * @param text  the answer text
     * @param start its start offset
     * @param end   its end offset
     * @param score its score
     */
    public Answer {
        java.util.Objects.requireNonNull(text, "text");
    }
}
