package dev.panopt.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.panopt.GenerationConfig;
import dev.panopt.Isa;
import dev.panopt.Quantization;
import dev.panopt.QuestionAnsweringOptions;
import dev.panopt.tokenizer.EncodeOptions;
import dev.panopt.tokenizer.TruncationSide;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The options of one task, checked and parsed on the driver (so a bad value fails before any job)
 * and carried to the executors with the job. Keys are matched without regard to case, as Spark's
 * own data source options are. Immutable.
 */
final class TaskOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Options every task takes. */
    static final List<String> COMMON = List.of("model", "tokenizer", "quantization", "batchSize", "sortWindow",
            "threads", "isa", "modelCopy", "outputPrefix");

    /** When the model files are copied to the executor's disk (see {@link ModelFiles}). */
    enum ModelCopy { AUTO, ALWAYS, NEVER }

    final Task task;
    /** The options as given, under their canonical names, for {@link PanoptTransformer#options()}. */
    final Map<String, String> raw;
    final String model;
    final String tokenizer;
    /** The name of the {@link Quantization} preset the weights are converted to on load (checked here). */
    final String quantization;
    final int batchSize;
    final int sortWindow;
    /** Native threads of the executor's model; 0 = the executor's task cores ({@link ExecutorCores}). */
    final int threads;
    final Isa isa;
    final ModelCopy modelCopy;
    final String outputPrefix;
    /** The input columns, in the order the task's runner takes them. */
    final List<String> inputColumns;
    final boolean addSpecialTokens;
    /** HF's {@code truncation}: cut an input longer than the model takes instead of making it the row's error. */
    final boolean truncation;
    /** HF's {@code max_length} of truncation; 0 = what the model takes. */
    final int maxLength;
    /** The end truncation cuts: right (HF's default), except for generate, where left keeps the prompt's end. */
    final TruncationSide truncationSide;
    private transient GenerationConfig generationConfig;
    private transient QuestionAnsweringOptions questionAnsweringOptions;

    private TaskOptions(Task task, Map<String, String> raw) {
        this.task = task;
        this.raw = raw;
        String m = raw.get("model");
        if (m == null || m.isBlank()) {
            throw new IllegalArgumentException("option model is required: the checkpoint directory (a local, HDFS, S3 "
                    + "or other Hadoop path), e.g. .option(\"model\", \"hdfs:///models/opt-125m\")");
        }
        this.model = m;
        this.tokenizer = raw.getOrDefault("tokenizer", m);
        try {
            this.quantization = Quantization.named(raw.getOrDefault("quantization", "NONE")).name();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("option quantization: " + e.getMessage(), e);
        }
        this.batchSize = intOption("batchSize", 8, 1);
        this.sortWindow = intOption("sortWindow", 16 * batchSize, 1);
        if (sortWindow < batchSize) {
            throw new IllegalArgumentException("option sortWindow (" + sortWindow + " rows) must be at least batchSize ("
                    + batchSize + ")");
        }
        this.threads = intOption("threads", 0, 0);
        this.isa = enumOption("isa", Isa.class, Isa.AUTO);
        this.modelCopy = enumOption("modelCopy", ModelCopy.class, ModelCopy.AUTO);
        this.outputPrefix = raw.getOrDefault("outputPrefix", "");
        this.inputColumns = switch (task) {
            case GENERATE, CLASSIFY, SCORE -> List.of(raw.getOrDefault("inputCol", "text"));
            case SCORE_CONTINUATIONS -> List.of(raw.getOrDefault("contextCol", "context"),
                    raw.getOrDefault("continuationCol", "continuation"));
            case ANSWER -> List.of(raw.getOrDefault("questionCol", "question"), raw.getOrDefault("contextCol", "context"));
        };
        this.addSpecialTokens = booleanOption("addSpecialTokens", true);
        this.truncation = booleanOption("truncation", false);
        this.maxLength = intOption("maxLength", 0, 1);
        this.truncationSide = enumOption("truncationSide", TruncationSide.class,
                task == Task.GENERATE ? TruncationSide.LEFT : TruncationSide.RIGHT);
        if (task == Task.GENERATE) {
            generationConfig = buildGenerationConfig();
        }
        if (task == Task.ANSWER) {
            questionAnsweringOptions = buildQuestionAnsweringOptions();
        }
    }

    /**
     * Checks and parses options given by name.
     *
     * @throws IllegalArgumentException naming the option if a name is unknown to the task or a value is invalid
     */
    static TaskOptions parse(Task task, Map<String, String> given) {
        Objects.requireNonNull(task, "task");
        Map<String, String> raw = new LinkedHashMap<>();
        given.forEach((k, v) -> raw.put(canonicalKey(task, k), Objects.requireNonNull(v, () -> "option " + k)));
        return new TaskOptions(task, Collections.unmodifiableMap(raw));
    }

    /**
     * The task's own spelling of an option name, found without regard to case.
     *
     * @throws IllegalArgumentException if the task has no such option
     */
    static String canonicalKey(Task task, String key) {
        Objects.requireNonNull(key, "key");
        return Stream.concat(COMMON.stream(), task.ownOptions().stream())
                .filter(k -> k.equalsIgnoreCase(key))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown option '" + key + "' for " + task + "; known: "
                        + String.join(", ", COMMON) + ", " + String.join(", ", task.ownOptions())));
    }

    /**
     * The generation config of a generate task, built from its options. It is not serializable, so an
     * executor builds it again from the options it received (the driver has checked them).
     */
    GenerationConfig generationConfig() {
        if (generationConfig == null) {
            generationConfig = buildGenerationConfig();
        }
        return generationConfig;
    }

    /** The question-answering options of an answer task (rebuilt on an executor, as {@link #generationConfig()}). */
    QuestionAnsweringOptions questionAnsweringOptions() {
        if (questionAnsweringOptions == null) {
            questionAnsweringOptions = buildQuestionAnsweringOptions();
        }
        return questionAnsweringOptions;
    }

    /**
     * How the text helpers encode this task's inputs: HF's truncation arguments when {@code truncation}
     * is on, the helpers' defaults otherwise.
     */
    EncodeOptions encodeOptions() {
        if (!truncation) {
            return EncodeOptions.defaults();
        }
        EncodeOptions.Builder b = EncodeOptions.builder().addSpecialTokens(addSpecialTokens).truncation(true)
                .truncationSide(truncationSide);
        if (maxLength > 0) {
            b.maxLength(maxLength);
        }
        return b.build();
    }

    /** Whether the task draws random tokens without a seed, so a row's result may differ between runs. */
    boolean isNondeterministic() {
        return task == Task.GENERATE && generationConfig().doSample() && generationConfig().seed().isEmpty();
    }

    private GenerationConfig buildGenerationConfig() {
        GenerationConfig.Builder b = GenerationConfig.builder();
        b.maxNewTokens(intOption("maxNewTokens", 20, 1));
        b.minNewTokens(intOption("minNewTokens", 0, 0));
        b.doSample(booleanOption("doSample", false));
        // The builder checks the ranges; an option not given keeps HF's default.
        ifPresent("temperature", k -> b.temperature(doubleOption(k)));
        ifPresent("topK", k -> b.topK(intOption(k, 0, Integer.MIN_VALUE)));
        ifPresent("topP", k -> b.topP(doubleOption(k)));
        ifPresent("minP", k -> b.minP(doubleOption(k)));
        ifPresent("typicalP", k -> b.typicalP(doubleOption(k)));
        ifPresent("epsilonCutoff", k -> b.epsilonCutoff(doubleOption(k)));
        ifPresent("repetitionPenalty", k -> b.repetitionPenalty(doubleOption(k)));
        ifPresent("presencePenalty", k -> b.presencePenalty(doubleOption(k)));
        ifPresent("frequencyPenalty", k -> b.frequencyPenalty(doubleOption(k)));
        ifPresent("noRepeatNgramSize", k -> b.noRepeatNgramSize(intOption(k, 0, Integer.MIN_VALUE)));
        ifPresent("suppressTokens", k -> b.suppressTokens(intList(k)));
        ifPresent("forcedEosTokenId", k -> b.forcedEosTokenId(intList(k)));
        ifPresent("numBeams", k -> b.numBeams(intOption(k, 1, Integer.MIN_VALUE)));
        ifPresent("lengthPenalty", k -> b.lengthPenalty(doubleOption(k)));
        ifPresent("earlyStopping", k -> b.earlyStopping(enumOption(k, GenerationConfig.EarlyStopping.class, null)));
        if (raw.containsKey("eosTokenIds")) {
            b.eosTokenIds(intList("eosTokenIds"));
        }
        if (raw.containsKey("stopTokenIds")) {
            b.stopTokenIds(intList("stopTokenIds"));
        }
        if (raw.containsKey("stopStrings")) {
            b.stopStrings(stringList("stopStrings"));
        }
        if (raw.containsKey("seed")) {
            b.seed(longOption("seed"));
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid generation options: " + e.getMessage(), e);
        }
    }

    private QuestionAnsweringOptions buildQuestionAnsweringOptions() {
        QuestionAnsweringOptions.Builder b = QuestionAnsweringOptions.builder();
        ifPresent("maxSeqLen", k -> b.maxSeqLen(intOption(k, 0, Integer.MIN_VALUE)));
        ifPresent("docStride", k -> b.docStride(intOption(k, 0, Integer.MIN_VALUE)));
        ifPresent("maxQuestionLen", k -> b.maxQuestionLen(intOption(k, 0, Integer.MIN_VALUE)));
        ifPresent("maxAnswerLen", k -> b.maxAnswerLen(intOption(k, 0, Integer.MIN_VALUE)));
        ifPresent("spanScore", k -> b.spanScore(enumOption(k, QuestionAnsweringOptions.SpanScore.class, null)));
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid question-answering options: " + e.getMessage(), e);
        }
    }

    /** Sets a builder field from an option that was given; HF's default stays otherwise. */
    private void ifPresent(String key, java.util.function.Consumer<String> set) {
        if (raw.containsKey(key)) {
            try {
                set.accept(key);
            } catch (IllegalArgumentException e) {
                throw e.getMessage() != null && e.getMessage().startsWith("option ") ? e
                        : new IllegalArgumentException("option " + key + ": " + e.getMessage(), e);
            }
        }
    }

    private int intOption(String key, int dflt, int min) {
        String v = raw.get(key);
        if (v == null) {
            return dflt;
        }
        int n;
        try {
            n = Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + key + " must be an integer, got '" + v + "'");
        }
        if (n < min) {
            throw new IllegalArgumentException("option " + key + " must be at least " + min + ", got " + n);
        }
        return n;
    }

    private long longOption(String key) {
        String v = raw.get(key);
        try {
            return Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + key + " must be an integer, got '" + v + "'");
        }
    }

    private double doubleOption(String key) {
        String v = raw.get(key);
        try {
            return Double.parseDouble(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + key + " must be a number, got '" + v + "'");
        }
    }

    private boolean booleanOption(String key, boolean dflt) {
        String v = raw.get(key);
        if (v == null) {
            return dflt;
        }
        return switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("option " + key + " must be true or false, got '" + v + "'");
        };
    }

    private <E extends Enum<E>> E enumOption(String key, Class<E> type, E dflt) {
        String v = raw.get(key);
        if (v == null) {
            return dflt;
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(v.strip())) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name().toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException("option " + key + " must be one of " + String.join(", ", names) + ", got '"
                + v + "'");
    }

    /** A comma-separated list of token ids, e.g. {@code "2, 50118"}. */
    private int[] intList(String key) {
        String v = raw.get(key);
        String[] parts = v.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("option " + key + " must be comma-separated token ids, got '" + v + "'");
            }
            if (out[i] < 0) {
                throw new IllegalArgumentException("option " + key + " has a negative token id: '" + v + "'");
            }
        }
        return out;
    }

    /** A JSON array of strings, e.g. {@code ["\n\n", "###"]}: stop strings may hold commas and newlines. */
    private String[] stringList(String key) {
        String v = raw.get(key);
        String[] out;
        try {
            out = new ObjectMapper().readValue(v, String[].class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("option " + key + " must be a JSON array of strings, e.g. [\"\\n\", \"###\"]"
                    + ", got '" + v + "'");
        }
        if (out == null) {
            throw new IllegalArgumentException("option " + key + " must be a JSON array of strings, got null");
        }
        for (String s : out) {
            if (s == null) {
                throw new IllegalArgumentException("option " + key + " holds a null; stop strings are non-empty strings");
            }
        }
        return out;
    }
}
