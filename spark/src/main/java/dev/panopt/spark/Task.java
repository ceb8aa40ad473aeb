package dev.panopt.spark;

import java.util.List;

/**
 * The operations a {@link PanoptTransformer} runs, each with the options it takes besides the
 * common ones ({@link TaskOptions#COMMON}) and the runner that does the work on an executor.
 */
enum Task {
    GENERATE("generate", List.of("inputCol", "maxNewTokens", "minNewTokens", "doSample", "temperature", "topK",
            "topP", "repetitionPenalty", "noRepeatNgramSize", "eosTokenIds", "stopTokenIds", "stopStrings", "seed")),
    CLASSIFY("classify", List.of("inputCol")),
    SCORE("score", List.of("inputCol", "addSpecialTokens")),
    SCORE_CONTINUATIONS("scoreContinuations", List.of("contextCol", "continuationCol", "addSpecialTokens")),
    ANSWER("answer", List.of("questionCol", "contextCol", "maxAnswerTokens"));

    private final String displayName;
    private final List<String> ownOptions;

    Task(String displayName, List<String> ownOptions) {
        this.displayName = displayName;
        this.ownOptions = ownOptions;
    }

    /** {@return the options this task takes besides the common ones} */
    List<String> ownOptions() {
        return ownOptions;
    }

    /** {@return the runner of this task} */
    TaskRunner runner() {
        return switch (this) {
            case GENERATE -> GenerateRunner.INSTANCE;
            case CLASSIFY -> ClassifyRunner.INSTANCE;
            case SCORE -> ScoreRunner.INSTANCE;
            case SCORE_CONTINUATIONS -> ContinuationRunner.INSTANCE;
            case ANSWER -> AnswerRunner.INSTANCE;
        };
    }

    @Override
    public String toString() {
        return displayName;
    }
}
