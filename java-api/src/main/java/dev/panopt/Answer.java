package dev.panopt;

/**
 * An extractive answer from {@link OptForQuestionAnswering#answer}: a span of the context.
 *
 * @param text  {@code context.substring(start, end)}
 * @param start first character of the span in the context (UTF-16 index)
 * @param end   one past its last character
 * @param score the span's score: by default p(start) · p(end) under the softmaxes of the start and end
 *              logits over the context tokens of the span's window (transformers' pipeline score), or
 *              the start and end logits' sum ({@link QuestionAnsweringOptions.SpanScore#LOGIT_SUM})
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
