package dev.panopt.spark;

import java.util.List;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * The operations a {@link PanoptTransformer} runs: each with the model class it loads, the columns
 * it adds (besides {@code error}), the options it takes besides the common ones
 * ({@link TaskOptions#COMMON}) and the runner that does the work on an executor.
 */
enum Task {
    GENERATE("generate", ModelKind.CAUSAL_LM, GenerateRunner::run,
            List.of(field("generated_text", DataTypes.StringType), field("finish_reason", DataTypes.StringType),
                    field("num_generated_tokens", DataTypes.IntegerType)),
            List.of("inputCol", "truncation", "maxLength", "truncationSide", "maxNewTokens",
            "minNewTokens", "doSample", "temperature", "topK", "topP", "minP", "typicalP", "epsilonCutoff",
            "repetitionPenalty", "presencePenalty", "frequencyPenalty", "noRepeatNgramSize", "suppressTokens",
            "forcedEosTokenId", "numBeams", "lengthPenalty", "earlyStopping", "eosTokenIds", "stopTokenIds",
            "stopStrings", "seed")),
    CLASSIFY("classify", ModelKind.SEQUENCE_CLASSIFICATION, ClassifyRunner::run,
            List.of(field("label", DataTypes.StringType), field("label_id", DataTypes.IntegerType),
                    field("score", DataTypes.DoubleType),
                    field("scores", DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType, false))),
            List.of("inputCol", "truncation", "maxLength", "truncationSide")),
    SCORE("score", ModelKind.CAUSAL_LM, ScoreRunner::run,
            List.of(field("log_likelihood", DataTypes.DoubleType), field("mean_logprob", DataTypes.DoubleType),
                    field("perplexity", DataTypes.DoubleType), field("num_tokens", DataTypes.IntegerType)),
            List.of("inputCol", "truncation", "maxLength", "truncationSide", "addSpecialTokens")),
    SCORE_CONTINUATIONS("scoreContinuations", ModelKind.CAUSAL_LM, ContinuationRunner::run,
            List.of(field("log_likelihood", DataTypes.DoubleType), field("is_greedy", DataTypes.BooleanType),
                    field("num_tokens", DataTypes.IntegerType)),
            List.of("contextCol", "continuationCol", "truncation", "maxLength", "addSpecialTokens")),
    ANSWER("answer", ModelKind.QUESTION_ANSWERING, AnswerRunner::run,
            List.of(field("answer", DataTypes.StringType), field("start", DataTypes.IntegerType),
                    field("end", DataTypes.IntegerType), field("score", DataTypes.DoubleType)),
            List.of("questionCol", "contextCol", "maxSeqLen", "docStride", "maxQuestionLen", "maxAnswerLen",
                    "spanScore"));

    private final String displayName;
    private final ModelKind modelKind;
    private final TaskRunner runner;
    private final List<StructField> outputFields;
    private final List<String> ownOptions;

    Task(String displayName, ModelKind modelKind, TaskRunner runner, List<StructField> outputFields,
         List<String> ownOptions) {
        this.displayName = displayName;
        this.modelKind = modelKind;
        this.runner = runner;
        this.outputFields = outputFields;
        this.ownOptions = ownOptions;
    }

    private static StructField field(String name, DataType type) {
        return DataTypes.createStructField(name, type, true);
    }

    /** {@return the model class the task loads} */
    ModelKind modelKind() {
        return modelKind;
    }

    /** {@return the task's output columns (before the prefix), without the error column} */
    List<StructField> outputFields() {
        return outputFields;
    }

    /** {@return the options this task takes besides the common ones} */
    List<String> ownOptions() {
        return ownOptions;
    }

    /** {@return the runner of this task} */
    TaskRunner runner() {
        return runner;
    }

    @Override
    public String toString() {
        return displayName;
    }
}
