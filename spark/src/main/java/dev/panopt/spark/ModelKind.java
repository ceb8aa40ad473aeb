package dev.panopt.spark;

import dev.panopt.LoadOptions;
import dev.panopt.OptForCausalLM;
import dev.panopt.OptForQuestionAnswering;
import dev.panopt.OptForSequenceClassification;
import dev.panopt.OptPreTrainedModel;
import java.io.IOException;
import java.nio.file.Path;

/** The model class a task loads. */
enum ModelKind {
    CAUSAL_LM,
    SEQUENCE_CLASSIFICATION,
    QUESTION_ANSWERING;

    /** Loads a checkpoint directory as this kind of model. */
    OptPreTrainedModel load(Path directory, LoadOptions options) throws IOException {
        return switch (this) {
            case CAUSAL_LM -> OptForCausalLM.fromPretrained(directory, options);
            case SEQUENCE_CLASSIFICATION -> OptForSequenceClassification.fromPretrained(directory, options);
            case QUESTION_ANSWERING -> OptForQuestionAnswering.fromPretrained(directory, options);
        };
    }
}
